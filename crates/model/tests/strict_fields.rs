//! Unknown fields, as `kubectl apply --validate=strict` (kubectl's default)
//! rejects them: `podSelecter:` must not silently select every pod.

use netpol_model::{
    Cluster, Diagnostic, LoadErrors, LoadOptions, Source, Validation, load_paths, load_sources,
};

const TYPO: &str = "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: web-only
  namespace: shop
spec:
  podSelecter:
    matchLabels: {app: web}
  ingress:
  - from:
    - podSelector: {matchLabels: {app: api}}
";

fn load(text: &str, validation: Validation) -> Result<Cluster, LoadErrors> {
    load_sources(
        &[Source {
            name: "np.yaml".into(),
            text: text.into(),
        }],
        &LoadOptions {
            validation,
            ..LoadOptions::default()
        },
    )
}

fn errors(text: &str) -> Vec<Diagnostic> {
    match load(text, Validation::Strict) {
        Ok(_) => panic!("expected errors from:\n{text}"),
        Err(e) => e.0,
    }
}

#[test]
fn a_misspelt_field_is_an_error_with_line_path_and_suggestion() {
    let errs = errors(TYPO);
    assert_eq!(errs.len(), 1, "{errs:#?}");
    let d = &errs[0];
    assert_eq!(d.file, "np.yaml");
    assert_eq!(d.document, 1);
    assert_eq!(d.line, 7);
    assert_eq!(d.object.as_deref(), Some("NetworkPolicy shop/web-only"));
    assert_eq!(d.field.as_deref(), Some("spec.podSelecter"));
    assert_eq!(
        d.message,
        "unknown field \"podSelecter\" (did you mean podSelector?)"
    );
    assert_eq!(
        d.to_string(),
        "np.yaml:7: document 1 (NetworkPolicy shop/web-only): spec.podSelecter: unknown field \"podSelecter\" (did you mean podSelector?)"
    );
}

#[test]
fn warn_reports_the_same_diagnostic_and_loads_ignore_loads_silently() {
    let strict = errors(TYPO);
    let warned = load(TYPO, Validation::Warn).unwrap();
    assert_eq!(warned.warnings, strict);
    // Loaded as the API server without strict validation would: the typo is
    // dropped and the empty podSelector selects every pod of shop.
    assert!(warned.policies[0].pod_selector.is_empty());
    let ignored = load(TYPO, Validation::Ignore).unwrap();
    assert!(ignored.warnings.is_empty());
    assert_eq!(ignored.policies, warned.policies);
}

#[test]
fn unknown_fields_are_found_at_every_depth_and_all_reported() {
    // Each line marked `# <-` holds one unknown field.
    let text = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  lables: {app: web}                # <-
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx
        ports:
        - containerPort: 80
          protocl: TCP              # <-
      - name: side
        image: x
        ports:
        - {containerPort: 81, nmae: metrics}   # <-
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: shop}
spec:
  podSelector: {}
  egress:
  - from: [{podSelector: {}}]       # <-
";
    let errs = errors(text);
    let got: Vec<(usize, usize, &str, &str)> = errs
        .iter()
        .map(|d| {
            (
                d.document,
                d.line,
                d.field.as_deref().unwrap_or(""),
                d.message.as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                1,
                6,
                "metadata.lables",
                "unknown field \"lables\" (did you mean labels?)"
            ),
            (
                1,
                18,
                "spec.template.spec.containers[0].ports[0].protocl",
                "unknown field \"protocl\" (did you mean protocol?)"
            ),
            (
                1,
                22,
                "spec.template.spec.containers[1].ports[0].nmae",
                "unknown field \"nmae\" (did you mean name?)"
            ),
            (
                2,
                30,
                "spec.egress[0].from",
                "unknown field \"from\" (known fields: ports, to)"
            ),
        ]
    );
    let marked: Vec<usize> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains("# <-"))
        .map(|(i, _)| i + 1)
        .collect();
    assert_eq!(marked, [6, 18, 22, 30]);
}

#[test]
fn objects_inside_a_list_carry_their_item_path() {
    let text = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Service\n  metadata: {name: s, namespace: a}\n  spec:\n    slector: {app: x}\n";
    let errs = errors(text);
    assert_eq!(errs.len(), 1, "{errs:#?}");
    assert_eq!(errs[0].field.as_deref(), Some("items[0].spec.slector"));
    assert_eq!(errs[0].line, 8);
    assert!(
        errs[0].message.contains("did you mean selector?"),
        "{}",
        errs[0]
    );
}

