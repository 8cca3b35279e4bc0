//! Reading a flows file: YAML with field lines, `shape` (serde, field by
//! field) for the structure, `spec` for the strings. Every problem names
//! file, line and field, all of them at once; a file with any problem
//! yields nothing.

use std::collections::BTreeSet;

use ipnet::IpNet;
use netpol_model::yaml::{LineIndex, parse_single_document};

use crate::file::{DefaultDeny, Flow, FlowsFile, PortValue};
use crate::shape::shape;
use crate::spec::{EndpointSpec, PortSpec, parse_endpoint, parse_port_number, parse_port_text};

/// Flows-file problems are reported like manifest problems: file, line, field.
pub use netpol_model::{Diagnostic as FlowsError, LoadErrors as FlowsErrors};

/// The cluster's address ranges, parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterAddresses {
    pub pod: Vec<IpNet>,
    pub service: Vec<IpNet>,
    pub nodes: Vec<IpNet>,
    pub apiserver: Vec<IpNet>,
    pub apiserver_port: u16,
}

/// A validated flows file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flows {
    pub file: String,
    pub default_deny: DefaultDeny,
    pub allow_dns: bool,
    pub unmanaged: BTreeSet<String>,
    pub cluster: ClusterAddresses,
    pub flows: Vec<FlowDef>,
    pub guardrails: crate::guardrails::GuardrailDefs,
}

impl Flows {
    pub fn egress(&self) -> bool {
        self.default_deny.egress()
    }

    pub fn managed(&self, namespace: &str) -> bool {
        !self.unmanaged.contains(namespace)
    }
}

/// One flow with its strings given meaning.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowDef {
    pub from: EndpointSpec,
    pub to: EndpointSpec,
    pub ports: Vec<PortSpec>,
    pub purpose: String,
    /// Slug used in policy names.
    pub name: String,
    /// `flows[3]`, or `allowDns` for the implicit DNS flow.
    pub field: String,
    pub line: usize,
}

