//! One spelling of every output format, for every command's `-o`: each
//! command lists the ones it can write, and clap rejects (and `--help` and
//! the completions leave out) the rest.

use clap::ValueEnum;
use clap::builder::{PossibleValuesParser, TypedValueParser};

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For people (`table` is the same)
    #[value(alias = "table")]
    Text,
    Json,
    /// YAML (`discover`'s flows file: `flows` is the same)
    #[value(alias = "flows")]
    Yaml,
    Csv,
    /// For a pull-request comment
    #[value(alias = "md")]
    Markdown,
    /// Graphviz DOT (`dot -Tsvg`)
    Dot,
    /// A Mermaid flowchart (GitHub renders it in Markdown)
    Mermaid,
    /// SARIF 2.1.0, for code scanning
    Sarif,
    /// One self-contained HTML page
    Html,
}

/// `-o`'s parser for a command that writes `supported`.
pub fn only(supported: &'static [Format]) -> impl TypedValueParser<Value = Format> {
    PossibleValuesParser::new(supported.iter().filter_map(|f| f.to_possible_value())).map(|s| {
        Format::from_str(&s, false).expect("clap checked it is one of the possible values")
    })
}