#[test]
fn type_errors_are_still_reported_at_their_field() {
    let text = "apiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: a}\nspec:\n  ports:\n  - port: eighty\n";
    let errs = errors(text);
    assert_eq!(errs.len(), 1, "{errs:#?}");
    assert_eq!(errs[0].field.as_deref(), Some("spec.ports[0].port"));
    assert_eq!(errs[0].line, 6);
}

#[test]
fn kinds_netpol_does_not_model_are_not_validated() {
    let text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: a}\ndata: {x: y}\nnotAField: 1\n---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {anything: goes}\n";
    let c = load(text, Validation::Strict).unwrap();
    assert_eq!(c.skipped["ConfigMap"], 1);
    assert_eq!(c.skipped["Widget"], 1);
}

/// `kubectl get namespaces,pods,services,networkpolicies,deployments,replicasets -A -o yaml`
/// with everything the API server adds: managedFields, status, defaults.
#[test]
fn a_live_kubectl_dump_loads_cleanly_in_strict_mode() {
    let dump = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../cli/tests/fixtures/live/cluster.yaml"
    );
    let c = load_paths(&[dump], &LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    assert!(c.warnings.is_empty());
    assert!(
        c.endpoints
            .iter()
            .all(|e| e.kind == netpol_model::WorkloadKind::Pod)
    );
    assert_eq!(c.endpoints.len(), 4);
}

/// The real homelabs in ../shared load with strict validation: their fields
/// are all known to Kubernetes 1.33.
#[test]
fn the_real_homelabs_have_no_unknown_fields() {
    let Some(shared) = netpol_testdata::shared("realcases") else {
        return;
    };
    for case in ["homelab", "talos-gitops"] {
        let dir = shared.join(case).join("manifests");
        let c =
            load_paths(&[&dir], &LoadOptions::default()).unwrap_or_else(|e| panic!("{case}: {e}"));
        assert!(c.warnings.is_empty(), "{case}: {:?}", c.warnings);
        assert!(!c.endpoints.is_empty());
    }
}

/// When the objects are kept for discovery, the built-in kinds it reads are
/// validated too: a misspelt Ingress backend would otherwise be a need that
/// discovery silently misses. Custom resources stay unvalidated.
#[test]
fn kinds_discovery_reads_are_validated_when_kept() {
    let text = "apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: shop}
spec:
  rules:
  - http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          servce: {name: web, port: {number: 80}}
---
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: web, namespace: shop}
spec: {anything: goes}
";
    let source = [Source {
        name: "ing.yaml".into(),
        text: text.into(),
    }];
    let kept = |validation| LoadOptions {
        validation,
        keep_manifests: true,
        ..LoadOptions::default()
    };
    let e = load_sources(&source, &kept(Validation::Strict))
        .unwrap_err()
        .0;
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(
        e[0].field.as_deref(),
        Some("spec.rules[0].http.paths[0].backend.servce")
    );
    assert_eq!(e[0].line, 11);
    assert!(e[0].message.contains("did you mean service?"), "{}", e[0]);
    let warned = load_sources(&source, &kept(Validation::Warn)).unwrap();
    assert_eq!(warned.warnings.len(), 1);
    assert_eq!(warned.manifests.len(), 2);
    // Not kept: not read, so not validated (the connectivity model skips them).
    assert!(load(text, Validation::Strict).is_ok());
}

/// A SOPS-encrypted Secret's `sops:` metadata is removed before the API
/// server sees it: not an unknown field. Its other fields still are checked.
#[test]
fn sops_metadata_is_not_an_unknown_field() {
    let secret = |extra: &str| {
        format!(
            "apiVersion: v1\nkind: Secret\nmetadata: {{name: db, namespace: shop}}\nstringData: {{host: \"ENC[AES256_GCM,data:abc,type:str]\"}}\nsops: {{version: 3.9.0, mac: x}}\n{extra}"
        )
    };
    let kept = LoadOptions {
        keep_manifests: true,
        ..LoadOptions::default()
    };
    let load_kept = |text: String| {
        load_sources(
            &[Source {
                name: "s.yaml".into(),
                text,
            }],
            &kept,
        )
    };
    assert!(load_kept(secret("")).is_ok());
    let e = load_kept(secret("strigData: {}\n")).unwrap_err().0;
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(
        e[0].message.contains("did you mean stringData?"),
        "{}",
        e[0]
    );
}
