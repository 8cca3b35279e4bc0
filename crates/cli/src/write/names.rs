//! The path of a generated file: only `<namespace>.yaml` with a valid
//! namespace name (or the one cluster-scoped file of guardrails, whose dot
//! no namespace name can have), and only directly inside DIR, whatever the
//! input says.

use std::path::{Component, Path, PathBuf};

/// `dir/name`, or why `name` may not be written. The loader already rejects
/// invalid namespaces; this is checked again here because a file name that
/// escapes DIR would write into the user's repository or anywhere else.
pub fn target(dir: &Path, name: &str) -> Result<PathBuf, String> {
    let refuse = |why: String| Err(format!("refusing to write {name:?}: {why}"));
    let Some(stem) = name.strip_suffix(".yaml") else {
        return refuse("a generated file name is <namespace>.yaml".into());
    };
    if name == netpol_flows::GUARDRAILS_FILE {
        // A fixed name: no input chooses it.
    } else if let Some(e) = netpol_model::namespace_name_error(stem) {
        return refuse(format!("not a namespace name: {e}"));
    }
    let mut parts = Path::new(name).components();
    match (parts.next(), parts.next()) {
        (Some(Component::Normal(p)), None) if p == name => {}
        _ => return refuse("not a single file name".into()),
    }
    let path = dir.join(name);
    // Component-wise: DIR's own components, then exactly this file.
    let inside = path.parent() == Some(dir)
        && path.components().count() == dir.components().count() + 1
        && path.starts_with(dir);
    if !inside {
        return refuse(format!("it would not be inside {}", dir.display()));
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_namespace_files_directly_inside_dir() {
        let dir = Path::new("out/policies");
        assert_eq!(
            target(dir, "shop.yaml").unwrap(),
            Path::new("out/policies/shop.yaml")
        );
        assert_eq!(
            target(dir, "cluster.guardrails.yaml").unwrap(),
            Path::new("out/policies/cluster.guardrails.yaml")
        );
        for bad in [
            "../../escaped.yaml",
            "/tmp/abs.yaml",
            "a/b.yaml",
            "..yaml",
            "..",
            ".yaml",
            "shop",
            "Shop.yaml",
            "a\\b.yaml",
            "sub/../x.yaml",
            "cluster.other.yaml",
        ] {
            let e = target(dir, bad).unwrap_err();
            assert!(e.contains("refusing to write"), "{bad}: {e}");
        }
    }

    #[test]
    fn an_empty_dir_means_the_working_directory() {
        assert_eq!(
            target(Path::new(""), "a.yaml").unwrap(),
            Path::new("a.yaml")
        );
    }
}
