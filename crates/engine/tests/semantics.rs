//! One test per rule of `networking.k8s.io/v1` NetworkPolicy semantics, each
//! on a small manifest loaded the way the command line loads it, checking the
//! verdict and what the trace says about it.

use netpol_engine::{Decision, Engine, Party, SideStatus, Verdict};
use netpol_model::{Cluster, Family, LoadOptions, Protocol, Source, load_sources};

use Protocol::{Sctp, Tcp, Udp};

/// Namespaces x (team=a), y (team=b) and z (no labels, not declared), with:
/// - x/a: web pod on node n1, ports http 80, metrics 9090, dns 53/UDP, sig 3868/SCTP
/// - x/b: db pod on n1, ports db 5432, metrics 9100
/// - y/c: web pod on n2, port http 8080
/// - z/d: a Deployment (no IP) on port 80
/// - x/host: host-network pod on n1 (192.168.0.1), port metrics 9100
/// - y/host2: host-network pod on n2 (192.168.0.2)
const BASE: &str = r#"
apiVersion: v1
kind: Namespace
metadata: {name: x, labels: {team: a}}
---
apiVersion: v1
kind: Namespace
metadata: {name: y, labels: {team: b, env: prod}}
---
apiVersion: v1
kind: Pod
metadata: {name: a, namespace: x, labels: {app: a, tier: web}}
spec:
  nodeName: n1
  containers:
  - name: c
    ports:
    - {name: http, containerPort: 80}
    - {name: metrics, containerPort: 9090}
    - {name: dns, containerPort: 53, protocol: UDP}
    - {name: sig, containerPort: 3868, protocol: SCTP}
status: {podIP: 10.0.0.1}
---
apiVersion: v1
kind: Pod
metadata: {name: b, namespace: x, labels: {app: b, tier: db}}
spec:
  nodeName: n1
  containers:
  - name: c
    ports:
    - {name: db, containerPort: 5432}
    - {name: metrics, containerPort: 9100}
status: {podIP: 10.0.0.2}
---
apiVersion: v1
kind: Pod
metadata: {name: c, namespace: y, labels: {app: c, tier: web}}
spec:
  nodeName: n2
  containers:
  - name: c
    ports: [{name: http, containerPort: 8080}]
status: {podIP: 10.0.1.1}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: d, namespace: z}
spec:
  selector: {matchLabels: {app: d}}
  template:
    metadata: {labels: {app: d}}
    spec:
      containers:
      - name: c
        ports: [{containerPort: 80}]
---
apiVersion: v1
kind: Pod
metadata: {name: host, namespace: x, labels: {app: host}}
spec:
  nodeName: n1
  hostNetwork: true
  containers:
  - name: c
    ports: [{name: metrics, containerPort: 9100}]
status: {podIP: 192.168.0.1}
---
apiVersion: v1
kind: Pod
metadata: {name: host2, namespace: y, labels: {app: host2}}
spec:
  nodeName: n2
  hostNetwork: true
  containers: [{name: c}]
status: {podIP: 192.168.0.2}
"#;

fn load(policies: &str) -> Cluster {
    load_file("test.yaml", format!("{BASE}---\n{policies}"))
}

fn load_file(name: &str, text: String) -> Cluster {
    load_sources(
        &[Source {
            name: name.into(),
            text,
        }],
        &LoadOptions::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

fn party(c: &Cluster, s: &str) -> Party {
    match c.endpoint(s) {
        Some(i) => Party::Endpoint(i),
        None => Party::External(
            s.parse()
                .unwrap_or_else(|_| panic!("{s} is neither an endpoint nor an IP")),
        ),
    }
}

fn verdict(c: &Cluster, src: &str, dst: &str, port: u16, protocol: Protocol) -> Verdict {
    let engine = Engine::new(c);
    let v = engine.verdict(party(c, src), party(c, dst), port, protocol);
    // The matrix must say the same wherever it has the cell.
    if let (Party::Endpoint(s), Party::Endpoint(d)) = (party(c, src), party(c, dst)) {
        if let Some(col) = engine
            .matrix()
            .columns
            .iter()
            .find(|col| col.dst == d && col.port == port && col.protocol == protocol)
        {
            assert_eq!(
                col.allowed.contains(s),
                v.allowed,
                "matrix and verdict disagree on {src} -> {dst} {port}/{protocol}"
            );
        }
    }
    v
}

fn allowed(c: &Cluster, src: &str, dst: &str, port: u16, protocol: Protocol) -> bool {
    verdict(c, src, dst, port, protocol).allowed
}

/// Every reason the trace gives, flattened, for substring checks.
fn reasons(v: &Verdict) -> Vec<String> {
    let mut out = Vec::new();
    for side in [&v.egress, &v.ingress] {
        out.push(side.reason.clone());
        for p in &side.policies {
            for r in &p.rules {
                for c in r.peers.iter().chain(&r.ports) {
                    out.push(format!("{} {} {}: {}", p.policy, r.rule, c.item, c.reason));
                }
            }
        }
    }
    out
}

#[track_caller]
fn assert_reason(v: &Verdict, needle: &str) {
    let all = reasons(v);
    assert!(
        all.iter().any(|r| r.contains(needle)),
        "no reason contains {needle:?}:\n{}",
        all.join("\n")
    );
}

const DENY_INGRESS_X: &str = r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-in, namespace: x}
spec:
  podSelector: {}
  policyTypes: [Ingress]
"#;

#[test]
fn without_policies_everything_is_allowed_and_not_isolated() {
    let c = load("");
    let v = verdict(&c, "y/c", "x/a", 80, Tcp);
    assert!(v.allowed);
    assert_eq!(v.decided_by, Decision::Policies);
    assert_eq!(v.egress.status, SideStatus::NotIsolated);
    assert_eq!(v.ingress.status, SideStatus::NotIsolated);
    assert!(allowed(&c, "203.0.113.9", "x/a", 80, Tcp));
    assert!(allowed(&c, "x/a", "203.0.113.9", 443, Tcp));
}

#[test]
fn policy_types_default_to_ingress_and_to_egress_when_an_egress_section_exists() {
    // Only ingress rules, no policyTypes: Ingress only; egress of x/a stays open.
    let c = load(
        r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: only-ingress, namespace: x}
spec:
  podSelector: {matchLabels: {app: a}}
  ingress: [{from: [{podSelector: {matchLabels: {app: b}}}]}]
"#,
    );
    let p = &c.policies[0];
    assert!(p.affects_ingress && !p.affects_egress && !p.policy_types_explicit);
    assert!(allowed(&c, "x/b", "x/a", 80, Tcp));
    assert!(!allowed(&c, "y/c", "x/a", 80, Tcp));
    let v = verdict(&c, "x/a", "y/c", 8080, Tcp);
    assert!(v.allowed);
    assert_eq!(v.egress.status, SideStatus::NotIsolated);

    // An egress section without policyTypes: both directions, and no ingress rule means none allowed.
    let c = load(
        r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: with-egress, namespace: x}
spec:
  podSelector: {matchLabels: {app: a}}
  egress: [{to: [{podSelector: {matchLabels: {app: b}}}]}]
"#,
    );
    assert!(c.policies[0].affects_ingress && c.policies[0].affects_egress);
    assert!(allowed(&c, "x/a", "x/b", 5432, Tcp));
    assert!(!allowed(&c, "x/a", "y/c", 8080, Tcp));
    let v = verdict(&c, "x/b", "x/a", 80, Tcp);
    assert!(!v.allowed);
    assert_eq!(v.ingress.status, SideStatus::Denied);
    assert_reason(&v, "isolated by 1 policy and no rule allows it");
}

