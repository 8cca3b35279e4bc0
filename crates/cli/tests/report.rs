//! `netpol report`: one self-contained page whose data is the matrix's, lint's
//! and verify's, drawn by its script in a real browser.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use support::{json, netpol, summary_pairs};

const EXAMPLE: [&str; 4] = [
    "../../../../examples/homelab/manifests",
    "../../../../examples/homelab/policies",
    "--flows",
    "../../../../examples/homelab/flows.yaml",
];

fn report(args: &[&str], out: &Path) -> String {
    let mut all = vec!["report"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["-o", out.to_str().unwrap()]);
    let run = netpol(&all);
    assert_eq!(run.code, 0, "{}", run.transcript());
    std::fs::read_to_string(out).unwrap()
}

/// The JSON the page embeds.
fn data(page: &str) -> serde_json::Value {
    let start = page
        .find("<script type=\"application/json\" id=\"data\">")
        .unwrap();
    let rest = &page[start..];
    let body = &rest[rest.find('>').unwrap() + 1..rest.find("</script>").unwrap()];
    serde_json::from_str(&body.replace("<\\/", "</")).unwrap()
}

/// The page's flat pairs: (source, destination, allowed, connections).
fn pairs_of(d: &serde_json::Value) -> Vec<(usize, usize, u64, u64)> {
    let flat: Vec<u64> = d["pairs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_u64().unwrap())
        .collect();
    flat.chunks(4)
        .map(|p| (p[0] as usize, p[1] as usize, p[2], p[3]))
        .collect()
}

#[test]
fn the_page_fetches_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let page = report(&EXAMPLE, &dir.path().join("r.html"));
    for fetch in [
        "src=\"http",
        "href=\"http",
        "url(http",
        "url(//",
        "@import",
        "<link",
        "fetch(",
        "XMLHttpRequest",
        "<iframe",
    ] {
        assert!(!page.contains(fetch), "{fetch}");
    }
    assert!(page.contains("Content-Security-Policy\" content=\"default-src 'none'"));
}

/// A file netpol did not write is never overwritten; an earlier report is
/// replaced whole, and nothing but the report is left in the directory.
#[test]
fn only_a_report_is_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let notes = dir.path().join("notes.html");
    let mine = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>my notes</title>";
    std::fs::write(&notes, mine).unwrap();
    let mut args = vec!["report"];
    args.extend_from_slice(&EXAMPLE);
    args.extend_from_slice(&["-o", notes.to_str().unwrap()]);
    let run = netpol(&args);
    assert_eq!(run.code, 2, "{}", run.transcript());
    assert!(
        run.stderr
            .contains("is not a netpol report: not overwriting it"),
        "{}",
        run.transcript()
    );
    assert_eq!(std::fs::read_to_string(&notes).unwrap(), mine);

    let page = dir.path().join("r.html");
    std::fs::write(&page, "").unwrap();
    assert_eq!(
        netpol(&[&args[..args.len() - 1], &[page.to_str().unwrap()]].concat()).code,
        2
    );
    std::fs::remove_file(&page).unwrap();
    let first = report(&EXAMPLE, &page);
    let mut smaller = EXAMPLE.to_vec();
    smaller.truncate(2);
    let second = report(&smaller, &page);
    assert_ne!(first, second);
    assert!(second.starts_with("<!DOCTYPE html>"));
    // Readable as any file the user creates: the umask decides, not the
    // temporary file's 0600.
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let plain = dir.path().join("plain");
    std::fs::File::create(&plain).unwrap();
    assert_eq!(mode(&page), mode(&plain));
    std::fs::remove_file(&plain).unwrap();
    let mut left: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["notes.html", "r.html"]);
}

