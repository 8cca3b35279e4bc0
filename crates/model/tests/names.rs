//! Object names and namespaces, and controllers' selectors, validated as the
//! API server does: what it would reject never reaches the engine.

use netpol_model::{Diagnostic, LoadOptions, Source, load_sources};

fn result(text: &str) -> Result<netpol_model::Cluster, Vec<Diagnostic>> {
    load_sources(
        &[Source {
            name: "in.yaml".into(),
            text: text.into(),
        }],
        &LoadOptions::default(),
    )
    .map_err(|e| e.0)
}

/// The (field, message) of every error loading `text`.
fn errors(text: &str) -> Vec<(String, String)> {
    match result(text) {
        Ok(_) => panic!("expected errors from:\n{text}"),
        Err(errs) => errs
            .into_iter()
            .map(|d| (d.field.unwrap_or_default(), d.message))
            .collect(),
    }
}

fn object(kind: &str, name: &str, namespace: &str) -> String {
    let api = match kind {
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" => "apps/v1",
        "Job" | "CronJob" => "batch/v1",
        "NetworkPolicy" => "networking.k8s.io/v1",
        _ => "v1",
    };
    let ns = if kind == "Namespace" {
        String::new()
    } else {
        format!("\n  namespace: {namespace}")
    };
    let pod = "{metadata: {labels: {app: x}}, spec: {containers: [{name: c}]}}";
    let spec = match kind {
        "Namespace" => String::new(),
        "Pod" => "spec: {containers: [{name: c}]}\n".to_string(),
        "Service" => "spec: {selector: {app: x}, ports: [{port: 80}]}\n".to_string(),
        "NetworkPolicy" => "spec: {podSelector: {}}\n".to_string(),
        "CronJob" => {
            format!("spec: {{schedule: '* * * * *', jobTemplate: {{spec: {{template: {pod}}}}}}}\n")
        }
        "Job" => format!("spec: {{template: {pod}}}\n"),
        "ReplicationController" => format!("spec: {{selector: {{app: x}}, template: {pod}}}\n"),
        _ => format!("spec: {{selector: {{matchLabels: {{app: x}}}}, template: {pod}}}\n"),
    };
    format!("apiVersion: {api}\nkind: {kind}\nmetadata:\n  name: {name}{ns}\n{spec}")
}

#[track_caller]
fn accepted(kind: &str, name: &str) {
    if let Err(e) = result(&object(kind, name, "a")) {
        panic!("{kind} {name:?} should be accepted: {e:?}");
    }
}

#[track_caller]
fn rejected(kind: &str, name: &str, message: &str) {
    let errs = errors(&object(kind, name, "a"));
    assert_eq!(errs.len(), 1, "{kind} {name:?}: {errs:?}");
    assert_eq!(errs[0].0, "metadata.name", "{kind} {name:?}");
    assert!(
        errs[0].1.contains(message),
        "{kind} {name:?}: {:?} lacks {message:?}",
        errs[0].1
    );
}

const SUBDOMAIN: &str = "a lowercase RFC 1123 subdomain";
const LABEL: &str = "a lowercase RFC 1123 label";
const DNS1035: &str = "a DNS-1035 label";

#[test]
fn most_objects_are_named_by_a_dns_subdomain() {
    for kind in [
        "Pod",
        "Deployment",
        "DaemonSet",
        "ReplicaSet",
        "Job",
        "NetworkPolicy",
        "ReplicationController",
    ] {
        accepted(kind, "web.v2-1");
        accepted(kind, "1web");
        accepted(kind, &"a".repeat(253));
        rejected(kind, "Web", SUBDOMAIN);
        rejected(kind, "web_1", SUBDOMAIN);
        rejected(kind, "-web", SUBDOMAIN);
        rejected(kind, "web.", SUBDOMAIN);
        rejected(kind, &"a".repeat(254), "no more than 253 characters");
    }
}

#[test]
fn namespaces_and_statefulsets_are_named_by_a_dns_label() {
    for kind in ["Namespace", "StatefulSet"] {
        accepted(kind, "db-1");
        accepted(kind, "1db");
        accepted(kind, &"a".repeat(63));
        rejected(kind, "db.v1", LABEL);
        rejected(kind, "Db", LABEL);
        rejected(kind, &"a".repeat(64), "no more than 63 characters");
    }
}

