//! The matrix as a picture: Graphviz DOT and Mermaid flowcharts of workloads
//! grouped by namespace, with external peers outside every namespace.

use std::io::{self, Write};

use crate::grid::graph::{Edge, Graph};

/// Which edges to draw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Edges {
    pub allowed: bool,
    pub denied: bool,
}

fn drawn(graph: &Graph, edges: Edges) -> impl Iterator<Item = (&Edge, bool)> {
    graph.edges.iter().flat_map(move |e| {
        let allowed = (edges.allowed && e.is_allowed()).then_some((e, true));
        let denied = (edges.denied && !e.denied.is_empty()).then_some((e, false));
        allowed.into_iter().chain(denied)
    })
}

/// A DOT double-quoted string.
fn dot_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

pub fn dot(out: &mut impl Write, graph: &Graph, edges: Edges) -> io::Result<()> {
    writeln!(out, "digraph netpol {{")?;
    writeln!(out, "  rankdir=LR;")?;
    // The default ranking fails ("trouble in init_rank") on some graphs with clusters.
    writeln!(out, "  newrank=true;")?;
    writeln!(
        out,
        "  node [shape=box, style=rounded, fontname=\"Helvetica\"];"
    )?;
    writeln!(out, "  edge [fontname=\"Helvetica\", fontsize=10];")?;
    for (k, (ns, members)) in graph.by_namespace().into_iter().enumerate() {
        let indent = match ns {
            Some(ns) => {
                writeln!(out, "  subgraph cluster_{k} {{")?;
                writeln!(out, "    label={};", dot_quote(ns))?;
                "    "
            }
            None => "  ",
        };
        for v in members {
            let v = &graph.vertices[v];
            let shape = if v.namespace.is_none() {
                ", shape=ellipse, style=dashed"
            } else {
                ""
            };
            writeln!(
                out,
                "{indent}{} [label={}{shape}];",
                dot_quote(&v.id),
                dot_quote(&v.label)
            )?;
        }
        if ns.is_some() {
            writeln!(out, "  }}")?;
        }
    }
    for (e, allowed) in drawn(graph, edges) {
        let (src, dst) = (&graph.vertices[e.src].id, &graph.vertices[e.dst].id);
        if allowed {
            writeln!(
                out,
                "  {} -> {} [label={}];",
                dot_quote(src),
                dot_quote(dst),
                dot_quote(&e.allowed_label())
            )?;
        } else {
            writeln!(
                out,
                "  {} -> {} [label={}, style=dashed, color=red, fontcolor=red];",
                dot_quote(src),
                dot_quote(dst),
                dot_quote(&format!("denied {}", e.denied_label()))
            )?;
        }
    }
    writeln!(out, "}}")
}

/// Mermaid's label text, in double quotes: quotes and the characters
/// Mermaid reads as markup become entity codes.
fn mermaid_label(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '#' => out.push_str("#35;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '|' => out.push_str("#124;"),
            '\n' => out.push(' '),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

pub fn mermaid(out: &mut impl Write, graph: &Graph, edges: Edges) -> io::Result<()> {
    // Ids are generated (`w0`, `ns0`): workload names hold `/`, `.` and
    // characters Mermaid reads as syntax.
    writeln!(out, "flowchart LR")?;
    for (k, (ns, members)) in graph.by_namespace().into_iter().enumerate() {
        let indent = match ns {
            Some(ns) => {
                writeln!(out, "  subgraph ns{k}[{}]", mermaid_label(ns))?;
                "    "
            }
            None => "  ",
        };
        for v in members {
            let label = mermaid_label(&graph.vertices[v].label);
            if graph.vertices[v].namespace.is_some() {
                writeln!(out, "{indent}w{v}[{label}]")?;
            } else {
                writeln!(out, "{indent}w{v}(({label}))")?;
            }
        }
        if ns.is_some() {
            writeln!(out, "  end")?;
        }
    }
    let mut denied = Vec::new();
    for (i, (e, allowed)) in drawn(graph, edges).enumerate() {
        if allowed {
            writeln!(
                out,
                "  w{} -->|{}| w{}",
                e.src,
                mermaid_label(&e.allowed_label()),
                e.dst
            )?;
        } else {
            denied.push(i);
            writeln!(
                out,
                "  w{} -.->|{}| w{}",
                e.src,
                mermaid_label(&format!("denied {}", e.denied_label())),
                e.dst
            )?;
        }
    }
    if !denied.is_empty() {
        let list: Vec<String> = denied.iter().map(|i| i.to_string()).collect();
        writeln!(out, "  linkStyle {} stroke:red,color:red", list.join(","))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped() {
        assert_eq!(dot_quote(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(mermaid_label("x\"<y>|#"), "\"x#quot;#lt;y#gt;#124;#35;\"");
    }
}
