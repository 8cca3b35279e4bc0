//! Input that would exhaust memory or time: alias bombs, FIFOs, devices and
//! oversized files end quickly with exit 2 and an error naming the file.

mod support;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::wait_at_most_60s;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    took: Duration,
}

impl Run {
    fn transcript(&self) -> String {
        format!(
            "exit: {} after {:?}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.took, self.stdout, self.stderr
        )
    }
}

/// Runs netpol in `dir`, failing the test instead of hanging after 60 s.
fn run(dir: &Path, args: &[&str], stdin: Stdio) -> Run {
    let start = Instant::now();
    let child = Command::new(env!("CARGO_BIN_EXE_netpol"))
        .args(args)
        .current_dir(dir)
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = wait_at_most_60s(child, start, args);
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        took: start.elapsed(),
    }
}

fn pod(name: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: shop\n  labels: {{app: {name}}}\nspec:\n  containers: [{{name: c, image: x, ports: [{{containerPort: 80}}]}}]\n"
    )
}

/// A document of 10^`levels` values written in about 1 KB.
fn laughs(levels: usize) -> String {
    let mut text = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..levels {
        let prev = if i == 1 {
            "a".to_string()
        } else {
            format!("b{}", i - 1)
        };
        text.push_str(&format!(
            "b{i}: &b{i} [{}]\n",
            vec![format!("*{prev}"); 10].join(", ")
        ));
    }
    text
}

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    // SAFETY: a valid C string; mkfifo touches nothing else.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
}

#[test]
fn an_alias_bomb_over_many_documents_is_refused_quickly() {
    let tmp = tempfile::tempdir().unwrap();
    // 20 documents of 10^6 values: 7 KB that used to take 30 s and 5.6 GB.
    let bomb = vec![laughs(6); 20].join("---\n");
    assert!(bomb.len() < 10_000);
    std::fs::write(tmp.path().join("bomb.yaml"), &bomb).unwrap();
    std::fs::write(tmp.path().join("pods.yaml"), pod("web")).unwrap();
    let r = run(
        tmp.path(),
        &["matrix", "pods.yaml", "bomb.yaml"],
        Stdio::null(),
    );
    assert_eq!(r.code, 2, "{}", r.transcript());
    assert!(
        r.stderr.contains("error: bomb.yaml:") && r.stderr.contains("input too large"),
        "{}",
        r.transcript()
    );
    assert!(r.took < Duration::from_secs(30), "{}", r.transcript());
}

#[test]
fn the_expansion_budget_spans_files() {
    let tmp = tempfile::tempdir().unwrap();
    // 6 x 10^6 values each: either file alone loads, both do not.
    let half = vec![laughs(6); 6].join("---\n");
    std::fs::write(tmp.path().join("a.yaml"), &half).unwrap();
    std::fs::write(tmp.path().join("b.yaml"), &half).unwrap();
    let one = run(tmp.path(), &["lint", "a.yaml"], Stdio::null());
    assert!(!one.stderr.contains("too large"), "{}", one.transcript());
    let both = run(tmp.path(), &["lint", "a.yaml", "b.yaml"], Stdio::null());
    assert_eq!(both.code, 2, "{}", both.transcript());
    assert!(
        both.stderr.contains("input too large"),
        "{}",
        both.transcript()
    );
}

#[test]
fn a_long_string_aliased_many_times_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let mut text = format!("s: &s {}\nl:\n", "x".repeat(100_000));
    text.push_str(&"  - *s\n".repeat(25_000));
    std::fs::write(tmp.path().join("strings.yaml"), &text).unwrap();
    let r = run(tmp.path(), &["matrix", "strings.yaml"], Stdio::null());
    assert_eq!(r.code, 2, "{}", r.transcript());
    assert!(
        r.stderr.contains("strings.yaml") && r.stderr.contains("MiB of text"),
        "{}",
        r.transcript()
    );
}

#[test]
fn a_second_document_in_the_flows_file_is_refused_at_its_start() {
    let tmp = tempfile::tempdir().unwrap();
    let flows = format!(
        "flows:\n  - from: shop\n    to: shop\n    ports: [80]\n    purpose: web\n---\n{}",
        laughs(12)
    );
    std::fs::write(tmp.path().join("flows.yaml"), flows).unwrap();
    std::fs::write(tmp.path().join("pods.yaml"), pod("web")).unwrap();
    let r = run(
        tmp.path(),
        &["gen", "flows.yaml", "pods.yaml", "--stdout"],
        Stdio::null(),
    );
    assert_eq!(r.code, 2, "{}", r.transcript());
    assert!(
        r.stderr
            .contains("flows.yaml:7: expected one YAML document"),
        "{}",
        r.transcript()
    );
    assert!(r.took < Duration::from_secs(10), "{}", r.transcript());
}

