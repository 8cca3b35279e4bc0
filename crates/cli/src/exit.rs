//! Exit statuses, one scheme for every command: 0 clean, 1 findings (the
//! command ran and its answer is "no": a failed verify or lint, a stale
//! `gen --check`, a changed `diff --exit-code`, a probe that disagrees), 2 bad
//! input or usage, or anything else that kept the command from answering
//! (so a script never mistakes an error for findings), 3 denied (`explain
//! --exit-code`). clap's own usage errors exit 2 as well.

use std::process::ExitCode;

use netpol_model::LoadErrors;

/// The command ran and found something wrong.
pub const FINDINGS: u8 = 1;
/// Bad input or usage: the command could not answer.
pub const BAD_INPUT: u8 = 2;

pub enum Failure {
    /// The manifests could not be loaded; every problem is listed.
    Load(LoadErrors),
    /// A bad argument that clap could not catch.
    Usage(String),
    /// Anything else that stops the command before it can answer.
    Other(String),
    /// The command ran and its answer is a non-zero status.
    Status(u8),
}

impl Failure {
    pub fn report(self) -> ExitCode {
        match self {
            Failure::Load(errors) => {
                eprintln!("{errors}");
                let n = errors.0.len();
                eprintln!(
                    "netpol: {n} error{} in the input; nothing was analysed",
                    if n == 1 { "" } else { "s" }
                );
                ExitCode::from(BAD_INPUT)
            }
            Failure::Usage(msg) | Failure::Other(msg) => {
                eprintln!("error: {msg}");
                ExitCode::from(BAD_INPUT)
            }
            Failure::Status(code) => ExitCode::from(code),
        }
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        // A reader that stops early (`| head`) is not an error.
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            return Failure::Status(0);
        }
        Failure::Other(format!("cannot write output: {e}"))
    }
}
