//! The `netpol` command line: argument parsing and rendering only; every
//! decision is the engine's.

mod commands;
mod exit;
mod input;
mod render;
mod write;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "netpol",
    version,
    about = "Declare, generate, prove, explain and enforce Kubernetes NetworkPolicies"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Every ordered pair of endpoints, on every port the destination declares: allowed or not
    Matrix(commands::matrix::Args),
    /// Decide one connection and show which policy, rule, peer and port decided it
    Explain(commands::explain::Args),
    /// The policies as an nftables ruleset (input for `nft -f`) that enforces them on a node
    Nft(commands::nft::Args),
    /// Measure every connection with real packets through that ruleset, in throwaway network namespaces (root)
    Probe(commands::probe::Args),
    /// What a change does to connectivity: connections newly allowed or denied, and which policy change caused it
    Diff(commands::diff::Args),
    /// Find common NetworkPolicy mistakes, with file, line and a fix hint
    Lint(commands::lint::Args),
    /// Generate default-deny and allow policies from a flows file, one file per namespace
    Gen(commands::r#gen::Args),
    /// Check that the policies implement a flows file: missing and extra connections, open namespaces
    Verify(commands::verify::Args),
    /// Propose the flows the workloads need, each with its evidence in the manifests
    Discover(commands::discover::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
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
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report(),
    }
}
