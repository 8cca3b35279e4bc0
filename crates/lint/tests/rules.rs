//! Each rule on a small cluster: once where it must fire (at the right line),
//! once where the same situation is written correctly and it must not.

use netpol_lint::{Finding, Severity, lint};
use netpol_model::{LoadOptions, Source, load_sources};

/// Two namespaces with workloads, cluster DNS, a Service whose port differs
/// from its pods' port, and a hostNetwork pod.
const CLUSTER: &str = r#"
apiVersion: v1
kind: Namespace
metadata:
  name: web
  labels:
    team: shop
---
apiVersion: v1
kind: Pod
metadata:
  name: frontend
  namespace: web
  labels:
    app: frontend
spec:
  nodeName: n1
  containers:
    - name: c
      ports:
        - containerPort: 8080
          name: http
status:
  podIP: 10.0.0.10
---
apiVersion: v1
kind: Pod
metadata:
  name: api
  namespace: web
  labels:
    app: api
spec:
  nodeName: n1
  containers:
    - name: c
      ports:
        - containerPort: 9000
          name: grpc
status:
  podIP: 10.0.0.11
---
apiVersion: v1
kind: Pod
metadata:
  name: node-agent
  namespace: web
  labels:
    app: node-agent
spec:
  nodeName: n1
  hostNetwork: true
  containers:
    - name: c
      ports:
        - containerPort: 9100
status:
  podIP: 192.168.1.5
---
apiVersion: v1
kind: Service
metadata:
  name: frontend
  namespace: web
spec:
  selector:
    app: frontend
  clusterIP: 10.96.0.20
  ports:
    - port: 80
      targetPort: http
---
apiVersion: v1
kind: Pod
metadata:
  name: coredns
  namespace: kube-system
  labels:
    k8s-app: kube-dns
spec:
  containers:
    - name: c
      ports:
        - containerPort: 53
          protocol: UDP
          name: dns
        - containerPort: 53
          protocol: TCP
          name: dns-tcp
status:
  podIP: 10.0.0.2
"#;

struct Linted {
    yaml: String,
    findings: Vec<Finding>,
}

impl Linted {
    fn of(id: &str, findings: &[Finding]) -> Vec<Finding> {
        findings.iter().filter(|f| f.id == id).cloned().collect()
    }

    fn only(&self, id: &str) -> Finding {
        let found = Linted::of(id, &self.findings);
        assert_eq!(
            found.len(),
            1,
            "expected one {id}, got {found:#?}\nall: {:#?}",
            self.findings
        );
        found.into_iter().next().unwrap()
    }

    fn none(&self, id: &str) {
        let found = Linted::of(id, &self.findings);
        assert!(found.is_empty(), "expected no {id}, got {found:#?}");
    }

    /// 1-based line of the first line containing `needle` after the line containing `after`.
    fn line(&self, after: &str, needle: &str) -> usize {
        let start = self
            .yaml
            .lines()
            .position(|l| l.contains(after))
            .expect("anchor present");
        start
            + 1
            + self
                .yaml
                .lines()
                .skip(start)
                .position(|l| l.contains(needle))
                .expect("needle present")
    }
}

fn run(policies: &str) -> Linted {
    let yaml = format!("{CLUSTER}---\n{policies}");
    let cluster = load_sources(
        &[Source {
            name: "test.yaml".into(),
            text: yaml.clone(),
        }],
        &LoadOptions::default(),
    )
    .unwrap_or_else(|e| panic!("fixture loads: {e}"));
    Linted {
        findings: lint(&cluster),
        yaml,
    }
}

const DENY_WEB: &str = r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: default-deny
  namespace: web
spec:
  podSelector: {}
  policyTypes: [Ingress]
"#;

fn policy(name: &str, spec: &str) -> String {
    format!(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: {name}\n  namespace: web\nspec:\n{spec}"
    )
}

#[test]
fn np001_policy_selecting_no_pod() {
    let bad = run(&policy(
        "typo",
        "  podSelector:\n    matchLabels:\n      app: fronted\n",
    ));
    let f = bad.only("NP001");
    assert_eq!(
        f.location.line,
        bad.line("name: typo", "name: typo") - 3,
        "points at the start of the policy document"
    );
    assert_eq!(f.policy.as_deref(), Some("web/typo"));
    assert!(f.hint.contains("web/frontend (app=frontend)"), "{}", f.hint);
    run(&policy(
        "ok",
        "  podSelector:\n    matchLabels:\n      app: frontend\n",
    ))
    .none("NP001");
}

