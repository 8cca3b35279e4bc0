//! Pods of a JSON List are read straight from their text into the typed
//! Pod, without a parsed tree or line index. Whatever the Pods hold (clean,
//! or with any problem a diagnostic reports), the cluster and the
//! diagnostics must be those of the YAML parser reading the same text.

use netpol_model::{
    Cluster, Diagnostic, LoadOptions, Manifest, Origin, Source, Validation, load_sources, yaml,
};
use proptest::prelude::*;
use serde_json::Value;

/// Ways a Pod can differ from a clean one, each touching what the typed
/// read, the conversion or the duplicate check judge.
#[derive(Debug, Clone, Copy)]
enum Twist {
    Clean,
    RepeatedLabel,
    RepeatedTopKey,
    RepeatedSpecKey,
    UnknownField,
    TypeError,
    BadLabelValue,
    BadIp,
    NoName,
    EscapedName,
    EscapedKind,
    EscapedKey,
    OtherApiVersion,
    MetadataLast,
    NoKind,
    EmptyNamespace,
    NoNamespace,
    HostNetwork,
    Sidecar,
    Finished,
    BadPortName,
    BigPort,
    /// Another item's name: a duplicate Pod.
    SameNameAs(usize),
    NotAPod,
}

const TWISTS: [Twist; 23] = [
    Twist::Clean,
    Twist::RepeatedLabel,
    Twist::RepeatedTopKey,
    Twist::RepeatedSpecKey,
    Twist::UnknownField,
    Twist::TypeError,
    Twist::BadLabelValue,
    Twist::BadIp,
    Twist::NoName,
    Twist::EscapedName,
    Twist::EscapedKind,
    Twist::EscapedKey,
    Twist::OtherApiVersion,
    Twist::MetadataLast,
    Twist::NoKind,
    Twist::EmptyNamespace,
    Twist::NoNamespace,
    Twist::HostNetwork,
    Twist::Sidecar,
    Twist::Finished,
    Twist::BadPortName,
    Twist::BigPort,
    Twist::NotAPod,
];

