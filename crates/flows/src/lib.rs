//! The flows file: the traffic a cluster is meant to carry, declared once.
//!
//! [`parse_flows`] reads it (errors name file, line and field); [`expand`]
//! holds it against a [`netpol_model::Cluster`], resolving endpoints to pods
//! or addresses and ports to what each pod actually receives; [`generate`]
//! writes default-deny and allow policies exactly as wide as the flows;
//! [`verify`] asks the engine whether a set of policies implements them.

mod evidence;
mod expand;
mod extras;
mod file;
mod generate;
mod guardrails;
mod ingress;
mod missing;
mod parse;
mod select;
mod shape;
mod spec;
mod suggest;
mod verify;
mod yaml_out;

pub use evidence::{WouldBreak, check_evidence, would_break};
pub use expand::{
    Block, Coverage, Destinations, DstEndpoint, ExpandedFlow, Expansion, Finding, PodPeer, PodSet,
    PortSel, Severity, Sources, dns_flow, expand,
};
pub use file::{
    ApiServer, ClusterSettings, DefaultDeny, Flow, FlowsFile, Guardrail, Guardrails, PortValue,
    Ports, json_schema,
};
pub use generate::{
    FLOW_ANNOTATION, GenPolicy, GenRule, Generated, HEADER, MANAGED_BY, MANAGED_BY_LABEL,
    PURPOSE_ANNOTATION, Peer, generate,
};
pub use guardrails::{GUARDRAILS_FILE, GuardrailDefs};
pub use parse::{
    ClusterAddresses, FlowDef, Flows, FlowsError, FlowsErrors, parse_flows, read_flows, slug,
};
pub use select::{ByNamespace, Selection, workload_selector, workload_selector_in};
pub use spec::{EndpointSpec, INGRESS_BACKENDS, PortSpec, parse_endpoint, parse_port_text};
pub use verify::{
    EXTRA_LISTED, Extra, MISSING_LISTED, Missing, OpenNamespace, Report, verify, verify_with,
};
