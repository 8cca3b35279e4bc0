//! External peers in the matrix: ipBlock networks and the rest of the
//! internet as rows and columns, decided at one representative address.

mod support;

use std::collections::BTreeMap;

use support::{explain, json, netpol, summary_pairs};

/// (src, dst, port/protocol) -> allowed, for the connections with an external end.
fn external_cells(dir: &str) -> BTreeMap<(String, String, String), (bool, String)> {
    let run = netpol(&["matrix", dir, "-o", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v = json(&run);
    v["connections"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| {
            let address = c["srcAddress"].as_str().or(c["dstAddress"].as_str())?;
            Some((
                (
                    c["src"].as_str().unwrap().to_string(),
                    c["dst"].as_str().unwrap().to_string(),
                    format!("{}/{}", c["port"], c["protocol"].as_str().unwrap()),
                ),
                (c["allowed"].as_bool().unwrap(), address.to_string()),
            ))
        })
        .collect()
}

/// Every external cell of the matrix is what `explain` says of the same
/// connection from or to the address the matrix names.
#[test]
fn external_cells_agree_with_explain() {
    for dir in ["external", "engine", "tiers"] {
        let cells = external_cells(dir);
        assert!(cells.len() > 10, "{dir}: {cells:?}");
        for ((src, dst, port), (allowed, address)) in &cells {
            let from = if src.starts_with("external") {
                address
            } else {
                src
            };
            let to = if dst.starts_with("external") {
                address
            } else {
                dst
            };
            let run = explain(&[dir], from, to, port, &["--exit-code"]);
            let expected = if *allowed { 0 } else { 3 };
            assert_eq!(
                run.code,
                expected,
                "{dir}: matrix says {src} -> {dst} {port} allowed={allowed} at {address}:\n{}",
                run.transcript()
            );
        }
    }
}

/// ClusterNetworkPolicy `networks` name external peers too, and the tiers
/// decide their cells: backups (team: ops) passes 10.0.0.0/8 on to
/// NetworkPolicy (none selects it: allowed) and is denied the rest of the
/// internet (0.0.0.0/0, which leaves no IPv4 address unnamed) by the Admin
/// tier; shop is not a subject there.
#[test]
fn cluster_policy_networks_become_peers_decided_by_the_tiers() {
    let cells = external_cells("tiers");
    let get = |src: &str, dst: &str| {
        cells
            .get(&(src.to_string(), dst.to_string(), "443/TCP".to_string()))
            .unwrap_or_else(|| panic!("no cell {src} -> {dst}: {cells:?}"))
            .0
    };
    assert!(get("backups/restic", "external:10.0.0.0/8"));
    assert!(!get("backups/restic", "external:0.0.0.0/0"));
    assert!(get("shop/web", "external:0.0.0.0/0"));
}

/// The answers worked out by hand from the fixture's policies.
#[test]
fn ip_blocks_and_excepts_become_peers() {
    let cells = external_cells("external");
    let get = |src: &str, dst: &str, port: &str| {
        cells
            .get(&(src.to_string(), dst.to_string(), port.to_string()))
            .unwrap_or_else(|| panic!("no cell {src} -> {dst} {port}: {cells:?}"))
            .clone()
    };
    // Egress to 10.0.0.0/8 except 10.1.0.0/16 on 443; DNS anywhere.
    assert!(get("app/client", "external:10.0.0.0/8", "443/TCP").0);
    assert!(!get("app/client", "external:10.1.0.0/16", "443/TCP").0);
    assert!(!get("app/client", "external", "443/TCP").0);
    assert!(get("app/client", "external", "53/UDP").0);
    // An IPv4-only pod cannot reach an IPv6 network at all.
    assert!(!get("app/client", "external:2001:db8:1::/48", "53/UDP").0);
    // Ingress from the office on 8443 only; nothing else from outside.
    assert!(get("external:192.168.0.0/16", "app/server", "8443/TCP").0);
    assert!(!get("external:192.168.0.0/16", "app/server", "9090/TCP").0);
    assert!(!get("external", "app/server", "8443/TCP").0);
    // Not isolated for egress: the server reaches everything.
    assert!(get("app/server", "external", "443/TCP").0);
    // The first host of 10.0.0.0/8 belongs to a pod (and 10.0.0.2 to the other):
    // the representative is the next free one, outside the except.
    assert_eq!(
        get("app/client", "external:10.0.0.0/8", "443/TCP").1,
        "10.0.0.3"
    );
    assert_eq!(
        get("app/client", "external:10.1.0.0/16", "443/TCP").1,
        "10.1.0.1"
    );
    assert_eq!(get("app/client", "external", "443/TCP").1, "203.0.113.1");
    // No cell between two external peers: no policy can see that traffic.
    assert!(
        cells
            .keys()
            .all(|(s, d, _)| !(s.starts_with("external") && d.starts_with("external")))
    );
}

/// CSV and the summary carry the same external peers as the JSON.
#[test]
fn every_format_shows_the_external_peers() {
    let cells = external_cells("external");
    let csv = netpol(&["matrix", "external", "-o", "csv"]);
    let rows: Vec<&str> = csv
        .stdout
        .lines()
        .filter(|l| l.contains("external"))
        .collect();
    assert_eq!(rows.len(), cells.len(), "{}", csv.stdout);
    for ((src, dst, port), (allowed, _)) in &cells {
        let (p, proto) = port.split_once('/').unwrap();
        let row = format!("{src},{dst},{p},{proto},{allowed}");
        assert!(rows.contains(&row.as_str()), "no {row} in\n{}", csv.stdout);
    }
    let summary = netpol(&["matrix", "external", "--summary", "-o", "json"]);
    let v = json(&summary);
    let mut sums: BTreeMap<(String, String), (u64, u64)> = BTreeMap::new();
    for ((src, dst, _), (allowed, _)) in &cells {
        let e = sums.entry((src.clone(), dst.clone())).or_default();
        e.0 += u64::from(*allowed);
        e.1 += 1;
    }
    let got: BTreeMap<(String, String), (u64, u64)> = summary_pairs(&v)
        .into_iter()
        .filter(|((src, dst), _)| src.starts_with("external") || dst.starts_with("external"))
        .collect();
    assert_eq!(got, sums);
    let names: Vec<String> = v["pairs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| format!("{} {}", p["src"], p["dst"]))
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "pairs in name order");
    let table = netpol(&["matrix", "external"]);
    insta::assert_snapshot!(table.transcript());
}

/// A pod's egress to an outside address does not depend on the ports pods
/// declare: with no declared port anywhere, the summary still sums each
/// workload's cells to the external peers (over the ports the egress rules
/// name), and has no pod-to-pod or external-to-pod pair, which need a
/// declared port to exist.
#[test]
fn the_summary_keeps_external_pairs_when_no_pod_declares_a_port() {
    let dir = tempfile::tempdir().unwrap();
    let pod = |name: &str, ip: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: app\n  labels:\n    app: {name}\nspec:\n  containers:\n  - name: c\n    image: x\nstatus:\n  podIP: {ip}\n---\n"
        )
    };
    let manifests = pod("client", "10.0.0.5")
        + &pod("other", "10.0.0.6")
        + "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: client-out
  namespace: app
spec:
  podSelector:
    matchLabels:
      app: client
  policyTypes: [Egress]
  egress:
  - to:
    - ipBlock:
        cidr: 0.0.0.0/0
        except: [10.0.0.0/8]
    ports:
    - port: 443
    - port: 80
";
    std::fs::write(dir.path().join("cluster.yaml"), manifests).unwrap();
    let path = dir.path().to_str().unwrap();
    let v = json(&netpol(&["matrix", path, "--summary", "-o", "json"]));
    let pairs = summary_pairs(&v);
    let want: BTreeMap<(String, String), (u64, u64)> = [
        ("app/client", "external:0.0.0.0/0", (2, 2)),
        ("app/client", "external:10.0.0.0/8", (0, 2)),
        ("app/other", "external:0.0.0.0/0", (2, 2)),
        ("app/other", "external:10.0.0.0/8", (2, 2)),
    ]
    .into_iter()
    .map(|(s, d, n)| ((s.to_string(), d.to_string()), n))
    .collect();
    assert_eq!(pairs, want, "{v}");
}