#[test]
fn rules_of_a_direction_not_in_policy_types_are_ignored() {
    let c = load(
        r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: egress-only, namespace: x}
spec:
  podSelector: {matchLabels: {app: a}}
  policyTypes: [Egress]
  ingress: [{from: [{podSelector: {matchLabels: {app: b}}}]}]
  egress: [{to: [{podSelector: {matchLabels: {app: b}}}]}]
"#,
    );
    // The ingress rule would restrict sources to x/b; it is ignored, so ingress is open.
    let v = verdict(&c, "y/c", "x/a", 80, Tcp);
    assert!(v.allowed);
    assert_eq!(v.ingress.status, SideStatus::NotIsolated);
    assert!(!allowed(&c, "x/a", "y/c", 8080, Tcp));

    let c = load(
        r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: ingress-only, namespace: x}
spec:
  podSelector: {matchLabels: {app: a}}
  policyTypes: [Ingress]
  ingress: [{}]
  egress: []
"#,
    );
    assert!(
        allowed(&c, "x/a", "y/c", 8080, Tcp),
        "egress: [] does not isolate when Egress is not in policyTypes"
    );
}

#[test]
fn empty_pod_selector_selects_every_pod_of_the_policy_namespace_only() {
    let c = load(DENY_INGRESS_X);
    assert!(!allowed(&c, "y/c", "x/a", 80, Tcp));
    assert!(!allowed(&c, "y/c", "x/b", 5432, Tcp));
    assert!(allowed(&c, "x/a", "y/c", 8080, Tcp));
    assert!(allowed(&c, "x/a", "z/d", 80, Tcp));
}

#[test]
fn ingress_empty_list_denies_and_ingress_with_one_empty_rule_allows_all() {
    let deny = load(
        r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: x}
spec:
  podSelector: {matchLabels: {app: a}}
  ingress: []
"#,
    );
    assert!(!allowed(&deny, "x/b", "x/a", 80, Tcp));
    assert!(!allowed(&deny, "203.0.113.9", "x/a", 80, Tcp));

    let allow = load(
        r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: x}
spec:
  podSelector: {matchLabels: {app: a}}
  ingress: [{}]
"#,
    );
    let v = verdict(&allow, "y/c", "x/a", 80, Tcp);
    assert!(v.allowed);
    assert_eq!(v.ingress.status, SideStatus::Allowed);
    assert_reason(&v, "no from list: every source matches");
    assert_reason(&v, "no ports list: every port matches");
    assert!(allowed(&allow, "203.0.113.9", "x/a", 3868, Sctp));
}

#[test]
fn an_empty_from_list_means_every_source_but_its_ports_still_apply() {
    let c = load(
        r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: x}
spec:
  podSelector: {matchLabels: {app: a}}
  ingress:
  - from: []
    ports: [{port: 80}]
  - ports: []
    from: [{ipBlock: {cidr: 198.51.100.0/24}}]
"#,
    );
    assert!(allowed(&c, "y/c", "x/a", 80, Tcp));
    assert!(allowed(&c, "203.0.113.9", "x/a", 80, Tcp));
    assert!(!allowed(&c, "y/c", "x/a", 9090, Tcp));
    // `ports: []` is every port.
    assert!(allowed(&c, "198.51.100.4", "x/a", 9090, Tcp));
    assert!(allowed(&c, "198.51.100.4", "x/a", 53, Udp));
}

const ALLOW_FROM: &str = r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow, namespace: x}
spec:
  podSelector: {matchLabels: {app: a}}
  ingress:
  - from:
"#;