#[test]
fn np002_peer_matching_no_pod_or_namespace() {
    let spec = "  podSelector: {}\n  ingress:\n    - from:\n        - podSelector:\n            matchLabels:\n              app: coredns\n";
    let bad = run(&policy("p", spec));
    let f = bad.only("NP002");
    assert_eq!(f.location.line, bad.line("name: p", "- podSelector"));
    // The labels exist, but in another namespace: the hint says so.
    let spec = spec.replace("app: coredns", "k8s-app: kube-dns");
    let f = run(&policy("p", &spec)).only("NP002");
    assert!(
        f.hint.contains("kube-system/coredns") && f.hint.contains("namespaceSelector"),
        "{}",
        f.hint
    );

    let no_namespace = "  podSelector: {}\n  ingress:\n    - from:\n        - namespaceSelector:\n            matchLabels:\n              team: nobody\n";
    let f = run(&policy("p", no_namespace)).only("NP002");
    assert!(f.message.contains("matches no namespace"), "{}", f.message);

    let good = "  podSelector: {}\n  ingress:\n    - from:\n        - podSelector:\n            matchLabels:\n              app: api\n        - namespaceSelector:\n            matchLabels:\n              team: shop\n";
    run(&policy("p", good)).none("NP002");
}

#[test]
fn np003_namespace_without_default_deny() {
    let bad = run("");
    let f = Linted::of("NP003", &bad.findings)
        .into_iter()
        .find(|f| f.message.contains("namespace web"))
        .unwrap();
    assert_eq!(f.severity, Severity::Warning);
    assert!(
        f.message.contains("web/api") && f.message.contains("web/frontend"),
        "{}",
        f.message
    );
    // hostNetwork pods cannot be isolated, so they are not counted.
    assert!(!f.message.contains("node-agent"), "{}", f.message);
    let good = run(DENY_WEB);
    assert!(
        !good
            .findings
            .iter()
            .any(|f| f.id == "NP003" && f.message.contains("namespace web"))
    );
    // Every pod isolated by specific policies, but no catch-all: only a note.
    let both = policy(
        "both",
        "  podSelector:\n    matchExpressions:\n      - {key: app, operator: Exists}\n  policyTypes: [Ingress]\n",
    );
    let f = Linted::of("NP003", &run(&both).findings)
        .into_iter()
        .find(|f| f.message.contains("namespace web"))
        .unwrap();
    assert_eq!(f.severity, Severity::Info);
}

#[test]
fn np004_namespace_selector_on_missing_label() {
    let spec = "  podSelector: {}\n  ingress:\n    - from:\n        - namespaceSelector:\n            matchLabels:\n              name: kube-system\n";
    let bad = run(&policy("p", spec));
    let f = bad.only("NP004");
    assert_eq!(f.location.line, bad.line("name: p", "- namespaceSelector"));
    assert!(
        f.hint.contains("kubernetes.io/metadata.name: kube-system"),
        "{}",
        f.hint
    );
    bad.none("NP002");
    let good = spec.replace(
        "name: kube-system",
        "kubernetes.io/metadata.name: kube-system",
    );
    let good = run(&policy("p", &good));
    good.none("NP004");
    good.none("NP002");
}

#[test]
fn np005_named_port_no_pod_declares() {
    let spec = "  podSelector:\n    matchLabels:\n      app: frontend\n  ingress:\n    - ports:\n        - port: htpp\n";
    let bad = run(&policy("p", spec));
    let f = bad.only("NP005");
    assert_eq!(f.location.line, bad.line("name: p", "- port: htpp"));
    assert!(f.hint.contains("http (8080/TCP)"), "{}", f.hint);
    run(&policy("p", &spec.replace("htpp", "http"))).none("NP005");
    // Egress: the name resolves on the destination pods the rule admits.
    let egress = "  podSelector:\n    matchLabels:\n      app: frontend\n  egress:\n    - to:\n        - podSelector:\n            matchLabels:\n              app: api\n      ports:\n        - port: grpc\n";
    run(&policy("p", egress)).none("NP005");
    run(&policy("p", &egress.replace("port: grpc", "port: http"))).only("NP005");
}

#[test]
fn np006_service_port_instead_of_container_port() {
    let spec = "  podSelector:\n    matchLabels:\n      app: frontend\n  ingress:\n    - ports:\n        - port: 80\n";
    let bad = run(&policy("p", spec));
    let f = bad.only("NP006");
    assert_eq!(f.location.line, bad.line("name: p", "- port: 80"));
    assert!(
        f.message.contains("web/frontend") && f.hint.contains("8080"),
        "{f:?}"
    );
    run(&policy("p", &spec.replace("port: 80", "port: 8080"))).none("NP006");
}

