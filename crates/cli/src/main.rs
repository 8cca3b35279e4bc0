//! The `netpol` command line: argument parsing and rendering only; every
//! decision is the engine's.

mod color;
mod commands;
mod examples;
mod exit;
mod external;
mod focus;
mod format;
mod grid;
mod input;
mod render;
mod write;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "netpol",
    version,
    about = "Declare, generate, prove, explain and enforce Kubernetes NetworkPolicies"
)]
struct Cli {
    /// Colour ALLOWED/DENIED and findings: on a terminal (`auto`, off when NO_COLOR is set), `always` or `never`
    #[arg(long = "color", value_enum, value_name = "WHEN", default_value_t = color::When::Auto, global = true)]
    color: color::When,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Every ordered pair of endpoints, on every port the destination declares: allowed or not
    #[command(after_help = examples::MATRIX)]
    Matrix(commands::matrix::Args),
    /// Decide one connection and show which policy, rule, peer and port decided it
    #[command(after_help = examples::EXPLAIN)]
    Explain(commands::explain::Args),
    /// The policies as an nftables ruleset (input for `nft -f`) that enforces them on a node
    #[command(after_help = examples::NFT)]
    Nft(commands::nft::Args),
    /// Measure every connection with real packets through that ruleset, in throwaway network namespaces (root)
    #[command(after_help = examples::PROBE)]
    Probe(commands::probe::Args),
    /// What a change does to connectivity: connections newly allowed or denied, and which policy change caused it
    #[command(after_help = examples::DIFF)]
    Diff(commands::diff::Args),
    /// Find common NetworkPolicy mistakes, with file, line and a fix hint
    #[command(after_help = examples::LINT)]
    Lint(commands::lint::Args),
    /// Generate default-deny and allow policies from a flows file, one file per namespace
    #[command(after_help = examples::GEN)]
    Gen(commands::r#gen::Args),
    /// Check that the policies implement a flows file: missing and extra connections, open namespaces
    #[command(after_help = examples::VERIFY)]
    Verify(commands::verify::Args),
    /// Propose the flows the workloads need, each with its evidence in the manifests
    #[command(after_help = examples::DISCOVER)]
    Discover(commands::discover::Args),
    /// One self-contained HTML page: summary, graph, matrix heat map with each cell's trace, lint and verify findings
    #[command(after_help = examples::REPORT)]
    Report(commands::report::Args),
    /// Shell completions for bash, zsh, fish, elvish or powershell, on stdout
    #[command(after_help = examples::COMPLETION)]
    Completion(commands::completion::Args),
}

/// `netpol`, or `kubectl netpol` when run as the kubectl plugin
/// `kubectl-netpol` (kubectl runs `kubectl-<name>` found on PATH).
fn invoked_as() -> &'static str {
    let argv0 = std::env::args_os().next().unwrap_or_default();
    let name = std::path::Path::new(&argv0)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    if name == "kubectl-netpol" {
        "kubectl netpol"
    } else {
        "netpol"
    }
}

pub fn command() -> clap::Command {
    Cli::command().bin_name(invoked_as())
}

fn main() -> ExitCode {
    let cli = match Cli::from_arg_matches(&command().get_matches()) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    color::init(cli.color);
    let result = match cli.command {
        Command::Matrix(args) => commands::matrix::run(args),
        Command::Explain(args) => commands::explain::run(args),
        Command::Nft(args) => commands::nft::run(args),
        Command::Probe(args) => commands::probe::run(args),
        Command::Diff(args) => commands::diff::run(args),
        Command::Lint(args) => commands::lint::run(args),
        Command::Gen(args) => commands::r#gen::run(args),
        Command::Verify(args) => commands::verify::run(args),
        Command::Discover(args) => commands::discover::run(args),
        Command::Report(args) => commands::report::run(args),
        Command::Completion(args) => commands::completion::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report(),
    }
}