fn allow_from(peers: &str) -> Cluster {
    load(&format!("{ALLOW_FROM}{peers}"))
}

#[test]
fn a_pod_selector_alone_means_the_policy_namespace() {
    let c = allow_from(
        "    - podSelector: {matchLabels: {tier: web}}\n    - podSelector: {matchLabels: {app: c}}\n",
    );
    // y/c has app=c and tier=web, but lives in y.
    let v = verdict(&c, "y/c", "x/a", 80, Tcp);
    assert!(!v.allowed);
    assert_reason(
        &v,
        "a podSelector without namespaceSelector means the policy's namespace x; y/c is in namespace y",
    );
    let v = verdict(&c, "x/b", "x/a", 80, Tcp);
    assert!(!v.allowed);
    assert_reason(&v, "podSelector wants tier=web; x/b has tier=db");
}

#[test]
fn a_namespace_selector_alone_means_every_pod_of_the_matching_namespaces() {
    let c = allow_from("    - namespaceSelector: {matchLabels: {team: b}}\n");
    assert!(allowed(&c, "y/c", "x/a", 80, Tcp));
    let v = verdict(&c, "x/b", "x/a", 80, Tcp);
    assert!(!v.allowed);
    assert_reason(&v, "namespaceSelector wants team=b; namespace x has team=a");
    let v = verdict(&c, "z/d", "x/a", 80, Tcp);
    assert!(!v.allowed);
    assert_reason(
        &v,
        "namespaceSelector wants team=b; namespace z has no label team",
    );
    // Namespaces carry kubernetes.io/metadata.name, declared or not.
    let c =
        allow_from("    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: z}}\n");
    assert!(allowed(&c, "z/d", "x/a", 80, Tcp));
    assert!(!allowed(&c, "y/c", "x/a", 80, Tcp));
}

#[test]
fn both_selectors_in_one_peer_are_anded_and_separate_peers_are_ored() {
    let and = allow_from(
        "    - namespaceSelector: {matchLabels: {team: b}}\n      podSelector: {matchLabels: {tier: db}}\n",
    );
    let v = verdict(&and, "y/c", "x/a", 80, Tcp);
    assert!(
        !v.allowed,
        "y/c is in a team=b namespace but is not tier=db"
    );
    assert_reason(&v, "podSelector wants tier=db; y/c has tier=web");
    assert!(
        !allowed(&and, "x/b", "x/a", 80, Tcp),
        "x/b is tier=db but its namespace is team=a"
    );

    let or = allow_from(
        "    - namespaceSelector: {matchLabels: {team: b}}\n    - podSelector: {matchLabels: {tier: db}}\n",
    );
    assert!(allowed(&or, "y/c", "x/a", 80, Tcp));
    assert!(allowed(&or, "x/b", "x/a", 80, Tcp));
    assert!(!allowed(&or, "z/d", "x/a", 80, Tcp));
}

#[test]
fn an_empty_namespace_selector_is_every_pod_in_every_namespace_but_nothing_else() {
    let c = allow_from("    - namespaceSelector: {}\n");
    for src in ["x/b", "y/c", "z/d"] {
        assert!(allowed(&c, src, "x/a", 80, Tcp), "{src}");
    }
    assert!(!allowed(&c, "203.0.113.9", "x/a", 80, Tcp));
    let v = verdict(&c, "203.0.113.9", "x/a", 80, Tcp);
    assert_reason(&v, "203.0.113.9 is not a pod");
    // A host-network pod on another node is node traffic, which selectors never match.
    let v = verdict(&c, "y/host2", "x/a", 80, Tcp);
    assert!(!v.allowed);
    assert_reason(
        &v,
        "uses the host network: pod and namespace selectors never match it",
    );
}

#[test]
fn match_labels_and_match_expressions_are_anded() {
    let c = allow_from(
        "    - namespaceSelector: {}\n      podSelector:\n        matchLabels: {tier: web}\n        matchExpressions: [{key: app, operator: In, values: [c, e]}]\n",
    );
    assert!(allowed(&c, "y/c", "x/a", 80, Tcp));
    let c = allow_from(
        "    - namespaceSelector: {}\n      podSelector:\n        matchLabels: {tier: web}\n        matchExpressions: [{key: app, operator: In, values: [e]}]\n",
    );
    let v = verdict(&c, "y/c", "x/a", 80, Tcp);
    assert!(!v.allowed);
    assert_reason(&v, "podSelector wants app in (e); y/c has app=c");
}

#[test]
fn selector_operators() {
    let expr = |e: &str| {
        allow_from(&format!(
            "    - namespaceSelector: {{}}\n      podSelector: {{matchExpressions: [{e}]}}\n"
        ))
    };
    let sources = |c: &Cluster| -> Vec<&str> {
        ["x/b", "y/c", "z/d"]
            .into_iter()
            .filter(|s| allowed(c, s, "x/a", 80, Tcp))
            .collect()
    };
    assert_eq!(
        sources(&expr("{key: tier, operator: In, values: [db, web]}")),
        ["x/b", "y/c"]
    );
    // NotIn also matches pods without the key.
    assert_eq!(
        sources(&expr("{key: tier, operator: NotIn, values: [web]}")),
        ["x/b", "z/d"]
    );
    assert_eq!(
        sources(&expr("{key: tier, operator: Exists}")),
        ["x/b", "y/c"]
    );
    assert_eq!(
        sources(&expr("{key: tier, operator: DoesNotExist}")),
        ["z/d"]
    );
    // On namespaces too: y has env, x and z do not.
    let ns = |e: &str| {
        allow_from(&format!(
            "    - namespaceSelector: {{matchExpressions: [{e}]}}\n"
        ))
    };
    assert_eq!(sources(&ns("{key: env, operator: Exists}")), ["y/c"]);
    assert_eq!(
        sources(&ns("{key: env, operator: NotIn, values: [prod]}")),
        ["x/b", "z/d"]
    );
    assert_eq!(sources(&ns("{key: team, operator: DoesNotExist}")), ["z/d"]);
    assert_eq!(
        sources(&ns("{key: team, operator: In, values: [a, b]}")),
        ["x/b", "y/c"]
    );
}

