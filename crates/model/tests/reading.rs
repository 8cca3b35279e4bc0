//! Reading PATH arguments: files of a directory are read in parallel when
//! their sizes allow, with the result of reading them one after the other
//! under the size cap: the same sources in name order, or the same error
//! at the same file.

use netpol_model::read_paths_within;

/// A directory of `sizes.len()` files, `f00.yaml`..., of those sizes.
fn dir_with(sizes: &[usize]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (i, &n) in sizes.iter().enumerate() {
        let text = format!("# {i:02}\n{}", "x".repeat(n - 5));
        std::fs::write(dir.path().join(format!("f{i:02}.yaml")), text).unwrap();
    }
    dir
}

#[test]
fn files_come_in_name_order_with_their_text() {
    let sizes: Vec<usize> = (0..40).map(|i| 10 + i * 7).collect();
    let dir = dir_with(&sizes);
    let (sources, notes) = read_paths_within(&[dir.path()], 1 << 20).unwrap();
    assert!(notes.is_empty());
    let names: Vec<String> = sources.iter().map(|s| s.name.clone()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    for (i, s) in sources.iter().enumerate() {
        assert!(s.name.ends_with(&format!("f{i:02}.yaml")), "{}", s.name);
        let path = dir.path().join(format!("f{i:02}.yaml"));
        assert_eq!(s.text, std::fs::read_to_string(path).unwrap());
    }
}

/// The cap is reached at file `k` (counting only the files before it):
/// that file is refused with the run's cap, as a sequential read does;
/// the later ones that still fit are read.
#[test]
fn the_cap_refuses_the_file_that_reaches_it() {
    let sizes = [100, 100, 100, 300, 50];
    let dir = dir_with(&sizes);
    let err = read_paths_within(&[dir.path()], 350).unwrap_err();
    assert_eq!(err.0.len(), 1, "{:?}", err.0);
    assert!(err.0[0].file.ends_with("f03.yaml"), "{:?}", err.0);
    assert!(
        err.0[0]
            .message
            .starts_with("the input is larger than 350 bytes in total"),
        "{:?}",
        err.0
    );
    // A file that is not text fails on its own; the others are read.
    let dir = dir_with(&[10, 10, 10]);
    std::fs::write(dir.path().join("f01.yaml"), [0xff, 0xfe]).unwrap();
    let err = read_paths_within(&[dir.path()], 1000).unwrap_err();
    assert_eq!(err.0.len(), 1);
    assert!(err.0[0].file.ends_with("f01.yaml"));
    assert_eq!(err.0[0].message, "not UTF-8 text");
}

/// A file of more than 32 MiB is read in parts at once: the same text, and
/// the same refusal of bytes that are not UTF-8 however far in they are.
#[test]
fn a_large_file_read_in_parts_is_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dump.yaml");
    let line = "- name: a-rather-ordinary-line-of-a-dump\n";
    let mut text = String::with_capacity(34 << 20);
    let mut n = 0usize;
    while text.len() < 34 << 20 {
        text.push_str(&format!("# {n}\n{line}"));
        n += 1;
    }
    std::fs::write(&path, &text).unwrap();
    let (sources, _) = read_paths_within(&[&path], 64 << 20).unwrap();
    assert_eq!(sources.len(), 1);
    assert!(
        sources[0].text == text,
        "the text read differs from the file"
    );
    let mut bytes = text.into_bytes();
    let last = bytes.len() - 2;
    bytes[last] = 0xff;
    std::fs::write(&path, &bytes).unwrap();
    let err = read_paths_within(&[&path], 64 << 20).unwrap_err();
    assert_eq!(err.0[0].message, "not UTF-8 text");
}