/// The heat map's pairs are `matrix --summary`'s; the findings are lint's and verify's.
#[test]
fn the_data_is_the_matrix_lint_and_verify() {
    let dir = tempfile::tempdir().unwrap();
    let d = data(&report(&EXAMPLE, &dir.path().join("r.html")));
    let names: Vec<&str> = d["vertices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap())
        .collect();
    let quads = pairs_of(&d);
    let pairs: BTreeSet<(String, String, u64, u64)> = quads
        .iter()
        .map(|&(s, t, a, c)| (names[s].to_string(), names[t].to_string(), a, c))
        .collect();
    let summary = json(&netpol(&[
        "matrix",
        EXAMPLE[0],
        EXAMPLE[1],
        "--summary",
        "-o",
        "json",
    ]));
    let expected: BTreeSet<(String, String, u64, u64)> = summary_pairs(&summary)
        .into_iter()
        .map(|((src, dst), (allowed, connections))| (src, dst, allowed, connections))
        .collect();
    assert_eq!(pairs, expected);
    let lint = json(&netpol(&["lint", EXAMPLE[0], EXAMPLE[1], "-o", "json"]));
    let lint_ids: Vec<String> = lint["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect();
    let page_lint: Vec<String> = d["lint"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            f["title"]
                .as_str()
                .unwrap()
                .split(' ')
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(page_lint, lint_ids);
    let verify = json(&netpol(&[
        "verify", EXAMPLE[3], EXAMPLE[0], EXAMPLE[1], "-o", "json",
    ]));
    let missing = verify["missing"].as_array().unwrap().len();
    let open = verify["withoutDefaultDeny"].as_array().unwrap().len();
    let items = d["verify"].as_array().unwrap();
    let count = |prefix: &str| {
        items
            .iter()
            .filter(|i| i["title"].as_str().unwrap().starts_with(prefix))
            .count()
    };
    assert!(missing > 0 && open > 0);
    assert_eq!(
        (count("missing: "), count("no default deny: ")),
        (missing, open)
    );
    // Each embedded trace is explain's verdict for the pair's pods.
    let (k, traces) = d["traces"].as_object().unwrap().iter().next().unwrap();
    let t = &traces[0];
    let run = support::netpol(&[
        "explain",
        EXAMPLE[0],
        EXAMPLE[1],
        "--from",
        t["src"].as_str().unwrap(),
        "--to",
        t["dst"].as_str().unwrap(),
        "--port",
        &format!("{}/{}", t["port"], t["protocol"].as_str().unwrap()),
        "-o",
        "json",
    ]);
    let explained = json(&run);
    assert_eq!(explained["allowed"], t["allowed"]);
    assert_eq!(explained["egress"], t["egress"]);
    assert_eq!(explained["ingress"], t["ingress"]);
    assert!(k.parse::<usize>().unwrap() < quads.len());
}

fn chromium() -> Option<PathBuf> {
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        if Command::new(name)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
        {
            return Some(PathBuf::from(name));
        }
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "CI=true: a headless Chromium is required (scripts/test installs Debian's chromium)"
    );
    eprintln!("skipped: no chromium on PATH (apt-get install chromium)");
    None
}

fn headless(browser: &Path, args: &[&str]) -> std::process::Output {
    let profile = tempfile::tempdir().unwrap();
    Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .output()
        .unwrap()
}

/// The DOM after the page's script ran, without the embedded data, so that
/// what is found was built by the script.
fn rendered(browser: &Path, url: &str) -> String {
    let out = headless(browser, &["--dump-dom", url]);
    let dom = String::from_utf8(out.stdout).unwrap();
    assert!(
        dom.contains("data-ready=\"true\""),
        "the script ran to the end:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let start = dom.find("<script type=\"application/json\"").unwrap();
    let end = start + dom[start..].find("</script>").unwrap();
    format!("{}{}", &dom[..start], &dom[end..])
}

fn unescape(s: &str) -> String {
    s.replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
}

#[test]
fn a_real_browser_draws_every_workload_and_finding() {
    let Some(browser) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("report.html");
    let d = data(&report(&EXAMPLE, &file));
    let url = format!("file://{}", file.display());
    let dom = unescape(&rendered(&browser, &url));
    for v in d["vertices"].as_array().unwrap() {
        let id = v["id"].as_str().unwrap();
        assert!(
            dom.contains(&format!("data-id=\"{id}\"")),
            "no workload {id} in the list"
        );
        assert!(
            dom.contains(&format!("<th class=\"row\">{id}</th>")),
            "no row {id} in the heat map"
        );
    }
    let findings: Vec<&serde_json::Value> = d["lint"]
        .as_array()
        .unwrap()
        .iter()
        .chain(d["verify"].as_array().unwrap())
        .collect();
    assert!(findings.len() > 10);
    assert_eq!(dom.matches("class=\"finding ").count(), findings.len());
    for f in findings {
        let title = f["title"].as_str().unwrap();
        assert!(
            dom.contains(&format!("<b>{title}</b>")),
            "no finding {title}"
        );
    }
    // Cells and graph edges are drawn.
    let pairs = d["pairs"].as_array().unwrap().len() / 4;
    assert_eq!(
        dom.matches("class=\"cell ").count() - dom.matches("cell blank").count(),
        pairs
    );
    let allowed_pairs = d["pairs"]
        .as_array()
        .unwrap()
        .chunks(4)
        .filter(|p| p[0] != p[1] && p[2].as_u64().unwrap() > 0)
        .count();
    assert_eq!(dom.matches("class=\"gedge\"").count(), allowed_pairs);
    // A cell's trace, opened through the page's own link form.
    let (k, traces) = d["traces"].as_object().unwrap().iter().next().unwrap();
    let dom = unescape(&rendered(&browser, &format!("{url}#trace={k}")));
    assert_eq!(
        dom.matches("class=\"verdict ").count(),
        traces.as_array().unwrap().len()
    );
    let reason = traces[0]["ingress"]["reason"].as_str().unwrap();
    assert!(dom.contains(reason), "no {reason:?} in the trace");
}

#[test]
fn the_screenshot_is_not_blank() {
    let Some(browser) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("report.html");
    report(&EXAMPLE, &file);
    let png = dir.path().join("shot.png");
    let out = headless(
        &browser,
        &[
            "--window-size=1280,1600",
            &format!("--screenshot={}", png.display()),
            &format!("file://{}", file.display()),
        ],
    );
    assert!(png.exists(), "{}", String::from_utf8_lossy(&out.stderr));
    let decoder = png::Decoder::new(std::fs::File::open(&png).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let bytes = &buf[..info.buffer_size()];
    let channels = info.color_type.samples();
    let mut colours = BTreeSet::new();
    let mut background = 0usize;
    let pixels = bytes.len() / channels;
    for px in bytes.chunks(channels) {
        colours.insert(px[..3].to_vec());
        if px[..3] == [0xfa, 0xfa, 0xfa] || px[..3] == [0xff, 0xff, 0xff] {
            background += 1;
        }
    }
    // The header, the cards, the graph and the green/amber/red heat map.
    assert!(colours.len() > 50, "{} colours", colours.len());
    assert!(
        background < pixels * 9 / 10,
        "{background} of {pixels} pixels are background"
    );
    for (name, rgb) in [
        ("allowed", [0x2e, 0x9d, 0x4a]),
        ("denied", [0xd0, 0x45, 0x3a]),
    ] {
        assert!(
            colours.contains(rgb.as_slice()),
            "no {name} cell colour in the screenshot"
        );
    }
}

/// The real homelab under the example's generated policies and flows: every
/// one of its 59 workloads and every finding drawn by a real browser.
#[test]
fn the_real_homelab_report() {
    let Some(homelab) = netpol_testdata::shared("realcases/homelab/manifests") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("homelab.html");
    let args = [
        homelab.to_str().unwrap(),
        "../../../../examples/homelab/generated",
        "--flows",
        "../../../../examples/homelab/flows.yaml",
    ];
    let d = data(&report(&args, &file));
    let workloads: Vec<&str> = d["vertices"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| !v["ns"].is_null())
        .map(|v| v["id"].as_str().unwrap())
        .collect();
    assert_eq!(workloads.len(), 59, "the homelab models 59 workloads");
    assert_eq!(d["summary"]["workloads"], 59);
    let Some(browser) = chromium() else { return };
    let dom = unescape(&rendered(&browser, &format!("file://{}", file.display())));
    for id in workloads {
        assert!(
            dom.contains(&format!("data-id=\"{id}\"")),
            "no workload {id}"
        );
    }
    let findings = d["lint"].as_array().unwrap().len() + d["verify"].as_array().unwrap().len();
    assert!(findings > 0);
    assert_eq!(dom.matches("class=\"finding ").count(), findings);
}

/// A live dump of a synthetic cluster of 60 workloads as 3 pods each
/// (namespaces, external peers from the policies' ipBlocks), written to
/// `m/` in a temporary directory.
fn synthetic() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let cluster = netpol_synth::generate(&netpol_synth::Params::new(60, 1));
    for f in netpol_synth::to_live_files(&cluster, 3) {
        let path = tmp.path().join("m").join(&f.path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, f.text).unwrap();
    }
    tmp
}

/// Drawn by namespace, a pair of the page is the sum of the pairs of the
/// workloads in those namespaces (external peers kept as they are), read
/// here from the same cluster's page drawn by workload.
#[test]
fn the_page_by_namespace_sums_the_pairs_of_workloads() {
    let cluster = synthetic();
    let input = cluster.path().join("m");
    let input = input.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let by_workload = data(&report(&[input], &dir.path().join("w.html")));
    assert_eq!(by_workload["by"], "workload", "auto: a small cluster");
    let by_ns = data(&report(
        &[input, "--by", "namespace"],
        &dir.path().join("n.html"),
    ));
    assert_eq!(by_ns["by"], "namespace");
    let vertices = |d: &serde_json::Value| d["vertices"].as_array().unwrap().clone();
    let (workloads, namespaces) = (vertices(&by_workload), vertices(&by_ns));
    // Where a workload's vertex goes: its namespace, or itself for an
    // external peer.
    let page_of = |v: &serde_json::Value| -> String {
        v["ns"]
            .as_str()
            .unwrap_or_else(|| v["id"].as_str().unwrap())
            .to_string()
    };
    let mut expected: BTreeMap<(String, String), (u64, u64)> = BTreeMap::new();
    for (s, d, a, c) in pairs_of(&by_workload) {
        let sum = expected
            .entry((page_of(&workloads[s]), page_of(&workloads[d])))
            .or_default();
        sum.0 += a;
        sum.1 += c;
    }
    let got: BTreeMap<(String, String), (u64, u64)> = pairs_of(&by_ns)
        .into_iter()
        .map(|(s, d, a, c)| ((page_of(&namespaces[s]), page_of(&namespaces[d])), (a, c)))
        .collect();
    assert_eq!(got, expected);
    assert!(
        got.len() < pairs_of(&by_workload).len(),
        "summed: fewer pairs"
    );
    assert!(
        namespaces.iter().any(|v| v["ns"].is_null()),
        "the cluster has external peers"
    );
    // The counts of each namespace vertex.
    let mut pods: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for v in workloads.iter().filter(|v| !v["ns"].is_null()) {
        let e = pods.entry(page_of(v)).or_default();
        e.0 += 1;
        e.1 += v["pods"].as_u64().unwrap();
    }
    for v in namespaces.iter().filter(|v| !v["ns"].is_null()) {
        let ns = v["ns"].as_str().unwrap();
        assert_eq!(v["id"], format!("namespace/{ns}"));
        assert_eq!(
            (
                v["workloads"].as_u64().unwrap(),
                v["pods"].as_u64().unwrap()
            ),
            pods[ns],
            "{ns}"
        );
    }
    let externals = |vs: &[serde_json::Value]| -> Vec<serde_json::Value> {
        vs.iter().filter(|v| v["ns"].is_null()).cloned().collect()
    };
    assert_eq!(namespaces.len(), pods.len() + externals(&namespaces).len());
    assert_eq!(externals(&namespaces), externals(&workloads));
    // The page is the same but for its vertices, pairs and traces.
    assert_eq!(
        by_ns["workloadPairs"].as_u64().unwrap() as usize,
        pairs_of(&by_workload).len()
    );
    assert_eq!(by_ns["summary"], by_workload["summary"]);
    assert_eq!(by_ns["lint"], by_workload["lint"]);
    assert!(by_ns["traces"].as_object().unwrap().is_empty());
}

/// A browser draws the page by namespace, says why, and a cell names the
/// command that draws its namespaces' workloads: run, it does.
#[test]
fn a_real_browser_draws_the_page_by_namespace() {
    let Some(browser) = chromium() else { return };
    let cluster = synthetic();
    let input = cluster.path().join("m");
    let input = input.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("n.html");
    let d = data(&report(&[input, "--by", "namespace"], &file));
    let url = format!("file://{}", file.display());
    let dom = unescape(&rendered(&browser, &url));
    assert_eq!(dom.matches("class=\"notice\"").count(), 2);
    assert!(dom.contains("This page is drawn by namespace"), "{dom}");
    let vertices = d["vertices"].as_array().unwrap();
    for v in vertices {
        let id = v["id"].as_str().unwrap();
        assert!(
            dom.contains(&format!("<th class=\"row\">{id}</th>")),
            "no row {id}"
        );
    }
    // A cell between two namespaces.
    let flat = d["pairs"].as_array().unwrap();
    let k = flat
        .chunks(4)
        .position(|p| {
            let ns = |i: &serde_json::Value| vertices[i.as_u64().unwrap() as usize]["ns"].clone();
            p[0] != p[1] && !ns(&p[0]).is_null() && !ns(&p[1]).is_null()
        })
        .unwrap();
    let (s, t) = (&flat[4 * k], &flat[4 * k + 1]);
    let ns = |i: &serde_json::Value| {
        vertices[i.as_u64().unwrap() as usize]["ns"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let dom = unescape(&rendered(&browser, &format!("{url}#trace={k}")));
    let command = format!(
        "netpol report {input} --namespace-filter {} --namespace-filter {} -o FILE",
        ns(s),
        ns(t)
    );
    assert!(dom.contains(&command), "no {command:?} in the trace");
    let narrowed = data(&report(
        &[
            input,
            "--namespace-filter",
            &ns(s),
            "--namespace-filter",
            &ns(t),
        ],
        &dir.path().join("narrowed.html"),
    ));
    assert_eq!(narrowed["by"], "workload");
    let drawn: BTreeSet<String> = narrowed["vertices"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v["ns"].as_str().map(str::to_string))
        .collect();
    assert_eq!(drawn, BTreeSet::from([ns(s), ns(t)]));
}