#[test]
fn ip_block_with_except_matches_external_addresses_and_pod_ips() {
    let c = allow_from(
        "    - ipBlock: {cidr: 10.0.0.0/16, except: [10.0.1.0/24]}\n    - ipBlock: {cidr: 203.0.113.0/24, except: [203.0.113.128/25]}\n",
    );
    assert!(allowed(&c, "x/b", "x/a", 80, Tcp), "pod IP 10.0.0.2");
    let v = verdict(&c, "y/c", "x/a", 80, Tcp);
    assert!(!v.allowed, "10.0.1.1 is excepted");
    assert_reason(
        &v,
        "10.0.1.1 is in 10.0.0.0/16 but excluded by except 10.0.1.0/24",
    );
    assert!(allowed(&c, "203.0.113.5", "x/a", 80, Tcp));
    let v = verdict(&c, "203.0.113.200", "x/a", 80, Tcp);
    assert!(!v.allowed);
    assert_reason(
        &v,
        "203.0.113.200 is in 203.0.113.0/24 but excluded by except 203.0.113.128/25",
    );
    assert!(!allowed(&c, "198.51.100.1", "x/a", 80, Tcp));
    // Host-network pods are matched by their (node) IP only through ipBlock.
    let c = allow_from("    - ipBlock: {cidr: 192.168.0.0/24}\n");
    assert!(allowed(&c, "y/host2", "x/a", 80, Tcp));
}

#[test]
fn an_except_is_not_a_deny_another_rule_can_allow_it() {
    let c = load(
        r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: block, namespace: x}
spec:
  podSelector: {matchLabels: {app: a}}
  ingress:
  - from: [{ipBlock: {cidr: 0.0.0.0/0, except: [10.0.1.0/24, 203.0.113.0/24]}}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: other, namespace: x}
spec:
  podSelector: {matchLabels: {app: a}}
  ingress:
  - from: [{namespaceSelector: {matchLabels: {team: b}}}]
  - from: [{ipBlock: {cidr: 203.0.113.7/32}}]
"#,
    );
    let v = verdict(&c, "y/c", "x/a", 80, Tcp);
    assert!(v.allowed);
    assert_eq!(v.ingress.reason, "allowed by x/other");
    assert!(allowed(&c, "203.0.113.7", "x/a", 80, Tcp));
    assert!(!allowed(&c, "203.0.113.8", "x/a", 80, Tcp));
    assert!(allowed(&c, "198.51.100.1", "x/a", 80, Tcp));
}

#[test]
fn ports_protocol_defaults_to_tcp_and_a_missing_port_means_every_port_of_the_protocol() {
    let c = load(
        r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: x}
spec:
  podSelector: {matchLabels: {app: a}}
  ingress:
  - ports: [{port: 53}]
  - ports: [{protocol: SCTP}]
"#,
    );
    assert!(allowed(&c, "y/c", "x/a", 53, Tcp));
    let v = verdict(&c, "y/c", "x/a", 53, Udp);
    assert!(!v.allowed, "port: 53 without protocol is TCP only");
    assert_reason(&v, "protocol is TCP, not UDP");
    assert!(allowed(&c, "y/c", "x/a", 3868, Sctp));
    assert!(allowed(&c, "y/c", "x/a", 9, Sctp));
    assert!(!allowed(&c, "y/c", "x/a", 80, Tcp));
    let v = verdict(&c, "y/c", "x/a", 80, Tcp);
    assert_reason(&v, "80 is not 53");
}

#[test]
fn named_ports_resolve_on_each_destination_pod_by_name_and_protocol() {
    let c = load(
        r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: metrics, namespace: x}
spec:
  podSelector: {}
  policyTypes: [Ingress]
  ingress:
  - ports: [{port: metrics}, {port: dns, protocol: UDP}, {port: http, protocol: UDP}]
"#,
    );
    // metrics is 9090 on x/a and 9100 on x/b.
    assert!(allowed(&c, "y/c", "x/a", 9090, Tcp));
    let v = verdict(&c, "y/c", "x/a", 9100, Tcp);
    assert!(!v.allowed);
    assert_reason(&v, "named port metrics is 9090/TCP on x/a, not 9100");
    assert!(allowed(&c, "y/c", "x/b", 9100, Tcp));
    assert!(!allowed(&c, "y/c", "x/b", 9090, Tcp));
    assert!(allowed(&c, "y/c", "x/a", 53, Udp));
    // x/a's http is TCP; asking for http over UDP finds nothing.
    let v = verdict(&c, "y/c", "x/a", 80, Udp);
    assert!(!v.allowed);
    assert_reason(&v, "named port http: not declared by x/a for UDP");
    // x/b declares no dns port at all: the rule allows nothing there.
    let v = verdict(&c, "y/c", "x/b", 53, Udp);
    assert!(!v.allowed);
    assert_reason(&v, "named port dns: not declared by x/b");
}

