//! The API server's NetworkPolicy validation: every invalid-policy class is
//! reported with file, document, line and field; all problems are reported at
//! once; and no cluster comes out of invalid input.

use netpol_model::{Diagnostic, LoadOptions, Source, load_sources};

const NAMESPACE: &str = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n";

/// A policy in document 2 of `bad.yaml`, whose ingress rule is `rule` (indented by 2).
fn policy_with_rule(rule: &str) -> String {
    format!(
        "{NAMESPACE}---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: bad\n  namespace: x\nspec:\n  podSelector: {{}}\n  ingress:\n{rule}"
    )
}

fn errors(text: &str) -> Vec<Diagnostic> {
    match load_sources(
        &[Source {
            name: "bad.yaml".into(),
            text: text.into(),
        }],
        &LoadOptions::default(),
    ) {
        Ok(c) => panic!(
            "expected errors, loaded {} policies from:\n{text}",
            c.policies.len()
        ),
        Err(e) => e.0,
    }
}

/// 1-based line of the only line of `text` containing `marker`.
fn line_of(text: &str, marker: &str) -> usize {
    let hits: Vec<usize> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains(marker))
        .map(|(i, _)| i + 1)
        .collect();
    assert_eq!(hits.len(), 1, "{marker:?} should occur once in:\n{text}");
    hits[0]
}

/// Exactly one diagnostic, in document 2 of bad.yaml, at `field`, on the line of `marker`,
/// whose message contains `message`.
#[track_caller]
fn assert_single(rule: &str, field: &str, marker: &str, message: &str) {
    let text = policy_with_rule(rule);
    let errs = errors(&text);
    assert_eq!(errs.len(), 1, "{errs:#?}");
    let d = &errs[0];
    assert_eq!(d.file, "bad.yaml");
    assert_eq!(d.document, 2);
    assert_eq!(d.field.as_deref(), Some(field), "{d}");
    assert_eq!(d.line, line_of(&text, marker), "{d}");
    assert_eq!(d.object.as_deref(), Some("NetworkPolicy x/bad"));
    assert!(
        d.message.contains(message),
        "{:?} does not contain {message:?}",
        d.message
    );
    // The rendered form carries the same facts.
    let shown = d.to_string();
    assert!(
        shown.starts_with(&format!("bad.yaml:{}: document 2", d.line)),
        "{shown}"
    );
    assert!(shown.contains(field), "{shown}");
}

#[test]
fn invalid_cidr() {
    assert_single(
        "  - from:\n    - ipBlock:\n        cidr: 10.0.0.0/33\n",
        "spec.ingress[0].from[0].ipBlock.cidr",
        "10.0.0.0/33",
        "invalid CIDR",
    );
    assert_single(
        "  - from:\n    - ipBlock:\n        cidr: not-an-ip\n",
        "spec.ingress[0].from[0].ipBlock.cidr",
        "not-an-ip",
        "invalid CIDR",
    );
    assert_single(
        "  - from:\n    - ipBlock:\n        cidr: 10.0.0.1\n",
        "spec.ingress[0].from[0].ipBlock.cidr",
        "10.0.0.1",
        "invalid CIDR",
    );
    assert_single(
        "  - from:\n    - ipBlock:\n        cidr: 10.0.0.0/8\n        except:\n        - 10.1.0.0/99\n",
        "spec.ingress[0].from[0].ipBlock.except[0]",
        "10.1.0.0/99",
        "invalid CIDR",
    );
}

#[test]
fn except_must_be_a_strict_subset_of_the_cidr() {
    let rule = |except: &str| {
        format!(
            "  - from:\n    - ipBlock:\n        cidr: 10.0.0.0/16\n        except:\n        - 10.0.1.0/24\n        - {except}\n"
        )
    };
    let field = "spec.ingress[0].from[0].ipBlock.except[1]";
    assert_single(&rule("10.1.0.0/24"), field, "10.1.0.0/24", "strict subset");
    assert_single(
        &rule("10.0.0.0/16"),
        field,
        "- 10.0.0.0/16",
        "strict subset",
    );
    assert_single(&rule("10.0.0.0/8"), field, "10.0.0.0/8", "strict subset");
    assert_single(&rule("fd00::/64"), field, "fd00::/64", "strict subset");
}

