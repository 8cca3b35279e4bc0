//! The entries of a Corefile that answer for a name other than the cluster
//! would: `hosts` blocks (`IP name...`) and `rewrite name` rules. Only what
//! split-horizon DNS needs; everything else in the Corefile is ignored.

/// One override, with the 1-based line within the text it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    /// `hosts { IP name... }`: `address` as written (an IP, or a template
    /// placeholder some repositories fill in at deploy time).
    Hosts {
        address: String,
        names: Vec<String>,
        line: usize,
        text: String,
    },
    /// `rewrite name [exact|suffix] FROM TO`.
    Rewrite {
        suffix: bool,
        from: String,
        to: String,
        line: usize,
        text: String,
    },
    /// `rewrite name regex|prefix|substring ...`: not followed, reported.
    Unsupported { line: usize, text: String },
}

pub fn parse(text: &str) -> Vec<Entry> {
    let mut out = Vec::new();
    // Depth of the hosts block we are in, if any.
    let mut in_hosts: Option<usize> = None;
    let mut depth = 0usize;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("").trim();
        let n = i + 1;
        let words: Vec<&str> = line.split_whitespace().collect();
        if let Some(d) = in_hosts {
            if line.starts_with('}') && depth == d {
                in_hosts = None;
            } else if let [address, names @ ..] = words.as_slice() {
                let option = matches!(
                    *address,
                    "fallthrough" | "ttl" | "reload" | "no_reverse" | "}"
                );
                if !option && !names.is_empty() {
                    out.push(Entry::Hosts {
                        address: address.to_string(),
                        names: names
                            .iter()
                            .map(|s| s.trim_end_matches('.').to_ascii_lowercase())
                            .collect(),
                        line: n,
                        text: line.to_string(),
                    });
                }
            }
        } else if words.first() == Some(&"hosts") && line.ends_with('{') {
            in_hosts = Some(depth + 1);
        } else if words.first() == Some(&"rewrite") {
            let mut rest: &[&str] = &words[1..];
            if matches!(rest.first(), Some(&"stop") | Some(&"continue")) {
                rest = &rest[1..];
            }
            if rest.first() == Some(&"name") {
                let entry = match &rest[1..] {
                    [from, to, ..]
                        if !matches!(
                            *from,
                            "exact" | "suffix" | "regex" | "prefix" | "substring"
                        ) =>
                    {
                        Some((false, *from, *to))
                    }
                    ["exact", from, to, ..] => Some((false, *from, *to)),
                    ["suffix", from, to, ..] => Some((true, *from, *to)),
                    _ => None,
                };
                out.push(match entry {
                    Some((suffix, from, to)) => Entry::Rewrite {
                        suffix,
                        from: from.trim_end_matches('.').to_ascii_lowercase(),
                        to: to.trim_end_matches('.').to_ascii_lowercase(),
                        line: n,
                        text: line.to_string(),
                    },
                    None => Entry::Unsupported {
                        line: n,
                        text: line.to_string(),
                    },
                });
            }
        }
        depth += line.matches('{').count();
        depth = depth.saturating_sub(line.matches('}').count());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_rewrites() {
        let text = "example.com:53 {\n  hosts {\n    10.43.0.20 auth.example.com\n    fallthrough\n  }\n  rewrite name exact git.example.com ingress-nginx-controller.ingress-nginx.svc.cluster.local\n  rewrite stop name suffix .lan.example.com .svc.cluster.local\n  rewrite name regex (.*)\\.x\\.com {1}.svc\n}\n";
        let e = parse(text);
        assert_eq!(e.len(), 4, "{e:?}");
        assert!(
            matches!(&e[0], Entry::Hosts { address, names, line: 3, .. } if address == "10.43.0.20" && names == &["auth.example.com"])
        );
        assert!(
            matches!(&e[1], Entry::Rewrite { suffix: false, from, line: 6, .. } if from == "git.example.com")
        );
        assert!(matches!(
            &e[2],
            Entry::Rewrite {
                suffix: true,
                line: 7,
                ..
            }
        ));
        assert!(matches!(&e[3], Entry::Unsupported { line: 8, .. }));
    }
}
