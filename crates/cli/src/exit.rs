//! Exit statuses: 0 success, 1 failure or bad input, 2 usage, 3 denied (`explain --exit-code`).

use std::process::ExitCode;

use netpol_model::LoadErrors;

pub enum Failure {
    /// The manifests could not be loaded; every problem is listed.
    Load(LoadErrors),
    /// A bad argument that clap could not catch.
    Usage(String),
    /// Anything else that stops the command.
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
                ExitCode::from(1)
            }
            Failure::Usage(msg) => {
                eprintln!("error: {msg}");
                ExitCode::from(2)
            }
            Failure::Other(msg) => {
                eprintln!("error: {msg}");
                ExitCode::from(1)
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