/// Item `i` of a List, pretty-printed as kubectl does, with `twist`.
fn pod(i: usize, twist: Twist) -> String {
    let name = match twist {
        Twist::SameNameAs(j) => format!("p{j}"),
        Twist::EscapedName => format!("\\u0070{i}"),
        _ => format!("p{i}"),
    };
    let kind = match twist {
        Twist::EscapedKind => "P\\u006fd",
        Twist::NotAPod => "Service",
        _ => "Pod",
    };
    let api = if matches!(twist, Twist::OtherApiVersion) {
        "v2"
    } else {
        "v1"
    };
    let labels = match twist {
        Twist::RepeatedLabel => r#""app": "web", "tier": "a", "app": "db""#,
        Twist::BadLabelValue => r#""app": "-web-""#,
        _ => r#""app": "web", "pod-template-hash": "abc""#,
    };
    let namespace = match twist {
        Twist::EmptyNamespace => "\n        \"namespace\": \"\",",
        Twist::NoNamespace => "",
        _ => "\n        \"namespace\": \"shop\",",
    };
    let name_field = match twist {
        Twist::NoName => String::new(),
        Twist::EscapedKey => format!("\n        \"n\\u0061me\": \"{name}\","),
        _ => format!("\n        \"name\": \"{name}\","),
    };
    let metadata = format!(
        "\"metadata\": {{{name_field}{namespace}\n        \"labels\": {{{labels}}},\n        \"ownerReferences\": [{{\"apiVersion\": \"apps/v1\", \"kind\": \"ReplicaSet\", \"name\": \"web-abc\", \"uid\": \"u\"}}]\n    }}"
    );
    let port = match twist {
        Twist::TypeError => r#""containerPort": "eighty""#,
        Twist::BigPort => r#""containerPort": 70000"#,
        Twist::BadPortName => r#""containerPort": 80, "name": "Web_Port""#,
        _ => r#""containerPort": 80, "name": "http""#,
    };
    let spec_extra = match twist {
        Twist::UnknownField => "\n        \"nodeNme\": \"n1\",",
        Twist::RepeatedSpecKey => "\n        \"nodeName\": \"n1\",\n        \"nodeName\": \"n2\",",
        Twist::HostNetwork => "\n        \"hostNetwork\": true,",
        Twist::Sidecar => {
            "\n        \"initContainers\": [{\"name\": \"proxy\", \"restartPolicy\": \"Always\", \"ports\": [{\"containerPort\": 15001}]}],"
        }
        _ => "",
    };
    let ip = match twist {
        Twist::BadIp => "10.0.0.300".to_string(),
        _ => format!("10.0.{}.{}", i / 250, i % 250 + 1),
    };
    let phase = if matches!(twist, Twist::Finished) {
        "Succeeded"
    } else {
        "Running"
    };
    let spec = format!(
        "\"spec\": {{{spec_extra}\n        \"containers\": [\n            {{\"name\": \"main\", \"image\": \"x\", \"ports\": [{{{port}}}]}}\n        ]\n    }},\n    \"status\": {{\"hostIP\": \"192.168.0.1\", \"phase\": \"{phase}\", \"podIP\": \"{ip}\", \"podIPs\": [{{\"ip\": \"{ip}\"}}]}}"
    );
    let kind_field = if matches!(twist, Twist::NoKind) {
        String::new()
    } else {
        format!("\n    \"kind\": \"{kind}\",")
    };
    let top_repeat = if matches!(twist, Twist::RepeatedTopKey) {
        "\n    \"apiVersion\": \"v1\","
    } else {
        ""
    };
    if matches!(twist, Twist::MetadataLast) {
        format!("{{\n    \"apiVersion\": \"{api}\",{kind_field}\n    {spec},\n    {metadata}\n}}")
    } else {
        format!(
            "{{\n    \"apiVersion\": \"{api}\",{top_repeat}{kind_field}\n    {metadata},\n    {spec}\n}}"
        )
    }
}

fn list(items: &[String]) -> String {
    format!(
        "{{\n\"apiVersion\": \"v1\",\n\"kind\": \"List\",\n\"items\": [\n{}\n],\n\"metadata\": {{\"resourceVersion\": \"\"}}\n}}\n",
        items.join(",\n")
    )
}

/// The files loaded as given and through the YAML parser (a trailing
/// comment makes serde_json refuse each; lines stay the same).
/// A load's cluster and its kept manifests as read, or its diagnostics.
type Loaded = Result<(Cluster, Vec<KeptAsRead>), Vec<Diagnostic>>;
type KeptAsRead = (String, Origin, Value, Vec<(String, usize)>);

fn both_ways(files: &[String], opts: &LoadOptions) -> (Loaded, Loaded) {
    let load = |suffix: &str| {
        let sources: Vec<Source> = files
            .iter()
            .enumerate()
            .map(|(i, text)| Source {
                name: format!("pods-{i}.json"),
                text: format!("{text}{suffix}"),
            })
            .collect();
        load_sources(&sources, opts)
            .map(|mut c| {
                let kept = std::mem::take(&mut c.manifests);
                (c, kept.iter().map(kept_as_read).collect())
            })
            .map_err(|e| e.0)
    };
    (load(""), load("# read by the YAML parser\n"))
}

/// A kept manifest as rules read it: its value, and the line every path of
/// it answers (a List item's index of lines may be its own or the List's).
fn kept_as_read(m: &Manifest) -> KeptAsRead {
    fn paths(v: &Value, path: String, out: &mut Vec<String>) {
        match v {
            Value::Object(map) => {
                for (k, x) in map {
                    paths(x, yaml::child_key(&path, k), out);
                }
            }
            Value::Array(items) => {
                for (i, x) in items.iter().enumerate() {
                    paths(x, yaml::child_index(&path, i), out);
                }
            }
            _ => {}
        }
        out.push(path);
    }
    let mut all = Vec::new();
    paths(&m.value, String::new(), &mut all);
    let lines = all
        .into_iter()
        .map(|p| (m.line(&p), p))
        .map(|(l, p)| (p, l))
        .collect();
    (m.display_name(), m.origin.clone(), m.value.clone(), lines)
}