impl FlowDef {
    pub fn ports_text(&self) -> String {
        self.ports
            .iter()
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// `from -> to on ports`, the flow as one line.
    pub fn summary(&self) -> String {
        format!("{} -> {} on {}", self.from, self.to, self.ports_text())
    }
}

pub fn parse_flows(file: &str, text: &str) -> Result<Flows, FlowsErrors> {
    let err = |line: usize, field: Option<String>, message: String| FlowsError {
        file: file.to_string(),
        document: 0,
        line,
        object: None,
        field,
        message,
    };
    // A second document is refused as it starts: it could be an alias bomb.
    let doc = parse_single_document(text)
        .map_err(|e| FlowsErrors(vec![err(e.line, None, e.message)]))?
        .ok_or_else(|| {
            FlowsErrors(vec![err(
                0,
                None,
                "the file is empty: expected a mapping with `flows:`".into(),
            )])
        })?;
    let doc = &doc;
    let (shaped, problems) = shape(&doc.value);
    let mut errors: Vec<FlowsError> = problems
        .into_iter()
        .map(|p| {
            let field = (!p.path.is_empty()).then(|| p.path.clone());
            err(doc.lines.line(&p.path), field, p.message)
        })
        .collect();
    let Some(shaped) = shaped else {
        return Err(FlowsErrors(errors));
    };
    // The well-shaped parts are checked too, so one run lists every problem.
    let checked = validate(file, shaped.file, &shaped.flows, &doc.lines);
    match checked {
        Ok(flows) if errors.is_empty() => Ok(flows),
        Ok(_) => Err(FlowsErrors(errors)),
        Err(FlowsErrors(more)) => {
            errors.extend(more);
            // By line; stable, so one line's problems keep their field order.
            errors.sort_by_key(|e| e.line);
            Err(FlowsErrors(errors))
        }
    }
}

fn validate(
    file: &str,
    raw: FlowsFile,
    raw_flows: &[(usize, Flow)],
    lines: &LineIndex,
) -> Result<Flows, FlowsErrors> {
    let mut errors = Vec::new();
    let mut error = |field: String, message: String| {
        errors.push(FlowsError {
            file: file.to_string(),
            document: 0,
            line: lines.line(&field),
            object: None,
            field: Some(field),
            message,
        });
    };
    let mut cidrs = |field: &str, list: &[String]| -> Vec<IpNet> {
        let mut out = Vec::new();
        for (i, s) in list.iter().enumerate() {
            match s
                .parse::<IpNet>()
                .or_else(|_| s.parse::<std::net::IpAddr>().map(IpNet::from))
            {
                Ok(n) if n.trunc() == n => out.push(n),
                Ok(n) => error(
                    format!("{field}[{i}]"),
                    format!("{s} has host bits set; did you mean {}?", n.trunc()),
                ),
                Err(_) => error(
                    format!("{field}[{i}]"),
                    format!("{s:?} is not a CIDR or an IP address"),
                ),
            }
        }
        out
    };
    let pod = cidrs("cluster.podCIDRs", &raw.cluster.pod_cidrs);
    let service = cidrs("cluster.serviceCIDRs", &raw.cluster.service_cidrs);
    let nodes = cidrs("cluster.nodeCIDRs", &raw.cluster.node_cidrs);
    let apiserver = match &raw.cluster.apiserver.addresses {
        Some(list) => cidrs("cluster.apiserver.addresses", list),
        None => nodes.clone(),
    };
    if raw.cluster.apiserver.port == 0 {
        error(
            "cluster.apiserver.port".into(),
            "port 0 is not between 1 and 65535".into(),
        );
    }
    for (i, ns) in raw.unmanaged_namespaces.iter().enumerate() {
        if parse_endpoint(ns).ok() != Some(EndpointSpec::Namespace(ns.clone())) {
            error(
                format!("unmanagedNamespaces[{i}]"),
                format!("{ns:?} is not a namespace name"),
            );
        }
    }
    let mut flows = Vec::new();
    for (i, f) in raw_flows.iter().map(|(i, f)| (*i, f)) {
        let field = format!("flows[{i}]");
        let from = parse_endpoint(&f.from)
            .map_err(|e| error(format!("{field}.from"), e))
            .ok();
        let to = parse_endpoint(&f.to)
            .map_err(|e| error(format!("{field}.to"), e))
            .ok();
        let mut ports = Vec::new();
        let many = matches!(f.ports, crate::file::Ports::Many(_));
        for (j, p) in f.ports.items().into_iter().enumerate() {
            let pfield = if many {
                format!("{field}.ports[{j}]")
            } else {
                format!("{field}.ports")
            };
            let parsed = match p {
                PortValue::Number(n) => parse_port_number(*n),
                PortValue::Text(t) => parse_port_text(t),
            };
            match parsed {
                Ok(p) => ports.push(p),
                Err(e) => error(pfield, e),
            }
        }
        if f.purpose.trim().is_empty() {
            error(
                format!("{field}.purpose"),
                "say why this traffic exists: it annotates the generated policies".into(),
            );
        }
        let name = match &f.name {
            Some(n) => {
                let s = slug(n);
                if s.is_empty() || s != *n {
                    error(
                        format!("{field}.name"),
                        format!(
                            "{n:?} must be lowercase letters, digits and '-' (e.g. {:?})",
                            slug(n)
                        ),
                    );
                }
                s
            }
            None => slug(&f.purpose),
        };
        if let (Some(from), Some(to)) = (from, to) {
            if let EndpointSpec::IngressBackends { .. } = from {
                error(
                    format!("{field}.from"),
                    "ingress-backends is a destination: the pods the Ingresses route to".into(),
                );
            }
            if ports.contains(&PortSpec::Backend)
                && !matches!(to, EndpointSpec::IngressBackends { .. })
            {
                error(
                    format!("{field}.ports"),
                    format!(
                        "ports: backend only means something with to: ingress-backends, not {to}"
                    ),
                );
            }
            if !from.is_pods() && !to.is_pods() {
                error(
                    field.clone(),
                    format!(
                        "{from} -> {to}: neither end is a pod, so no NetworkPolicy can say anything about it"
                    ),
                );
            }
            ports.sort();
            ports.dedup();
            if ports.contains(&PortSpec::Any) {
                ports = vec![PortSpec::Any];
            }
            flows.push(FlowDef {
                from,
                to,
                ports,
                purpose: f.purpose.trim().to_string(),
                name: if name.is_empty() {
                    format!("flow-{}", i + 1)
                } else {
                    name
                },
                line: lines.line(&field),
                field,
            });
        }
    }
    let guardrails = crate::guardrails::validate(raw.guardrails.as_ref(), lines, &mut error);
    if !errors.is_empty() {
        return Err(FlowsErrors(errors));
    }
    Ok(Flows {
        guardrails,
        file: file.to_string(),
        default_deny: raw.default_deny,
        allow_dns: raw.allow_dns,
        unmanaged: raw.unmanaged_namespaces.into_iter().collect(),
        cluster: ClusterAddresses {
            pod,
            service,
            nodes,
            apiserver,
            apiserver_port: raw.cluster.apiserver.port,
        },
        flows,
    })
}

/// `External access` -> `external-access`: lowercase, '-' between words, at most 40 characters.
pub fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.truncate(40);
    out.trim_end_matches('-').to_string()
}