#[test]
fn named_ports_in_egress_resolve_on_the_destination() {
    let c = load(
        r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: out, namespace: y}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress:
  - ports: [{port: metrics}]
"#,
    );
    assert!(allowed(&c, "y/c", "x/a", 9090, Tcp));
    assert!(allowed(&c, "y/c", "x/b", 9100, Tcp));
    assert!(!allowed(&c, "y/c", "x/a", 9100, Tcp));
    let v = verdict(&c, "y/c", "203.0.113.1", 9090, Tcp);
    assert!(!v.allowed);
    assert_reason(&v, "named ports only resolve on pods");
}

#[test]
fn end_port_ranges_are_inclusive() {
    let c = load(
        r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: range, namespace: x}
spec:
  podSelector: {matchLabels: {app: a}}
  ingress:
  - ports: [{port: 80, endPort: 9090}, {protocol: UDP, port: 50, endPort: 52}]
"#,
    );
    for (port, proto, want) in [
        (79, Tcp, false),
        (80, Tcp, true),
        (443, Tcp, true),
        (9090, Tcp, true),
        (9091, Tcp, false),
        (53, Udp, false),
        (52, Udp, true),
        (50, Udp, true),
        (80, Udp, false),
        (80, Sctp, false),
    ] {
        assert_eq!(
            allowed(&c, "y/c", "x/a", port, proto),
            want,
            "{port}/{proto}"
        );
    }
    assert_reason(
        &verdict(&c, "y/c", "x/a", 9091, Tcp),
        "9091 is outside 80-9090",
    );
}

#[test]
fn a_connection_needs_both_the_source_egress_and_the_destination_ingress() {
    let c = load(
        r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: c-out, namespace: y}
spec:
  podSelector: {matchLabels: {app: c}}
  policyTypes: [Egress]
  egress: [{to: [{namespaceSelector: {matchLabels: {team: a}}, podSelector: {matchLabels: {app: a}}}]}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: b-in, namespace: x}
spec:
  podSelector: {matchLabels: {app: b}}
  ingress: [{from: [{namespaceSelector: {}}]}]
"#,
    );
    // Egress allows y/c -> x/a and x/a's ingress is open.
    assert!(allowed(&c, "y/c", "x/a", 80, Tcp));
    // x/b's ingress allows y/c, but y/c's egress does not allow x/b.
    let v = verdict(&c, "y/c", "x/b", 5432, Tcp);
    assert!(!v.allowed);
    assert!(v.ingress.allowed && !v.egress.allowed);
    assert_eq!(v.egress.status, SideStatus::Denied);
    assert_reason(&v, "podSelector wants app=a; x/b has app=b");
    // Ingress denies, egress allows.
    let v = verdict(&c, "203.0.113.4", "x/b", 5432, Tcp);
    assert!(!v.allowed && v.egress.allowed && !v.ingress.allowed);
    assert_eq!(v.egress.status, SideStatus::NotApplicable);
}

#[test]
fn a_pod_can_always_reach_itself() {
    let c = load(
        r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-all, namespace: x}
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
"#,
    );
    let v = verdict(&c, "x/a", "x/a", 80, Tcp);
    assert!(v.allowed);
    assert_eq!(v.decided_by, Decision::SamePod);
    assert!(!allowed(&c, "x/a", "x/b", 5432, Tcp));
    assert!(!allowed(&c, "x/b", "x/a", 80, Tcp));
}

#[test]
fn traffic_between_a_pod_and_its_own_node_is_always_allowed() {
    let c = load(
        r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-all, namespace: x}
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
"#,
    );
    // x/host runs on n1 like x/a: node traffic, both ways.
    let v = verdict(&c, "x/host", "x/a", 80, Tcp);
    assert!(v.allowed);
    assert_eq!(v.decided_by, Decision::NodeTraffic);
    assert!(allowed(&c, "x/a", "x/host", 9100, Tcp));
    // y/host2 runs on n2: an ordinary source, denied by x/a's ingress.
    let v = verdict(&c, "y/host2", "x/a", 80, Tcp);
    assert!(!v.allowed);
    assert_eq!(v.decided_by, Decision::Policies);
}

#[test]
fn host_network_pods_are_never_selected_by_policies() {
    let c = load(
        r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-all, namespace: x}
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
"#,
    );
    let engine = Engine::new(&c);
    let host = c.endpoint("x/host").unwrap();
    assert!(
        engine
            .policies_selecting(host, netpol_model::Direction::Ingress)
            .is_empty()
    );
    let v = verdict(&c, "y/c", "x/host", 9100, Tcp);
    assert!(v.allowed);
    assert_eq!(v.ingress.status, SideStatus::NotApplicable);
    assert_reason(&v, "uses the host network");
    assert!(allowed(&c, "x/host", "y/c", 8080, Tcp));
}

#[test]
fn endpoints_without_an_ip_are_analyzed_but_no_ip_block_matches_them() {
    let c = allow_from("    - ipBlock: {cidr: 0.0.0.0/0}\n");
    let v = verdict(&c, "z/d", "x/a", 80, Tcp);
    assert!(!v.allowed);
    assert_reason(&v, "z/d has no known IP");
    assert!(allowed(&c, "x/b", "x/a", 80, Tcp));
    // z/d still appears in the matrix as a source and a destination.
    let engine = Engine::new(&c);
    let d = c.endpoint("z/d").unwrap();
    assert!(
        engine
            .matrix()
            .columns
            .iter()
            .any(|col| col.dst == d && col.port == 80)
    );
}

#[test]
fn policies_are_additive_across_namespaces_and_only_select_their_own_namespace() {
    let c = load(
        r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-in, namespace: y}
spec:
  podSelector: {}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-a, namespace: y}
spec:
  podSelector: {matchLabels: {tier: web}}
  ingress: [{from: [{namespaceSelector: {matchLabels: {team: a}}, podSelector: {matchLabels: {app: a}}}]}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-b, namespace: y}