fn twist() -> impl Strategy<Value = Twist> {
    prop_oneof![
        6 => Just(Twist::Clean),
        4 => proptest::sample::select(TWISTS.to_vec()),
        1 => (0usize..600).prop_map(Twist::SameNameAs),
    ]
}

fn options() -> impl Strategy<Value = LoadOptions> {
    (
        proptest::sample::select(vec![
            Validation::Strict,
            Validation::Warn,
            Validation::Ignore,
        ]),
        proptest::bool::weighted(0.2),
    )
        .prop_map(|(validation, keep_manifests)| LoadOptions {
            validation,
            keep_manifests,
            ..LoadOptions::default()
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    /// Lists of up to 600 Pods (several parallel chunks), in one or two
    /// files, any twist anywhere: the same cluster, origins and lines
    /// included, or the same diagnostics, in the same order.
    #[test]
    fn pods_read_from_text_load_as_the_yaml_parser_loads_them(
        twists in proptest::collection::vec(twist(), 1..600),
        split in proptest::option::of(0.0f64..1.0),
        opts in options(),
    ) {
        let items: Vec<String> = twists.iter().enumerate().map(|(i, t)| pod(i, *t)).collect();
        let files = match split {
            Some(at) => {
                let at = ((items.len() as f64) * at) as usize;
                vec![list(&items[..at]), list(&items[at..])]
            }
            None => vec![list(&items)],
        };
        let (text, yaml) = both_ways(&files, &opts);
        prop_assert_eq!(text, yaml);
    }
}

/// Every twist on its own, among clean Pods: each loads or fails exactly as
/// through the YAML parser, and the harness does see both outcomes.
#[test]
fn every_twist_alone_loads_as_the_yaml_parser_loads_it() {
    let mut failed = 0;
    for twist in TWISTS.into_iter().chain([Twist::SameNameAs(0)]) {
        let items: Vec<String> = (0..5)
            .map(|i| pod(i, if i == 3 { twist } else { Twist::Clean }))
            .collect();
        let (text, yaml) = both_ways(&[list(&items)], &LoadOptions::default());
        assert_eq!(text, yaml, "{twist:?}");
        failed += usize::from(text.is_err());
    }
    assert!(
        (8..TWISTS.len()).contains(&failed),
        "{failed} twists failed"
    );
}

/// A Pod of a later file with the name of an earlier file's Pod: reported
/// at the later one's `metadata.name`, which the text path located without
/// an index of its lines.
#[test]
fn a_duplicate_across_files_is_reported_at_its_name() {
    let first = list(&(0..3).map(|i| pod(i, Twist::Clean)).collect::<Vec<_>>());
    let second = list(
        &(0..3)
            .map(|i| {
                pod(
                    i + 10,
                    if i == 2 {
                        Twist::SameNameAs(1)
                    } else {
                        Twist::Clean
                    },
                )
            })
            .collect::<Vec<_>>(),
    );
    let (text, yaml) = both_ways(&[first, second.clone()], &LoadOptions::default());
    assert_eq!(text, yaml);
    let errs = text.unwrap_err();
    assert_eq!(errs.len(), 1, "{errs:?}");
    let e = &errs[0];
    let name_line = second
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains("\"name\": \"p1\""))
        .map(|(n, _)| n + 1)
        .next()
        .unwrap();
    assert_eq!(
        (e.file.as_str(), e.line, e.field.as_deref()),
        ("pods-1.json", name_line, Some("items[2].metadata.name"))
    );
    assert!(
        e.message
            .starts_with("duplicate Pod shop/p1: also defined at pods-0.json:"),
        "{e:?}"
    );
}