#[test]
fn end_port_rules() {
    let f = "spec.ingress[0].ports[0].endPort";
    assert_single(
        "  - ports:\n    - protocol: TCP\n      endPort: 90\n",
        f,
        "endPort: 90",
        "when `port` is not specified",
    );
    assert_single(
        "  - ports:\n    - port: http\n      endPort: 90\n",
        f,
        "endPort: 90",
        "non-numeric",
    );
    assert_single(
        "  - ports:\n    - port: 90\n      endPort: 80\n",
        f,
        "endPort: 80",
        "greater than or equal",
    );
    assert_single(
        "  - ports:\n    - port: 90\n      endPort: 70000\n",
        f,
        "endPort: 70000",
        "between 1 and 65535",
    );
}

#[test]
fn ports_protocols_and_port_names() {
    assert_single(
        "  - ports:\n    - protocol: ICMP\n      port: 1\n",
        "spec.ingress[0].ports[0].protocol",
        "ICMP",
        "unsupported protocol",
    );
    assert_single(
        "  - ports:\n    - protocol: tcp\n",
        "spec.ingress[0].ports[0].protocol",
        "tcp",
        "unsupported protocol",
    );
    assert_single(
        "  - ports:\n    - port: 0\n",
        "spec.ingress[0].ports[0].port",
        "port: 0",
        "between 1 and 65535",
    );
    assert_single(
        "  - ports:\n    - port: 70000\n",
        "spec.ingress[0].ports[0].port",
        "port: 70000",
        "between 1 and 65535",
    );
    assert_single(
        "  - ports:\n    - port: HTTP_x\n",
        "spec.ingress[0].ports[0].port",
        "HTTP_x",
        "port name",
    );
    assert_single(
        "  - ports:\n    - port: \"8080\"\n",
        "spec.ingress[0].ports[0].port",
        "\"8080\"",
        "port name",
    );
    assert_single(
        "  - ports:\n    - port: averyveryverylongname\n",
        "spec.ingress[0].ports[0].port",
        "averyvery",
        "port name",
    );
}

#[test]
fn selector_operators_and_values() {
    let expr = |e: &str| {
        format!("  - from:\n    - podSelector:\n        matchExpressions:\n        - key: app\n{e}")
    };
    let base = "spec.ingress[0].from[0].podSelector.matchExpressions[0]";
    assert_single(
        &expr("          operator: Equals\n          values: [a]\n"),
        &format!("{base}.operator"),
        "Equals",
        "unsupported operator",
    );
    // Without `values` the nearest line is the expression's own.
    assert_single(
        &expr("          operator: In\n"),
        &format!("{base}.values"),
        "key: app",
        "must be specified",
    );
    assert_single(
        &expr("          operator: NotIn\n          values: []\n"),
        &format!("{base}.values"),
        "values: []",
        "must be specified",
    );
    assert_single(
        &expr("          operator: Exists\n          values: [a]\n"),
        &format!("{base}.values"),
        "values: [a]",
        "may not be specified",
    );
    assert_single(
        &expr("          operator: DoesNotExist\n          values: [a]\n"),
        &format!("{base}.values"),
        "values: [a]",
        "may not be specified",
    );
}

#[test]
fn label_keys_and_values() {
    assert_single(
        "  - from:\n    - namespaceSelector:\n        matchLabels:\n          -bad: x\n",
        "spec.ingress[0].from[0].namespaceSelector.matchLabels.-bad",
        "-bad",
        "label key",
    );
    assert_single(
        "  - from:\n    - podSelector:\n        matchLabels:\n          app: a b\n",
        "spec.ingress[0].from[0].podSelector.matchLabels.app",
        "a b",
        "label value",
    );
    assert_single(
        "  - from:\n    - podSelector:\n        matchExpressions:\n        - key: Bad_Prefix/x\n          operator: Exists\n",
        "spec.ingress[0].from[0].podSelector.matchExpressions[0].key",
        "Bad_Prefix",
        "label key",
    );
    assert_single(
        "  - from:\n    - podSelector:\n        matchExpressions:\n        - key: app\n          operator: In\n          values:\n          - ok\n          - not ok\n",
        "spec.ingress[0].from[0].podSelector.matchExpressions[0].values[1]",
        "not ok",
        "label value",
    );
}