/// Reads a flows file from disk.
pub fn read_flows(path: &std::path::Path) -> Result<Flows, FlowsErrors> {
    let name = path.display().to_string();
    let text = netpol_model::read_file(
        path,
        netpol_model::MAX_INPUT_BYTES,
        netpol_model::MAX_INPUT_BYTES,
    )
    .map_err(|message| {
        FlowsErrors(vec![FlowsError {
            file: name.clone(),
            document: 0,
            line: 0,
            object: None,
            field: None,
            message,
        }])
    })?;
    parse_flows(&name, &text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_error(text: &str) -> FlowsError {
        let errs = parse_flows("f.yaml", text).unwrap_err().0;
        assert_eq!(errs.len(), 1, "{errs:?}");
        errs.into_iter().next().unwrap()
    }

    #[test]
    fn reads_the_issue_example() {
        let f = parse_flows(
            "f.yaml",
            "defaultDeny: ingress\nflows:\n  - from: ingress-nginx\n    to: \"*\"\n    ports: service\n    purpose: External access\n  - from: open-webui\n    to: rkllama\n    ports: [8080, 53/udp]\n    purpose: LLM API\n",
        )
        .unwrap();
        assert_eq!(f.flows.len(), 2);
        assert_eq!(f.flows[0].name, "external-access");
        assert_eq!(f.flows[1].line, 7);
        assert_eq!(
            f.flows[1].ports,
            vec![
                PortSpec::Number(53, netpol_model::Protocol::Udp),
                PortSpec::Number(8080, netpol_model::Protocol::Tcp)
            ]
        );
        assert!(f.allow_dns);
        assert_eq!(
            f.cluster.pod,
            vec!["10.42.0.0/16".parse::<IpNet>().unwrap()]
        );
    }

    #[test]
    fn errors_name_line_and_field() {
        let e =
            one_error("flows:\n  - from: a\n    to: b\n    ports: [80, 99999]\n    purpose: x\n");
        assert_eq!((e.line, e.field.as_deref()), (4, Some("flows[0].ports[1]")));
        assert!(e.message.contains("99999"), "{}", e.message);

        let e = one_error(
            "flows:\n  - from: a\n    to: b\n    ports: [80, nope_nope]\n    purpose: x\n",
        );
        assert_eq!(e.field.as_deref(), Some("flows[0].ports[1]"));

        let e = one_error(
            "flows:\n  - from: a\n    to: b\n    ports: 80\n    purpose: x\n    colour: red\n",
        );
        assert_eq!((e.line, e.field.as_deref()), (6, Some("flows[0].colour")));
        assert!(e.message.contains("unknown field"), "{}", e.message);

        let e = one_error("defaultDeny: egress\nflows: []\n");
        assert_eq!((e.line, e.field.as_deref()), (1, Some("defaultDeny")));

        let e = one_error(
            "flows:\n  - from: a\n    to: Not_A_Namespace\n    ports: 80\n    purpose: x\n",
        );
        assert_eq!((e.line, e.field.as_deref()), (3, Some("flows[0].to")));

        let e = one_error("flows:\n  - from: a\n    to: b\n    purpose: x\n");
        assert!(e.message.contains("ports"), "{}", e.message);
        assert_eq!(e.line, 2);

        let e = one_error(
            "flows:\n  - from: external\n    to: 10.0.0.0/8\n    ports: 80\n    purpose: x\n",
        );
        assert_eq!(e.field.as_deref(), Some("flows[0]"));

        let e = one_error("flows:\n  - from: a\n    to: b\n    ports: backend\n    purpose: x\n");
        assert_eq!((e.line, e.field.as_deref()), (4, Some("flows[0].ports")));
        let e = one_error(
            "flows:\n  - from: ingress-backends\n    to: b\n    ports: 80\n    purpose: x\n",
        );
        assert_eq!(e.field.as_deref(), Some("flows[0].from"));
    }

    #[test]
    fn a_second_document_is_refused_before_it_is_parsed() {
        // The second document alone would expand to 10^12 values.
        let mut text = String::from(
            "flows:\n  - from: a\n    to: b\n    ports: 80\n    purpose: x\n---\nl0: &l0 [x, x, x, x, x, x, x, x, x, x]\n",
        );
        for i in 1..12 {
            text.push_str(&format!(
                "l{i}: &l{i} [{}]\n",
                vec![format!("*l{}", i - 1); 10].join(", ")
            ));
        }
        let start = std::time::Instant::now();
        let e = one_error(&text);
        assert!(
            start.elapsed() < std::time::Duration::from_secs(2),
            "{:?}",
            start.elapsed()
        );
        assert_eq!((e.file.as_str(), e.line), ("f.yaml", 7));
        assert!(
            e.message.contains("expected one YAML document"),
            "{}",
            e.message
        );
    }

    #[test]
    fn an_alias_bomb_in_the_flows_file_is_refused() {
        let mut text = String::from("x0: &x0 [a, a, a, a, a, a, a, a, a, a]\n");
        for i in 1..12 {
            text.push_str(&format!(
                "x{i}: &x{i} [{}]\n",
                vec![format!("*x{}", i - 1); 10].join(", ")
            ));
        }
        let start = std::time::Instant::now();
        let e = one_error(&text);
        assert!(
            start.elapsed() < std::time::Duration::from_secs(30),
            "{:?}",
            start.elapsed()
        );
        assert!(e.message.contains("input too large"), "{}", e.message);
    }
}
