//! `netpol nft`: the ruleset text (insta snapshots), its determinism, and
//! that the kernel accepts it and that applying it replaces only its own
//! table. The kernel checks run in a network namespace of their own (root).

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

const NETPOL: &str = env!("CARGO_BIN_EXE_netpol");

fn scenario(name: &str) -> String {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/probe-scenarios");
    dir.join(name).to_string_lossy().into_owned()
}

fn netpol(args: &[&str]) -> Output {
    Command::new(NETPOL)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("netpol runs")
}

fn ruleset(args: &[&str]) -> String {
    let mut all = vec!["nft"];
    all.extend_from_slice(args);
    let out = netpol(&all);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

const SCENARIOS: [&str; 7] = [
    "default-deny",
    "selectors-and",
    "selectors-or",
    "named-ports",
    "end-port",
    "ip-block",
    "both-directions",
];

fn scenario_ruleset(name: &str) -> String {
    ruleset(&[
        &scenario("cluster.yaml"),
        &scenario(&format!("{name}.yaml")),
    ])
}

#[test]
fn ruleset_text_of_every_scenario() {
    for name in SCENARIOS {
        insta::assert_snapshot!(name, scenario_ruleset(name));
    }
    insta::assert_snapshot!("dual-stack", ruleset(&[&scenario("dual-stack.yaml")]));
    insta::assert_snapshot!("host-network", ruleset(&[&scenario("host-network.yaml")]));
}

#[test]
fn one_node_enforces_only_its_own_pods() {
    let text = ruleset(&[
        &scenario("cluster.yaml"),
        &scenario("both-directions.yaml"),
        "--node",
        "node-a",
    ]);
    insta::assert_snapshot!("both-directions-node-a", text);
}

#[test]
fn output_does_not_depend_on_input_order() {
    let forward = ruleset(&[
        &scenario("cluster.yaml"),
        &scenario("ip-block.yaml"),
        &scenario("named-ports.yaml"),
    ]);
    let backward = ruleset(&[
        &scenario("named-ports.yaml"),
        &scenario("ip-block.yaml"),
        &scenario("cluster.yaml"),
    ]);
    assert_eq!(forward, backward);
}

/// The nft crate's hand-written ClusterNetworkPolicy cluster.
fn tiers_fixture() -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../nft/tests/fixtures/tiers.yaml")
        .to_string_lossy()
        .into_owned()
}

/// A domainNames rule cannot become nft matches: said on stderr and in the
/// ruleset, and its rule is left without the names.
#[test]
fn domain_names_are_left_out_and_said_so() {
    let out = netpol(&["nft", &tiers_fixture()]);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    let text = String::from_utf8_lossy(&out.stdout);
    let note = "admin/ops-egress egress[0]: domainNames registry.example.com cannot be compiled (names, not addresses): the ruleset leaves them out, so they match nothing";
    assert!(err.contains(&format!("note: {note}\n")), "{err}");
    assert!(text.contains(&format!("# {note}.\n")), "{text}");
    assert!(
        text.contains("\t\t# admin/ops-egress egress[0] (registry) Accept: domainNames registry.example.com cannot be compiled, left out\n"),
        "{text}"
    );
    assert!(!text.contains("registry.example.com accept"), "{text}");
}

#[test]
fn pods_sharing_an_address_are_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pods.yaml");
    std::fs::write(
        &file,
        "apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: x}\nspec: {containers: [{name: m, image: i}]}\nstatus: {podIP: 10.0.0.1}\n---\n\
         apiVersion: v1\nkind: Pod\nmetadata: {name: b, namespace: x}\nspec: {containers: [{name: m, image: i}]}\nstatus: {podIP: 10.0.0.1}\n",
    )
    .unwrap();
    let out = netpol(&["nft", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("x/a and x/b both have the address 10.0.0.1"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
}

/// A network namespace for this test process, deleted when dropped.
struct Netns(String);

impl Netns {
    fn new(tag: &str) -> Netns {
        let name = format!("np-{}-{tag}", std::process::id());
        let ok = Command::new("ip")
            .args(["netns", "add", &name])
            .status()
            .expect("ip runs")
            .success();
        assert!(ok, "cannot create network namespace {name} (root needed)");
        Netns(name)
    }

    fn nft(&self, args: &[&str], stdin: Option<&str>) -> String {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.0, "nft"]).args(args);
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("nft runs");
        {
            use std::io::Write;
            let mut pipe = child.stdin.take().unwrap();
            if let Some(text) = stdin {
                pipe.write_all(text.as_bytes()).unwrap();
            }
        }
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "nft {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "delete", &self.0])
            .status();
    }
}

#[test]
fn the_kernel_accepts_every_ruleset_and_each_replaces_only_its_own_table() {
    let ns = Netns::new("apply");
    ns.nft(&["-f", "-"], Some("table inet keep {\n\tchain input {\n\t\ttype filter hook input priority 0; policy accept;\n\t}\n}\n"));
    let mut texts: Vec<(String, String)> = SCENARIOS
        .iter()
        .map(|n| (n.to_string(), scenario_ruleset(n)))
        .collect();
    texts.push((
        "dual-stack".into(),
        ruleset(&[&scenario("dual-stack.yaml")]),
    ));
    texts.push((
        "host-network".into(),
        ruleset(&[&scenario("host-network.yaml")]),
    ));
    texts.push(("tiers".into(), ruleset(&[&tiers_fixture()])));
    for (name, text) in &texts {
        ns.nft(&["-f", "-"], Some(text));
        let listed = ns.nft(&["list", "ruleset"], None);
        assert!(
            listed.contains("table inet keep {"),
            "{name}: another table was touched:\n{listed}"
        );
        assert_eq!(listed.matches("table inet netpol {").count(), 1, "{name}");
        // Only this scenario's chains remain: nothing of the previous ruleset.
        let chains = |t: &str| -> Vec<String> {
            let mut c: Vec<String> = t
                .lines()
                .filter_map(|l| {
                    l.trim()
                        .strip_prefix("chain ")
                        .map(|r| r.trim_end_matches(" {").to_string())
                })
                .filter(|c| c != "input")
                .collect();
            c.sort();
            c
        };
        assert_eq!(chains(&listed), chains(text), "{name}");
    }
    // Applying the same ruleset twice is fine (the table is replaced, not added to).
    let (_, last) = texts.last().unwrap();
    ns.nft(&["-f", "-"], Some(last));
    ns.nft(&["-f", "-"], Some(last));
}