spec:
  podSelector: {matchLabels: {tier: web}}
  ingress: [{from: [{namespaceSelector: {matchLabels: {team: a}}, podSelector: {matchLabels: {app: b}}}]}]
"#,
    );
    assert!(allowed(&c, "x/a", "y/c", 8080, Tcp));
    assert!(allowed(&c, "x/b", "y/c", 8080, Tcp));
    let v = verdict(&c, "z/d", "y/c", 8080, Tcp);
    assert!(!v.allowed);
    assert_eq!(v.ingress.policies.len(), 3);
    assert_reason(&v, "isolated by 3 policies");
    // The trace names the policy, the rule and the peer.
    let rule = &v
        .ingress
        .policies
        .iter()
        .find(|p| p.policy == "y/web-a")
        .unwrap()
        .rules[0];
    assert_eq!(rule.rule, "ingress[0]");
    assert_eq!(rule.peers[0].item, "from[0]");
    assert!(!rule.peers[0].matched);
    assert!(rule.line > 0);
}

/// A cluster from these manifests alone (not on top of `BASE`).
fn load_alone(text: &str) -> Cluster {
    load_file("alone.yaml", text.into())
}

/// In namespace f: v4 (IPv4 only), v6 (IPv6 only), ds and ds2 (dual-stack,
/// IPv4 first), sd (dual-stack, IPv6 first); all listen on 80.
const FAMILIES: &str = r#"
apiVersion: v1
kind: Pod
metadata: {name: v4, namespace: f, labels: {app: v4}}
spec: {containers: [{name: c, ports: [{containerPort: 80}]}]}
status: {podIP: 10.1.0.1}
---
apiVersion: v1
kind: Pod
metadata: {name: v6, namespace: f, labels: {app: v6}}
spec: {containers: [{name: c, ports: [{containerPort: 80}]}]}
status: {podIP: "fd00::6"}
---
apiVersion: v1
kind: Pod
metadata: {name: ds, namespace: f, labels: {app: ds}}
spec: {containers: [{name: c, ports: [{containerPort: 80}]}]}
status:
  podIP: 10.1.0.2
  podIPs: [{ip: 10.1.0.2}, {ip: "fd00::2"}]
---
apiVersion: v1
kind: Pod
metadata: {name: ds2, namespace: f, labels: {app: ds2}}
spec: {containers: [{name: c, ports: [{containerPort: 80}]}]}
status:
  podIP: 10.1.0.3
  podIPs: [{ip: 10.1.0.3}, {ip: "fd00::3"}]
---
apiVersion: v1
kind: Pod
metadata: {name: sd, namespace: f, labels: {app: sd}}
spec: {containers: [{name: c, ports: [{containerPort: 80}]}]}
status:
  podIP: "fd00::4"
  podIPs: [{ip: "fd00::4"}, {ip: 10.1.0.4}]
"#;

fn families(policies: &str) -> Cluster {
    load_alone(&format!("{FAMILIES}---\n{policies}"))
}

#[test]
fn an_ipv4_block_never_admits_a_connection_that_can_only_be_ipv6() {
    // ds and sd are dual-stack, v6 is IPv6-only: between them only IPv6 is possible.
    let c = families(
        r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: v6-in, namespace: f}
spec:
  podSelector: {matchLabels: {app: v6}}
  ingress: [{from: [{ipBlock: {cidr: 10.1.0.0/24}}]}]
"#,
    );
    for src in ["f/ds", "f/sd"] {
        let v = verdict(&c, src, "f/v6", 80, Tcp);
        assert!(
            !v.allowed,
            "{src}: its IPv4 address cannot be the source of an IPv6 connection"
        );
        assert_eq!(v.families, [Family::V6]);
        assert_reason(
            &v,
            "the connection is IPv6: the IPv4 block 10.1.0.0/24 cannot match it",
        );
    }
    // An IPv4-only pod has no family in common with an IPv6-only one.
    let v = verdict(&c, "f/v4", "f/v6", 80, Tcp);
    assert!(!v.allowed);
    assert_eq!(v.decided_by, Decision::NoCommonFamily);
    assert!(v.families.is_empty());
    // The same block still admits IPv4 connections.
    assert!(allowed(&c, "f/v4", "f/ds", 80, Tcp));
}

#[test]
fn an_ipv6_egress_block_never_admits_a_connection_that_can_only_be_ipv4() {
    let c = families(
        r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: v4-out, namespace: f}
spec:
  podSelector: {matchLabels: {app: v4}}
  policyTypes: [Egress]
  egress: [{to: [{ipBlock: {cidr: "fd00::/64"}}]}]
"#,
    );
    // ds has fd00::2, inside the block, but v4 reaches it over IPv4 only.
    let v = verdict(&c, "f/v4", "f/ds", 80, Tcp);
    assert!(!v.allowed);
    assert_eq!(v.families, [Family::V4]);
    assert_eq!(v.egress.status, SideStatus::Denied);
    assert_reason(
        &v,
        "the connection is IPv4: the IPv6 block fd00::/64 cannot match it",
    );
    assert!(!allowed(&c, "f/v4", "f/sd", 80, Tcp));
    assert!(!allowed(&c, "f/v4", "2001:db8::1", 80, Tcp));
    assert!(
        !allowed(&c, "f/v4", "fd00::99", 80, Tcp),
        "no IPv6 address to send from"
    );
}