#[test]
fn a_fifo_in_a_directory_is_skipped_with_a_note() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("manifests");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("web.yaml"), pod("web")).unwrap();
    mkfifo(&dir.join("zz-pipe.yaml"));
    std::os::unix::fs::symlink("/dev/zero", dir.join("zero.yaml")).unwrap();
    let r = run(
        tmp.path(),
        &["matrix", "manifests", "-o", "json"],
        Stdio::null(),
    );
    assert_eq!(r.code, 0, "{}", r.transcript());
    assert!(r.stdout.contains("\"src\":\"shop/web\""), "{}", r.stdout);
    assert!(
        r.stderr
            .contains("manifests/zz-pipe.yaml: skipped: a FIFO, not a regular file"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("manifests/zero.yaml: skipped: a character device"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_device_named_on_the_command_line_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("pods.yaml"), pod("web")).unwrap();
    std::fs::write(
        tmp.path().join("flows.yaml"),
        "flows:\n  - from: shop\n    to: shop\n    ports: [80]\n    purpose: web\n",
    )
    .unwrap();
    for args in [
        &["matrix", "pods.yaml", "/dev/zero"][..],
        &["lint", "/dev/zero"],
        &["gen", "/dev/zero", "pods.yaml", "--stdout"],
        &["verify", "flows.yaml", "/dev/zero"],
    ] {
        let r = run(tmp.path(), args, Stdio::null());
        assert_eq!(r.code, 2, "{args:?}: {}", r.transcript());
        assert!(
            r.stderr
                .contains("/dev/zero: a character device, not a file"),
            "{args:?}: {}",
            r.transcript()
        );
        assert!(r.took < Duration::from_secs(10), "{}", r.transcript());
    }
}

#[test]
fn a_pipe_named_on_the_command_line_is_read() {
    // `netpol matrix <(helm template .)` names a pipe.
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("pipe");
    mkfifo(&fifo);
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let mut f = std::fs::OpenOptions::new().write(true).open(fifo).unwrap();
            f.write_all(pod("web").as_bytes()).unwrap();
        })
    };
    let r = run(tmp.path(), &["matrix", "pipe", "-o", "json"], Stdio::null());
    writer.join().unwrap();
    assert_eq!(r.code, 0, "{}", r.transcript());
    assert!(r.stdout.contains("\"src\":\"shop/web\""), "{}", r.stdout);
}

#[test]
fn oversized_input_is_refused_with_the_cap() {
    let tmp = tempfile::tempdir().unwrap();
    // Sparse: no disk used, and refused from its size without being read.
    let big = std::fs::File::create(tmp.path().join("big.yaml")).unwrap();
    big.set_len(300 << 20).unwrap();
    let r = run(tmp.path(), &["matrix", "big.yaml"], Stdio::null());
    assert_eq!(r.code, 2, "{}", r.transcript());
    assert!(
        r.stderr.contains(
            "big.yaml: larger than 256 MiB (netpol's input size cap; --max-input-size raises it)"
        ),
        "{}",
        r.transcript()
    );
    // Each under the cap, together over it.
    for name in ["a.yaml", "b.yaml"] {
        let f = std::fs::File::create(tmp.path().join(name)).unwrap();
        f.set_len(150 << 20).unwrap();
    }
    let r = run(tmp.path(), &["matrix", "a.yaml", "b.yaml"], Stdio::null());
    assert_eq!(r.code, 2, "{}", r.transcript());
    assert!(
        r.stderr
            .contains("b.yaml: the input is larger than 256 MiB in total"),
        "{}",
        r.transcript()
    );
    // Endless stdin stops at the cap.
    let zero = std::fs::File::open("/dev/zero").unwrap();
    let r = run(tmp.path(), &["matrix", "-"], Stdio::from(zero));
    assert_eq!(r.code, 2, "{}", r.transcript());
    assert!(
        r.stderr.contains("<stdin>: larger than 256 MiB"),
        "{}",
        r.transcript()
    );
    // A lower cap refuses what the default reads, and says so in its own size.
    let small = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  namespace: shop\n";
    std::fs::write(tmp.path().join("pod.yaml"), small).unwrap();
    let r = run(
        tmp.path(),
        &["matrix", "pod.yaml", "--max-input-size", "10"],
        Stdio::null(),
    );
    assert_eq!(r.code, 2, "{}", r.transcript());
    assert!(
        r.stderr.contains(
            "pod.yaml: larger than 10 bytes (netpol's input size cap; --max-input-size raises it)"
        ),
        "{}",
        r.transcript()
    );
    for bad in ["0", "12X", "1.5Gi", "Mi", "99999999Ti"] {
        let r = run(
            tmp.path(),
            &["matrix", "pod.yaml", "--max-input-size", bad],
            Stdio::null(),
        );
        assert_eq!(r.code, 2, "{bad}: {}", r.transcript());
        assert!(
            r.stderr.contains("--max-input-size"),
            "{bad}: {}",
            r.transcript()
        );
    }
}

/// A live dump larger than the default cap loads once the cap is raised,
/// and the expansion budget grows with it: 300 MiB of real objects (padded
/// with an annotation, as managed fields and status pad real pods).
#[test]
fn a_raised_cap_reads_a_larger_dump() {
    let tmp = tempfile::tempdir().unwrap();
    let mut text = String::with_capacity(300 << 20);
    let pad = "x".repeat(60_000);
    let mut i = 0;
    while text.len() < (300 << 20) {
        text.push_str(&format!(
            "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: web-{i}\n  namespace: shop\n  labels:\n    app: web\n  annotations:\n    pad: {pad}\nstatus:\n  podIP: 10.{}.{}.{}\n",
            (i >> 16) & 255,
            (i >> 8) & 255,
            i & 255
        ));
        i += 1;
    }
    std::fs::write(tmp.path().join("dump.yaml"), &text).unwrap();
    drop(text);
    let r = run(tmp.path(), &["lint", "dump.yaml"], Stdio::null());
    assert_eq!(r.code, 2, "{}", r.transcript());
    assert!(
        r.stderr.contains("larger than 256 MiB"),
        "{}",
        r.transcript()
    );
    let r = run(
        tmp.path(),
        &["lint", "dump.yaml", "--max-input-size", "400Mi"],
        Stdio::null(),
    );
    assert!(r.code == 0 || r.code == 1, "{}", r.transcript());
    assert!(
        r.stdout.contains(&format!("{i} workloads")),
        "{}",
        r.transcript()
    );
}
