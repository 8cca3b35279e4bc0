//! The real-world data that tests read lives beside the repository, in
//! `../shared`, and is not part of it: a user's clone has none. Tests that
//! use it ask [`shared`], which skips them there, and fails them when CI
//! says the data must be present (`NETPOL_REQUIRE_SHARED=1`), so that CI can
//! never pass by silently skipping them.

use std::path::{Path, PathBuf};

/// Set to `1` (CI does) to make a missing `../shared` a test failure.
pub const REQUIRE_VAR: &str = "NETPOL_REQUIRE_SHARED";

/// The repository root (the workspace this crate belongs to).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `../shared/<relative>` from the repository root, when it exists; `None`
/// (with a note on stderr) when it does not.
///
/// # Panics
///
/// When it does not exist and `NETPOL_REQUIRE_SHARED=1`.
pub fn shared(relative: &str) -> Option<PathBuf> {
    locate(&repo_root().join("../shared"), relative, required())
}

fn required() -> bool {
    std::env::var(REQUIRE_VAR).is_ok_and(|v| v == "1")
}

fn locate(base: &Path, relative: &str, required: bool) -> Option<PathBuf> {
    let path = base.join(relative);
    if path.exists() {
        return Some(path);
    }
    let shown = Path::new("../shared").join(relative);
    if required {
        panic!(
            "{} is missing (looked for {}) and {REQUIRE_VAR}=1 requires it: put the shared data beside the repository, or unset {REQUIRE_VAR} to skip the tests that read it",
            shown.display(),
            path.display()
        );
    }
    eprintln!(
        "note: {} not found: skipping what needs it (set {REQUIRE_VAR}=1 to make this an error)",
        shown.display()
    );
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn present_data_is_found_whatever_the_variable() {
        let dir = std::env::temp_dir();
        let base = dir.parent().unwrap_or(&dir);
        let name = dir.file_name().unwrap().to_str().unwrap();
        for required in [false, true] {
            assert_eq!(locate(base, name, required), Some(base.join(name)));
        }
    }

    #[test]
    fn missing_data_is_skipped_unless_required() {
        let base = Path::new("/nonexistent-netpol-shared");
        assert_eq!(locate(base, "realcases/homelab", false), None);
        let panic = std::panic::catch_unwind(|| locate(base, "realcases/homelab", true))
            .expect_err("required data that is missing fails the test");
        let message = panic.downcast_ref::<String>().unwrap();
        assert!(
            message.contains("../shared/realcases/homelab is missing")
                && message.contains("NETPOL_REQUIRE_SHARED=1"),
            "{message}"
        );
    }
}
