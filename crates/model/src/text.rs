//! Wording shared by the messages of several crates (lint findings, flows
//! suggestions), so the same list reads the same everywhere.

/// Items shown by [`short_list`] before "and N more".
pub const SHOWN: usize = 3;

/// `a, b, c` or `a, b, c and 4 more`: enough to recognise, short enough to
/// read. A list of one more than [`SHOWN`] is shown whole ("and 1 more" saves nothing).
pub fn short_list(items: &[String]) -> String {
    if items.len() <= SHOWN + 1 {
        return items.join(", ");
    }
    format!(
        "{} and {} more",
        items[..SHOWN].join(", "),
        items.len() - SHOWN
    )
}

/// `1 policy`, `3 policies`.
pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lists_are_cut_after_three() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(short_list(&s(&[])), "");
        assert_eq!(short_list(&s(&["a", "b", "c", "d"])), "a, b, c, d");
        assert_eq!(
            short_list(&s(&["a", "b", "c", "d", "e", "f"])),
            "a, b, c and 3 more"
        );
    }
}