#[test]
fn np007_allow_all_rule_beside_others() {
    let spec = "  podSelector: {}\n  ingress:\n    - from:\n        - podSelector: {}\n      ports:\n        - port: 8080\n    - {}\n";
    let bad = run(&policy("p", spec));
    let f = bad.only("NP007");
    assert_eq!(f.location.line, bad.line("name: p", "- {}"));
    // Alone, `ingress: [{}]` is a deliberate allow-all.
    run(&policy("p", "  podSelector: {}\n  ingress:\n    - {}\n")).none("NP007");
}

#[test]
fn np008_duplicate_and_covered_rules() {
    let rule = "    - from:\n        - podSelector:\n            matchLabels:\n              app: api\n      ports:\n        - port: 8080\n";
    let dup = run(&policy(
        "p",
        &format!("  podSelector: {{}}\n  ingress:\n{rule}{rule}"),
    ));
    let f = dup.only("NP008");
    assert!(
        f.message.contains("ingress[1] duplicates ingress[0]"),
        "{}",
        f.message
    );
    let wider =
        "    - from:\n        - podSelector:\n            matchLabels:\n              app: api\n";
    let covered = run(&policy(
        "p",
        &format!("  podSelector: {{}}\n  ingress:\n{rule}{wider}"),
    ));
    assert!(
        covered
            .only("NP008")
            .message
            .contains("ingress[0] is covered by ingress[1]")
    );
    let other = rule.replace("8080", "9000");
    run(&policy(
        "p",
        &format!("  podSelector: {{}}\n  ingress:\n{rule}{other}"),
    ))
    .none("NP008");
}

#[test]
fn np009_egress_isolation_without_dns() {
    let spec = "  podSelector:\n    matchLabels:\n      app: frontend\n  policyTypes: [Egress]\n  egress:\n    - to:\n        - podSelector:\n            matchLabels:\n              app: api\n";
    let f = run(&policy("p", spec)).only("NP009");
    assert!(
        f.message.contains("web/frontend") && f.message.contains("kube-system/coredns"),
        "{}",
        f.message
    );
    let dns = "    - to:\n        - namespaceSelector:\n            matchLabels:\n              kubernetes.io/metadata.name: kube-system\n          podSelector:\n            matchLabels:\n              k8s-app: kube-dns\n      ports:\n        - port: 53\n          protocol: UDP\n";
    run(&policy("p", &format!("{spec}{dns}"))).none("NP009");
    // DNS allowed on TCP only still fails UDP lookups.
    run(&policy(
        "p",
        &format!("{spec}{}", dns.replace("protocol: UDP", "protocol: TCP")),
    ))
    .only("NP009");
}

#[test]
fn np010_ipblock_covering_cluster_addresses() {
    let spec = |cidr: &str| {
        format!(
            "  podSelector: {{}}\n  policyTypes: [Egress]\n  egress:\n    - to:\n        - ipBlock:\n            cidr: {cidr}\n"
        )
    };
    let service = run(&policy("p", &spec("10.96.0.20/32")));
    let f = service.only("NP010");
    assert_eq!(f.severity, Severity::Error);
    assert!(
        f.message.contains("ClusterIP") && f.message.contains("web/frontend"),
        "{}",
        f.message
    );
    assert_eq!(f.location.line, service.line("name: p", "- ipBlock"));
    let pods = run(&policy("p", &spec("10.0.0.0/24"))).only("NP010");
    assert!(
        pods.message.contains("pod IPs") && pods.message.contains("web/api"),
        "{}",
        pods.message
    );
    let nodes = run(&policy("p", &spec("192.168.1.0/24"))).only("NP010");
    assert!(
        nodes.message.contains("node addresses") && nodes.message.contains("n1"),
        "{}",
        nodes.message
    );
    run(&policy("p", &spec("203.0.113.0/24"))).none("NP010");
    // The usual "internet but not the cluster" block, and its except list.
    run(&policy("p", &spec("0.0.0.0/0"))).none("NP010");
    let except = "  podSelector: {}\n  policyTypes: [Egress]\n  egress:\n    - to:\n        - ipBlock:\n            cidr: 10.0.0.0/8\n            except: [10.0.0.0/16, 10.96.0.0/12]\n";
    run(&policy("p", except)).none("NP010");
}

#[test]
fn np011_rules_ignored_by_policy_types() {
    let spec = "  podSelector: {}\n  policyTypes: [Ingress]\n  egress:\n    - to:\n        - podSelector: {}\n";
    let bad = run(&policy("p", spec));
    let f = bad.only("NP011");
    assert_eq!(f.location.line, bad.line("name: p", "- to:"));
    assert_eq!(f.severity, Severity::Error);
    // Without policyTypes, egress rules make the policy an egress policy.
    run(&policy(
        "p",
        &spec.replace("  policyTypes: [Ingress]\n", ""),
    ))
    .none("NP011");
}

