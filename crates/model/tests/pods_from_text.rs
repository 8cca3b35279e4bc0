//! Pods of a List are read straight into the typed Pod, without a parsed
//! tree or line index: a JSON List's from their text, a YAML List's from
//! the fast reader's events. Whatever the Pods hold (clean, or with any
//! problem a diagnostic reports), the cluster and the diagnostics must be
//! those of yaml-rust2 reading the whole text.

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
    // Only YAML can write these; JSON writes them clean.
    /// `1:`, a key that resolves to a number.
    NumberKey,
    /// `~:` and `null:`, one key twice once resolved.
    ResolvedKeyTwice,
    /// `version: 1.0`, a number where a string must be.
    NumberLabel,
    /// `nodeName: ~`, and an empty value.
    Nulls,
    /// `containerPort: 0x50`, which is 80.
    HexPort,
    /// `'p''0'`: an invalid name, single-quoted.
    SingleQuotedName,
    /// `hostNetwork: "true"`, a string where a boolean must be.
    QuotedBool,
    /// Comments, blank lines, flow `{}` and quoted keys.
    Decorated,
}

const YAML_TWISTS: [Twist; 8] = [
    Twist::NumberKey,
    Twist::ResolvedKeyTwice,
    Twist::NumberLabel,
    Twist::Nulls,
    Twist::HexPort,
    Twist::SingleQuotedName,
    Twist::QuotedBool,
    Twist::Decorated,
];

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

