//! What a finding is, and the catalog of rules with their stable ids.

use std::fmt;

use netpol_model::Origin;
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
/// Ordered from least to most severe, so `>=` compares thresholds.
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A rule of the catalog: its id never changes once published.
#[derive(Debug, PartialEq, Eq, Serialize)]
pub struct RuleInfo {
    pub id: &'static str,
    pub name: &'static str,
    /// The severity most of its findings carry.
    pub severity: Severity,
    pub summary: &'static str,
    /// Why it matters and how to fix it, for SARIF `help` and `--explain`-like output.
    pub help: &'static str,
}

pub const CATALOG: &[RuleInfo] = &[
    RuleInfo {
        id: "NP001",
        name: "policy-selects-no-pod",
        severity: Severity::Warning,
        summary: "The policy's podSelector selects no pod in its namespace",
        help: "A policy that selects nothing has no effect. Check the podSelector labels against the pod template labels, and the policy's namespace. A `podSelector: {}` policy in a namespace that has no pods yet is not reported: it applies to the pods created there later.",
    },
    RuleInfo {
        id: "NP002",
        name: "peer-selects-nothing",
        severity: Severity::Warning,
        summary: "A from/to peer's selectors match no pod or no namespace",
        help: "A peer that matches nothing allows nothing. Check the podSelector labels against the pods, and that the namespaceSelector matches the namespace the pods run in (a podSelector alone means the policy's own namespace).",
    },
    RuleInfo {
        id: "NP003",
        name: "namespace-without-default-deny",
        severity: Severity::Warning,
        summary: "A namespace with workloads has no default-deny ingress policy",
        help: "Without a policy that selects every pod (`podSelector: {}`) with no ingress rules, pods no policy selects accept traffic from anywhere, including pods added later. Add a default-deny policy and allow what is needed.",
    },
    RuleInfo {
        id: "NP004",
        name: "namespace-label-unknown",
        severity: Severity::Warning,
        summary: "A namespaceSelector uses a label no namespace has",
        help: "Namespaces carry `kubernetes.io/metadata.name: <name>` automatically; a label such as `name` exists only if someone sets it. Select namespaces by `kubernetes.io/metadata.name` or label them.",
    },
    RuleInfo {
        id: "NP005",
        name: "named-port-undeclared",
        severity: Severity::Warning,
        summary: "A named port no destination pod declares",
        help: "Named ports resolve on the destination pod, by container port name and protocol. If no destination pod declares the name, the port entry allows nothing. Fix the name or declare it in the pod template.",
    },
    RuleInfo {
        id: "NP006",
        name: "service-port-not-pod-port",
        severity: Severity::Warning,
        summary: "A numeric port is a Service port, not a port the pods listen on",
        help: "NetworkPolicy sees traffic after the Service has translated it: the port that matters is the Service's targetPort (the container port), not the Service port. Use the container port or its name.",
    },
    RuleInfo {
        id: "NP007",
        name: "allow-all-rule",
        severity: Severity::Warning,
        summary: "A rule with no peers and no ports allows everything and makes the other rules pointless",
        help: "A rule without from/to and without ports (`ingress: [{}]`) allows every connection in its direction for the selected pods, so the other rules of that direction add nothing. Remove it or restrict it.",
    },
    RuleInfo {
        id: "NP008",
        name: "redundant-rule",
        severity: Severity::Info,
        summary: "A rule duplicates, or is covered by, another rule of the same policy",
        help: "Rules are ORed: a rule whose peers and ports are all covered by another rule adds nothing. Remove it, or fix it if it was meant to allow something else.",
    },
    RuleInfo {
        id: "NP009",
        name: "egress-without-dns",
        severity: Severity::Warning,
        summary: "Egress isolation without DNS allowed",
        help: "Once a pod's egress is isolated, name resolution is blocked unless a rule allows port 53 (UDP, and TCP for large answers) to the cluster DNS, usually `namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}` with `podSelector: {matchLabels: {k8s-app: kube-dns}}`.",
    },
    RuleInfo {
        id: "NP010",
        name: "ipblock-covers-cluster-addresses",
        severity: Severity::Warning,
        summary: "An ipBlock covers pod or node addresses, or a Service ClusterIP",
        help: "ipBlock is meant for addresses outside the cluster. Policies see pod IPs after Service translation, so a ClusterIP never matches; pod IPs change when pods restart; node traffic is handled by the implementation. Use podSelector/namespaceSelector for pods.",
    },
    RuleInfo {
        id: "NP011",
        name: "rules-ignored-by-policy-types",
        severity: Severity::Error,
        summary: "Rules for a direction that policyTypes does not list are ignored",
        help: "With an explicit policyTypes, the rules of a direction it does not list are ignored entirely. Add the direction to policyTypes or delete the rules.",
    },
    RuleInfo {
        id: "NP012",
        name: "policy-selects-host-network",
        severity: Severity::Warning,
        summary: "The policy's podSelector picks hostNetwork pods, which policies do not affect",
        help: "Pods with hostNetwork: true share the node's network namespace; NetworkPolicies neither isolate them nor match them with pod selectors. Protect them with host firewall rules, or refer to them with an ipBlock of the node address. A `podSelector: {}` policy, such as a default-deny, is not reported: it selects every pod of the namespace by design.",
    },
    RuleInfo {
        id: "NP013",
        name: "no-policies",
        severity: Severity::Info,
        summary: "The input has workloads but no NetworkPolicy",
        help: "Without NetworkPolicies every pod accepts and sends any traffic. Start with a default-deny policy per namespace and allow the flows you need (`netpol generate` can derive them from a flows file).",
    },
    RuleInfo {
        id: "NP014",
        name: "tier-rule-shadowed",
        severity: Severity::Warning,
        summary: "A ClusterNetworkPolicy rule never decides: earlier rules of its tier decide every connection it matches",
        help: "Within a tier, policies are evaluated by priority (lower first) and rules in the order written; the first rule that matches decides. A rule whose every connection an earlier rule (of the same policy, or of a policy with a lower priority value) already matches has no effect. Move it up, give its policy a lower priority value, or delete it.",
    },
    RuleInfo {
        id: "NP015",
        name: "tier-same-priority-overlap",
        severity: Severity::Warning,
        summary: "Two ClusterNetworkPolicies of one tier with the same priority select the same pods",
        help: "The API leaves the order of equal priorities undefined: \"the implementation can apply any of the matching policies to the connection\". netpol evaluates them by name, a cluster may not. Give the policies different priorities.",
    },
    RuleInfo {
        id: "NP016",
        name: "baseline-deny-decided-by-networkpolicy",
        severity: Severity::Info,
        summary: "A Baseline Deny rule whose pods NetworkPolicies already isolate: it is never reached",
        help: "NetworkPolicy decides for the pods it selects, and the Baseline tier is evaluated only for pods no NetworkPolicy selects in that direction. A Baseline Deny over pods that are all isolated has no effect; put the guardrail in the Admin tier if it must hold whatever the NetworkPolicies say.",
    },
    RuleInfo {
        id: "NP017",
        name: "tier-domain-names",
        severity: Severity::Info,
        summary: "A ClusterNetworkPolicy rule matches domainNames, which cannot be decided offline",
        help: "Whether a domain name resolves to an address is known only at run time. netpol reports connections that depend on such a rule as undecidable and never guesses; the rule has no effect on connections between cluster endpoints.",
    },
];