#[test]
fn np012_policy_selecting_host_network_pods() {
    let f = run(&policy(
        "p",
        "  podSelector:\n    matchLabels:\n      app: node-agent\n",
    ))
    .only("NP012");
    assert!(f.message.contains("web/node-agent"), "{}", f.message);
    // It selects nothing else, but NP012 already says why.
    run(&policy(
        "p",
        "  podSelector:\n    matchLabels:\n      app: node-agent\n",
    ))
    .none("NP001");
    run(&policy(
        "p",
        "  podSelector:\n    matchLabels:\n      app: api\n",
    ))
    .none("NP012");
}

#[test]
fn np013_no_policies_at_all() {
    let f = run("").only("NP013");
    assert!(
        f.message.contains("4 workloads in 2 namespaces"),
        "{}",
        f.message
    );
    run(DENY_WEB).none("NP013");
}

#[test]
fn findings_are_sorted_and_name_their_policy() {
    let l = run(&format!(
        "{DENY_WEB}---\n{}",
        policy("typo", "  podSelector:\n    matchLabels:\n      app: x\n")
    ));
    let keys: Vec<(String, usize)> = l
        .findings
        .iter()
        .map(|f| (f.location.file.clone(), f.location.line))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
}

#[test]
fn np007_allow_all_rule_shadows_other_policies() {
    let open = policy("open", "  podSelector: {}\n  ingress:\n    - {}\n");
    let narrow = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: narrow\n  namespace: web\nspec:\n  podSelector:\n    matchLabels:\n      app: api\n  ingress:\n    - from:\n        - podSelector:\n            matchLabels:\n              app: frontend\n";
    let l = run(&format!("{open}---\n{narrow}"));
    let f = l.only("NP007");
    assert_eq!(f.policy.as_deref(), Some("web/open"));
    assert!(f.message.contains("web/narrow"), "{}", f.message);
}

#[test]
fn catalog_ids_are_unique_and_every_finding_uses_one() {
    let ids: Vec<&str> = netpol_lint::CATALOG.iter().map(|r| r.id).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(ids, sorted, "ids are unique and listed in order");
    let l = run(&policy(
        "p",
        "  podSelector:\n    matchLabels:\n      app: nothing\n",
    ));
    for f in &l.findings {
        assert_eq!(netpol_lint::rule_info(f.id).name, f.name);
    }
}

/// `podSelector: {}` selects every pod of the namespace by design, the
/// hostNetwork ones included: neither an allow policy nor a default-deny
/// (what `netpol gen` writes) could be written otherwise.
#[test]
fn np012_namespace_wide_policies_are_not_reported() {
    let allow = policy(
        "allow",
        "  podSelector: {}\n  ingress:\n    - from:\n        - podSelector: {}\n",
    );
    run(&allow).none("NP012");
    run(DENY_WEB).none("NP012");
}

/// A default-deny in a namespace that has no pods yet protects the pods
/// created there later: not a policy without effect. One in a namespace that
/// nothing else mentions is (a mistyped metadata.namespace, most likely).
#[test]
fn np001_default_deny_of_an_empty_namespace_is_not_reported() {
    let deny = |ns: &str| {
        format!(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: default-deny\n  namespace: {ns}\nspec:\n  podSelector: {{}}\n  policyTypes: [Ingress, Egress]\n"
        )
    };
    let declared = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: empty\n---\n";
    run(&format!("{declared}{}", deny("empty"))).none("NP001");
    let service = "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n  namespace: empty\nspec:\n  ports: [{port: 80}]\n---\n";
    run(&format!("{service}{}", deny("empty"))).none("NP001");
    let f = run(&deny("wbe")).only("NP001");
    assert!(f.hint.contains("check metadata.namespace"), "{}", f.hint);
    // A selector that picks nothing is reported in an empty namespace too.
    run(&format!(
        "{declared}{}",
        deny("empty").replace("podSelector: {}", "podSelector: {matchLabels: {app: x}}")
    ))
    .only("NP001");
}

#[test]
fn np009_reports_each_pod_once() {
    let isolate = |name: &str| policy(name, "  podSelector: {}\n  policyTypes: [Egress]\n");
    let l = run(&format!("{}---\n{}", isolate("a"), isolate("b")));
    let f = l.only("NP009");
    assert_eq!(f.policy.as_deref(), Some("web/a"));
    assert!(f.message.contains("2 pods"), "{}", f.message);
}