#[test]
fn peers_need_exactly_one_kind_of_selector() {
    assert_single(
        "  - from:\n    - podSelector: {}\n      ipBlock: {cidr: 10.0.0.0/8}\n",
        "spec.ingress[0].from[0]",
        "- podSelector",
        "both ipBlock and another peer",
    );
    assert_single(
        "  - from:\n    - namespaceSelector: {}\n    - {}\n",
        "spec.ingress[0].from[1]",
        "- {}",
        "must specify a peer",
    );
}

#[test]
fn unknown_policy_types_are_rejected() {
    let text = format!(
        "{NAMESPACE}---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: bad\n  namespace: x\nspec:\n  podSelector: {{}}\n  policyTypes:\n  - Ingress\n  - Sideways\n"
    );
    let errs = errors(&text);
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].field.as_deref(), Some("spec.policyTypes[1]"));
    assert_eq!(errs[0].line, line_of(&text, "Sideways"));
}

#[test]
fn every_problem_is_reported_not_only_the_first() {
    let text = format!(
        "{}---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: also-bad\n  namespace: x\nspec:\n  podSelector: {{}}\n  egress:\n  - to:\n    - ipBlock: {{cidr: 300.0.0.0/8}}\n",
        policy_with_rule(
            "  - from:\n    - ipBlock:\n        cidr: 10.0.0.0/16\n        except: [10.9.0.0/24]\n    ports:\n    - protocol: ICMP\n    - port: 90\n      endPort: 80\n",
        )
    );
    let errs = errors(&text);
    let fields: Vec<(usize, &str)> = errs
        .iter()
        .map(|d| (d.document, d.field.as_deref().unwrap_or("")))
        .collect();
    assert_eq!(
        fields,
        [
            (2, "spec.ingress[0].from[0].ipBlock.except[0]"),
            (2, "spec.ingress[0].ports[0].protocol"),
            (2, "spec.ingress[0].ports[1].endPort"),
            (3, "spec.egress[0].to[0].ipBlock.cidr"),
        ]
    );
    // Errors in several files are all reported too.
    let sources = [
        Source {
            name: "one.yaml".into(),
            text: policy_with_rule("  - ports: [{port: 0}]\n"),
        },
        Source {
            name: "two.yaml".into(),
            text: "kind: [unclosed\n".into(),
        },
    ];
    let errs = load_sources(&sources, &LoadOptions::default())
        .unwrap_err()
        .0;
    let files: Vec<&str> = errs.iter().map(|d| d.file.as_str()).collect();
    assert_eq!(files, ["one.yaml", "two.yaml"]);
}

#[test]
fn one_invalid_policy_among_valid_objects_yields_no_cluster() {
    let text = format!(
        "{}---\napiVersion: v1\nkind: Pod\nmetadata: {{name: p, namespace: x}}\nspec:\n  containers: [{{name: c}}]\n",
        policy_with_rule("  - ports: [{port: 0}]\n")
    );
    let result = load_sources(
        &[Source {
            name: "bad.yaml".into(),
            text,
        }],
        &LoadOptions::default(),
    );
    assert!(result.is_err());
}

#[test]
fn valid_edge_cases_are_accepted() {
    let text = policy_with_rule(
        "  - from:\n    - ipBlock: {cidr: 10.0.0.0/8, except: [10.0.0.0/9, 10.128.0.1/32]}\n    - ipBlock: {cidr: \"::/0\", except: [\"fd00::/8\"]}\n    - namespaceSelector: {}\n      podSelector: {matchExpressions: [{key: app.kubernetes.io/name, operator: NotIn, values: [a, b-c.d_e]}]}\n    ports:\n    - {port: 1, endPort: 65535}\n    - {port: 65535, endPort: 65535, protocol: SCTP}\n    - {port: http-metrics, protocol: UDP}\n    - {}\n",
    );
    let c = load_sources(
        &[Source {
            name: "ok.yaml".into(),
            text,
        }],
        &LoadOptions::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.policies[0].ingress[0].peers.len(), 3);
    assert_eq!(c.policies[0].ingress[0].ports.len(), 4);
}