pub fn rule_info(id: &str) -> &'static RuleInfo {
    CATALOG
        .iter()
        .find(|r| r.id == id)
        .expect("rule ids come from the catalog")
}

/// A file and a 1-based line.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Location {
    pub file: String,
    pub line: usize,
}

impl Location {
    pub fn at(origin: &Origin, line: usize) -> Location {
        Location {
            file: origin.file.to_string(),
            // A line of 0 would mean "unknown"; fall back to the object's own line.
            line: if line == 0 { origin.line } else { line },
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub id: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    pub message: String,
    pub hint: String,
    pub location: Location,
    /// `namespace/name` of the policy concerned, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
}

impl Finding {
    pub fn new(
        id: &'static str,
        location: Location,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> Finding {
        let info = rule_info(id);
        Finding {
            id,
            name: info.name,
            severity: info.severity,
            message: message.into(),
            hint: hint.into(),
            location,
            policy: None,
        }
    }

    pub fn severity(mut self, severity: Severity) -> Finding {
        self.severity = severity;
        self
    }

    pub fn policy(mut self, id: String) -> Finding {
        self.policy = Some(id);
        self
    }

    pub(crate) fn sort_key(&self) -> (&str, usize, &str, &str) {
        (
            &self.location.file,
            self.location.line,
            self.id,
            &self.message,
        )
    }
}