#[test]
fn between_dual_stack_pods_an_ip_block_decides_per_family() {
    let c = families(
        r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: ds2-in, namespace: f}
spec:
  podSelector: {matchLabels: {app: ds2}}
  ingress: [{from: [{ipBlock: {cidr: 10.1.0.0/24}}]}]
"#,
    );
    // ds and sd reach ds2 over IPv4 (their IPv4 address is in the block), not over IPv6.
    for src in ["f/ds", "f/sd"] {
        let v = verdict(&c, src, "f/ds2", 80, Tcp);
        assert!(v.allowed, "{src}");
        assert_eq!(v.families, [Family::V4, Family::V6]);
        assert_eq!(v.only_over(), Some(Family::V4), "{src}");
        let per: Vec<(Family, bool)> = v.by_family.iter().map(|f| (f.family, f.allowed)).collect();
        assert_eq!(per, [(Family::V4, true), (Family::V6, false)]);
        assert_eq!(v.by_family[1].ingress.status, SideStatus::Denied);
        let engine = Engine::new(&c);
        let (s, d) = (c.endpoint(src).unwrap(), c.endpoint("f/ds2").unwrap());
        let cell = engine
            .matrix()
            .cells()
            .find(|cell| cell.src == s && cell.dst == d)
            .unwrap();
        assert!(cell.allowed);
        assert_eq!(
            cell.only,
            Some(Family::V4),
            "the matrix must not say plainly allowed"
        );
    }
    // IPv4-only v4 can only use IPv4: plainly allowed, no split.
    let v = verdict(&c, "f/v4", "f/ds2", 80, Tcp);
    assert!(v.allowed && v.by_family.is_empty() && v.only_over().is_none());
    // A pod selector admits over both families: no split.
    let c = families(
        r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: ds2-in, namespace: f}
spec:
  podSelector: {matchLabels: {app: ds2}}
  ingress: [{from: [{podSelector: {matchLabels: {app: ds}}}, {ipBlock: {cidr: "fd00::/64"}}]}]
"#,
    );
    let v = verdict(&c, "f/ds", "f/ds2", 80, Tcp);
    assert!(v.allowed && v.only_over().is_none());
    let v = verdict(&c, "f/sd", "f/ds2", 80, Tcp);
    assert_eq!(v.only_over(), Some(Family::V6));
}

#[test]
fn pods_without_an_address_family_in_common_cannot_connect_even_without_policies() {
    let c = families("");
    for (src, dst) in [("f/v4", "f/v6"), ("f/v6", "f/v4")] {
        let v = verdict(&c, src, dst, 80, Tcp);
        assert!(!v.allowed, "{src} -> {dst}");
        assert_eq!(v.decided_by, Decision::NoCommonFamily);
    }
    assert!(!allowed(&c, "2001:db8::1", "f/v4", 80, Tcp));
    assert!(allowed(&c, "2001:db8::1", "f/sd", 80, Tcp));
    assert!(allowed(&c, "f/v4", "f/sd", 80, Tcp));
}

/// The ingress default-deny of namespace r, where the replica tests run.
const DENY_IN_R: &str = "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny, namespace: r}
spec: {podSelector: {}, policyTypes: [Ingress]}
";

/// A Deployment of `replicas` (absent: the field is left out) in namespace r.
fn replicas_cluster(kind_and_count: &str, policies: &str) -> Cluster {
    load_alone(&format!(
        r#"
apiVersion: apps/v1
{kind_and_count}
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec: {{containers: [{{name: c, ports: [{{containerPort: 80}}]}}]}}
---
{DENY_IN_R}---
{policies}"#
    ))
}

#[test]
fn replicas_of_a_workload_are_different_pods_and_policies_decide_between_them() {
    let deployment = |replicas: &str| {
        format!("kind: Deployment\nmetadata: {{name: web, namespace: r}}\nspec:\n{replicas}")
    };
    let c = replicas_cluster(&deployment("  replicas: 3\n"), "");
    assert_eq!(c.endpoints[0].replicas, Some(3));
    let v = verdict(&c, "r/web", "r/web", 80, Tcp);
    assert!(!v.allowed, "a default-deny blocks web-0 -> web-1");
    assert_eq!(v.decided_by, Decision::Policies);
    assert_eq!(v.between_replicas.as_deref(), Some("r/web"));
    // Allowed only when a rule admits the replicas, as between any two pods.
    let c = replicas_cluster(
        &deployment("  replicas: 2\n"),
        r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: peers, namespace: r}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress: [{from: [{podSelector: {matchLabels: {app: web}}}]}]
"#,
    );
    let v = verdict(&c, "r/web", "r/web", 80, Tcp);
    assert!(v.allowed);
    assert_eq!(v.ingress.reason, "allowed by r/peers");
    // One replica, spelled out or defaulted: one pod, which reaches itself.
    for spec in ["  replicas: 1\n", ""] {
        let c = replicas_cluster(&deployment(spec), "");
        assert_eq!(c.endpoints[0].replicas, Some(1));
        let v = verdict(&c, "r/web", "r/web", 80, Tcp);
        assert!(v.allowed, "{spec:?}");
        assert_eq!(v.decided_by, Decision::SamePod);
        assert!(v.between_replicas.is_none());
    }
}