#[test]
fn services_are_named_by_an_rfc_1035_label() {
    accepted("Service", "web-1");
    rejected("Service", "1web", DNS1035);
    rejected("Service", "web.v1", DNS1035);
    rejected("Service", &"a".repeat(64), "no more than 63 characters");
}

#[test]
fn cronjob_names_leave_room_for_the_job_suffix() {
    accepted("CronJob", &"a".repeat(52));
    rejected("CronJob", &"a".repeat(53), "no more than 52 characters");
    rejected("CronJob", "Nightly", SUBDOMAIN);
}

#[test]
fn the_namespace_of_every_object_is_a_dns_label() {
    for kind in ["Pod", "Service", "NetworkPolicy", "Deployment"] {
        let errs = errors(&object(kind, "x", "team.a"));
        assert_eq!(errs.len(), 1, "{kind}: {errs:?}");
        assert_eq!(errs[0].0, "metadata.namespace");
        assert!(errs[0].1.contains(LABEL), "{errs:?}");
    }
}

#[test]
fn errors_point_at_the_line_of_the_name() {
    let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  namespace: a\n  name: Web_1\nspec: {containers: [{name: c}]}\n";
    let d = &result(text).unwrap_err()[0];
    assert_eq!((d.line, d.object.as_deref()), (5, Some("Pod a/Web_1")));
}

fn controller(kind: &str, selector: &str, labels: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: {kind}\nmetadata: {{name: web, namespace: a}}\nspec:\n  {selector}\n  template:\n    metadata:\n      labels: {labels}\n    spec: {{containers: [{{name: c}}]}}\n"
    )
}

#[test]
fn a_controller_whose_selector_misses_its_template_is_rejected() {
    for kind in ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"] {
        let errs = errors(&controller(
            kind,
            "selector: {matchLabels: {app: web}}",
            "{app: webb}",
        ));
        assert_eq!(
            errs,
            [(
                "spec.template.metadata.labels".to_string(),
                "`selector` does not match template `labels`".to_string()
            )],
            "{kind}"
        );
        // matchExpressions count too.
        let errs = errors(&controller(
            kind,
            "selector: {matchExpressions: [{key: tier, operator: NotIn, values: [db]}]}",
            "{app: web, tier: db}",
        ));
        assert_eq!(errs.len(), 1, "{kind}: {errs:?}");
        // A selector that picks a subset of the labels is fine.
        result(&controller(
            kind,
            "selector: {matchLabels: {app: web}, matchExpressions: [{key: tier, operator: In, values: [fe, be]}]}",
            "{app: web, tier: fe, version: v2}",
        ))
        .unwrap_or_else(|e| panic!("{kind}: {e:?}"));
    }
}

#[test]
fn an_apps_v1_controller_selector_must_not_be_empty() {
    let errs = errors(&controller("DaemonSet", "selector: {}", "{app: web}"));
    assert_eq!(
        errs,
        [(
            "spec.selector".to_string(),
            "empty selector is invalid for daemonset".to_string()
        )]
    );
    // Left out, it is read as the template's labels.
    result(&controller("Deployment", "replicas: 1", "{app: web}")).unwrap();
}

#[test]
fn jobs_and_replication_controllers_check_a_selector_they_are_given() {
    let job = "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j, namespace: a}\nspec:\n  SELECTOR\n  template: {metadata: {labels: {app: j}}, spec: {containers: [{name: c}]}}\n";
    // Left out, the API server generates it.
    result(&job.replace("SELECTOR", "backoffLimit: 1")).unwrap();
    let errs = errors(&job.replace("SELECTOR", "selector: {matchLabels: {app: k}}"));
    assert_eq!(errs[0].0, "spec.template.metadata.labels");
    let rc = "apiVersion: v1\nkind: ReplicationController\nmetadata: {name: r, namespace: a}\nspec:\n  SELECTOR\n  template: {metadata: {labels: {app: r}}, spec: {containers: [{name: c}]}}\n";
    result(&rc.replace("SELECTOR", "replicas: 1")).unwrap();
    result(&rc.replace("SELECTOR", "selector: {app: r}")).unwrap();
    let errs = errors(&rc.replace("SELECTOR", "selector: {app: s}"));
    assert_eq!(errs[0].0, "spec.template.metadata.labels");
}