/// The values both formats write alike: apiVersion, address and phase.
fn plain_values(i: usize, twist: Twist) -> (&'static str, String, &'static str) {
    let api = if matches!(twist, Twist::OtherApiVersion) {
        "v2"
    } else {
        "v1"
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
    (api, ip, phase)
}

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
    let (api, ip, phase) = plain_values(i, twist);
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

/// Item `i` of a YAML List as `kubectl get -o yaml` writes it, with `twist`.
fn yaml_pod(i: usize, twist: Twist) -> String {
    let name = match twist {
        Twist::SameNameAs(j) => format!("p{j}"),
        Twist::EscapedName => format!("\"\\x70{i}\""),
        Twist::SingleQuotedName => format!("'p''{i}'"),
        _ => format!("p{i}"),
    };
    let kind = match twist {
        Twist::EscapedKind => "\"P\\x6fd\"",
        Twist::NotAPod => "Service",
        _ => "Pod",
    };
    let labels = match twist {
        Twist::RepeatedLabel => "\n      app: web\n      tier: a\n      app: db",
        Twist::BadLabelValue => "\n      app: -web-",
        Twist::NumberKey => "\n      app: web\n      1: one",
        Twist::ResolvedKeyTwice => "\n      ~: a\n      null: b",
        Twist::NumberLabel => "\n      app: web\n      version: 1.0",
        Twist::Decorated => {
            " # the labels\n\n      \"app\": 'web'\n      # a comment\n      pod-template-hash: \"abc\""
        }
        _ => "\n      app: web\n      pod-template-hash: abc",
    };
    let namespace = match twist {
        Twist::EmptyNamespace => "\n    namespace: \"\"",
        Twist::NoNamespace => "",
        _ => "\n    namespace: shop",
    };
    let name_field = match twist {
        Twist::NoName => String::new(),
        Twist::EscapedKey => format!("\n    \"n\\x61me\": {name}"),
        _ => format!("\n    name: {name}"),
    };
    let annotations = if matches!(twist, Twist::Decorated) {
        "\n    annotations: {}"
    } else {
        ""
    };
    let metadata = format!(
        "metadata:{name_field}{namespace}{annotations}\n    labels:{labels}\n    ownerReferences:\n    - apiVersion: apps/v1\n      kind: ReplicaSet\n      name: web-abc\n      uid: u"
    );
    let port = match twist {
        Twist::TypeError => "containerPort: eighty",
        Twist::BigPort => "containerPort: 70000",
        Twist::BadPortName => "containerPort: 80\n        name: Web_Port",
        Twist::HexPort => "containerPort: 0x50\n        name: http",
        _ => "containerPort: 80\n        name: http",
    };
    let spec_extra = match twist {
        Twist::UnknownField => "\n    nodeNme: n1",
        Twist::RepeatedSpecKey => "\n    nodeName: n1\n    nodeName: n2",
        Twist::HostNetwork => "\n    hostNetwork: true",
        Twist::QuotedBool => "\n    hostNetwork: \"true\"",
        Twist::Nulls => "\n    nodeName: ~\n    serviceAccountName:",
        Twist::Sidecar => {
            "\n    initContainers:\n    - name: proxy\n      restartPolicy: Always\n      ports:\n      - containerPort: 15001"
        }
        _ => "",
    };
    let (api, ip, phase) = plain_values(i, twist);
    let spec = format!(
        "spec:{spec_extra}\n    containers:\n    - name: main\n      image: x\n      ports:\n      - {port}\n  status:\n    hostIP: 192.168.0.1\n    phase: {phase}\n    podIP: {ip}\n    podIPs:\n    - ip: {ip}"
    );
    let kind_field = if matches!(twist, Twist::NoKind) {
        String::new()
    } else {
        format!("\n  kind: {kind}")
    };
    let top_repeat = if matches!(twist, Twist::RepeatedTopKey) {
        "\n  apiVersion: v1"
    } else {
        ""
    };
    if matches!(twist, Twist::MetadataLast) {
        format!("- apiVersion: {api}{kind_field}\n  {spec}\n  {metadata}\n")
    } else {
        format!("- apiVersion: {api}{top_repeat}{kind_field}\n  {metadata}\n  {spec}\n")
    }
}

/// A YAML List of `items`.
fn yaml_list(items: &[String]) -> String {
    format!(
        "apiVersion: v1\nitems:\n{}kind: List\nmetadata:\n  resourceVersion: \"\"\n",
        items.concat()
    )
}

fn list(items: &[String]) -> String {
    format!(
        "{{\n\"apiVersion\": \"v1\",\n\"kind\": \"List\",\n\"items\": [\n{}\n],\n\"metadata\": {{\"resourceVersion\": \"\"}}\n}}\n",
        items.join(",\n")
    )
}

/// A load's cluster and its kept manifests as read, or its diagnostics.
type Loaded = Result<(Cluster, Vec<KeptAsRead>), Vec<Diagnostic>>;
type KeptAsRead = (String, Origin, Value, Vec<(String, usize)>);

#[derive(Clone, Copy, Debug)]
enum Format {
    Json,
    Yaml,
}

impl Format {
    fn pod(self, i: usize, twist: Twist) -> String {
        match self {
            Format::Json => pod(i, twist),
            Format::Yaml => yaml_pod(i, twist),
        }
    }

    fn list(self, items: &[String]) -> String {
        match self {
            Format::Json => list(items),
            Format::Yaml => yaml_list(items),
        }
    }

    /// The same text for yaml-rust2 alone: a trailing comment makes
    /// serde_json refuse a JSON text, an anchor (on the List's metadata)
    /// makes the fast reader decline a YAML one; no value or line changes.
    fn for_yaml_rust2(self, text: &str) -> String {
        match self {
            Format::Json => format!("{text}# read by the YAML parser\n"),
            Format::Yaml => text.replace("\nmetadata:\n", "\nmetadata: &m\n"),
        }
    }

    fn file(self, i: usize) -> String {
        match self {
            Format::Json => format!("pods-{i}.json"),
            Format::Yaml => format!("pods-{i}.yaml"),
        }
    }
}

/// The files loaded as given and by yaml-rust2 alone.
fn both_ways(format: Format, files: &[String], opts: &LoadOptions) -> (Loaded, Loaded) {
    let load = |whole: bool| {
        let sources: Vec<Source> = files
            .iter()
            .enumerate()
            .map(|(i, text)| Source {
                name: format.file(i),
                text: if whole {
                    format.for_yaml_rust2(text)
                } else {
                    text.clone()
                },
            })
            .collect();
        assert!(!whole || sources.iter().zip(files).all(|(s, f)| s.text != *f));
        load_sources(&sources, opts)
            .map(|mut c| {
                let kept = std::mem::take(&mut c.manifests);
                (c, kept.iter().map(kept_as_read).collect())
            })
            .map_err(|e| e.0)
    };
    (load(false), load(true))
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
        2 => proptest::sample::select(YAML_TWISTS.to_vec()),
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
    fn pods_read_straight_load_as_yaml_rust2_loads_them(
        format in proptest::sample::select(vec![Format::Json, Format::Yaml]),
        twists in proptest::collection::vec(twist(), 1..600),
        split in proptest::option::of(0.0f64..1.0),
        opts in options(),
    ) {
        let items: Vec<String> =
            twists.iter().enumerate().map(|(i, t)| format.pod(i, *t)).collect();
        let files = match split {
            Some(at) => {
                let at = ((items.len() as f64) * at) as usize;
                vec![format.list(&items[..at]), format.list(&items[at..])]
            }
            None => vec![format.list(&items)],
        };
        let (straight, whole) = both_ways(format, &files, &opts);
        prop_assert_eq!(straight, whole);
    }
}

/// Every twist on its own, among clean Pods, in JSON and in YAML: each
/// loads or fails exactly as through yaml-rust2, and the harness does see
/// both outcomes.
#[test]
fn every_twist_alone_loads_as_yaml_rust2_loads_it() {
    for (format, twists) in [
        (Format::Json, TWISTS.to_vec()),
        (
            Format::Yaml,
            [TWISTS.to_vec(), YAML_TWISTS.to_vec()].concat(),
        ),
    ] {
        let mut failed = 0;
        for &twist in twists.iter().chain(&[Twist::SameNameAs(0)]) {
            let items: Vec<String> = (0..5)
                .map(|i| format.pod(i, if i == 3 { twist } else { Twist::Clean }))
                .collect();
            let (straight, whole) =
                both_ways(format, &[format.list(&items)], &LoadOptions::default());
            assert_eq!(straight, whole, "{format:?} {twist:?}");
            if let Ok((cluster, _)) = &straight {
                let expected = if matches!(twist, Twist::NotAPod | Twist::Finished) {
                    4
                } else {
                    5
                };
                assert_eq!(cluster.endpoints.len(), expected, "{format:?} {twist:?}");
            }
            failed += usize::from(straight.is_err());
        }
        assert!(
            (8..twists.len()).contains(&failed),
            "{format:?}: {failed} twists failed"
        );
    }
}

/// A Pod of a later file with the name of an earlier file's Pod: reported
/// at the later one's `metadata.name`, which the text path located without
/// an index of its lines.
#[test]
fn a_duplicate_across_files_is_reported_at_its_name() {
    for format in [Format::Json, Format::Yaml] {
        let first = format.list(
            &(0..3)
                .map(|i| format.pod(i, Twist::Clean))
                .collect::<Vec<_>>(),
        );
        let twist = |i| {
            if i == 2 {
                Twist::SameNameAs(1)
            } else {
                Twist::Clean
            }
        };
        let second = format.list(
            &(0..3)
                .map(|i| format.pod(i + 10, twist(i)))
                .collect::<Vec<_>>(),
        );
        let (straight, whole) =
            both_ways(format, &[first, second.clone()], &LoadOptions::default());
        assert_eq!(straight, whole);
        let errs = straight.unwrap_err();
        assert_eq!(errs.len(), 1, "{errs:?}");
        let e = &errs[0];
        let name_line = second
            .lines()
            .position(|l| l.contains("\"name\": \"p1\"") || l.ends_with("name: p1"))
            .unwrap()
            + 1;
        let (first_file, second_file) = (format.file(0), format.file(1));
        assert_eq!(
            (e.file.as_str(), e.line, e.field.as_deref()),
            (
                second_file.as_str(),
                name_line,
                Some("items[2].metadata.name")
            )
        );
        let message = format!("duplicate Pod shop/p1: also defined at {first_file}:");
        assert!(e.message.starts_with(&message), "{e:?}");
    }
}