#[test]
fn every_workload_kind_counts_its_pods() {
    let cases = [
        (
            "StatefulSet",
            "  replicas: 2\n  serviceName: web\n",
            Some(2),
        ),
        ("ReplicaSet", "  replicas: 4\n", Some(4)),
        ("ReplicationController", "  replicas: 2\n", Some(2)),
        // One pod per node: possibly several.
        ("DaemonSet", "", None),
    ];
    for (kind, spec, want) in cases {
        let api = if kind == "ReplicationController" {
            "v1"
        } else {
            "apps/v1"
        };
        let text = format!(
            "apiVersion: {api}\nkind: {kind}\nmetadata: {{name: web, namespace: r}}\nspec:\n{spec}  selector: {{matchLabels: {{app: web}}}}\n  template:\n    metadata: {{labels: {{app: web}}}}\n    spec: {{containers: [{{name: c, ports: [{{containerPort: 80}}]}}]}}\n---\n{DENY_IN_R}"
        )
        .replace(
            "selector: {matchLabels: {app: web}}",
            if kind == "ReplicationController" {
                "selector: {app: web}"
            } else {
                "selector: {matchLabels: {app: web}}"
            },
        );
        let c = load_alone(&text);
        assert_eq!(c.endpoints[0].replicas, want, "{kind}");
        assert!(!allowed(&c, "r/web", "r/web", 80, Tcp), "{kind}");
    }
    let job = |parallelism: &str| {
        load_alone(&format!(
            "apiVersion: batch/v1\nkind: Job\nmetadata: {{name: web, namespace: r}}\nspec:\n{parallelism}  template:\n    metadata: {{labels: {{app: web}}}}\n    spec: {{restartPolicy: Never, containers: [{{name: c, ports: [{{containerPort: 80}}]}}]}}\n---\n{DENY_IN_R}"
        ))
    };
    let c = job("  parallelism: 3\n");
    assert_eq!(c.endpoints[0].replicas, Some(3));
    assert!(!allowed(&c, "r/web", "r/web", 80, Tcp));
    let c = job("");
    assert_eq!(c.endpoints[0].replicas, Some(1));
    assert!(allowed(&c, "r/web", "r/web", 80, Tcp));
    let cron = |parallelism: &str| {
        load_alone(&format!(
            "apiVersion: batch/v1\nkind: CronJob\nmetadata: {{name: web, namespace: r}}\nspec:\n  schedule: \"* * * * *\"\n  jobTemplate:\n    spec:\n{parallelism}      template:\n        metadata: {{labels: {{app: web}}}}\n        spec: {{restartPolicy: Never, containers: [{{name: c, ports: [{{containerPort: 80}}]}}]}}\n---\n{DENY_IN_R}"
        ))
    };
    assert!(allowed(&cron(""), "r/web", "r/web", 80, Tcp));
    assert!(!allowed(
        &cron("      parallelism: 2\n"),
        "r/web",
        "r/web",
        80,
        Tcp
    ));
}

#[test]
fn a_pod_known_only_by_its_host_ip_is_on_that_node() {
    let c = load_alone(
        r#"
apiVersion: v1
kind: Pod
metadata: {name: app, namespace: h, labels: {app: app}}
spec:
  nodeName: n1
  containers: [{name: c, ports: [{containerPort: 80}]}]
status: {podIP: 10.2.0.1, hostIP: 192.168.7.1}
---
apiVersion: v1
kind: Pod
metadata: {name: agent, namespace: h}
spec:
  hostNetwork: true
  containers: [{name: c, ports: [{containerPort: 9100}]}]
status: {hostIP: 192.168.7.1}
---
apiVersion: v1
kind: Pod
metadata: {name: exporter, namespace: h}
spec:
  hostNetwork: true
  containers: [{name: c, ports: [{containerPort: 9101}]}]
status: {podIP: 192.168.7.1}
---
apiVersion: v1
kind: Pod
metadata: {name: far, namespace: h}
spec:
  hostNetwork: true
  containers: [{name: c, ports: [{containerPort: 9100}]}]
status: {hostIP: 192.168.7.2}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny, namespace: h}
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
  egress: [{to: [{ipBlock: {cidr: 192.168.7.2/32}}]}]
"#,
    );
    let agent = &c.endpoints[c.endpoint("h/agent").unwrap()];
    assert_eq!(agent.node.as_deref(), Some("n1"), "placed by its host IP");
    assert_eq!(
        agent.ips,
        ["192.168.7.1".parse::<std::net::IpAddr>().unwrap()]
    );
    // Its node's traffic: allowed both ways despite the default-deny.
    let v = verdict(&c, "h/agent", "h/app", 80, Tcp);
    assert!(v.allowed);
    assert_eq!(v.decided_by, Decision::NodeTraffic);
    assert!(allowed(&c, "h/app", "h/agent", 9100, Tcp));
    // A host-network pod's podIP is its node's address too.
    let exporter = &c.endpoints[c.endpoint("h/exporter").unwrap()];
    assert_eq!(exporter.node.as_deref(), Some("n1"));
    assert!(allowed(&c, "h/app", "h/exporter", 9101, Tcp));
    // A node no other pod names is named after its address; its address is the host IP.
    let far = &c.endpoints[c.endpoint("h/far").unwrap()];
    assert_eq!(far.node.as_deref(), Some("192.168.7.2"));
    assert!(!allowed(&c, "h/far", "h/app", 80, Tcp));
    let v = verdict(&c, "h/app", "h/far", 9100, Tcp);
    assert!(v.allowed, "the ipBlock matches the host IP");
    assert_eq!(v.decided_by, Decision::Policies);
}

#[test]
fn a_negative_replica_count_is_rejected_as_the_api_server_rejects_it() {
    let err = load_sources(
        &[Source {
            name: "neg.yaml".into(),
            text: "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: r}\nspec:\n  replicas: -1\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: c}]}\n".into(),
        }],
        &LoadOptions::default(),
    )
    .expect_err("replicas: -1 is invalid");
    let text = err.to_string();
    assert!(
        text.contains("spec.replicas: must be greater than or equal to 0, got -1"),
        "{text}"
    );
    assert!(text.contains("neg.yaml"), "{text}");
}
