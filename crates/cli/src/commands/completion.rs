//! `netpol completion SHELL`: the shell's completion script for every
//! command, flag and value (formats, `--only`, `--color`).

use clap_complete::Shell;

use crate::exit::Failure;

#[derive(clap::Args)]
pub struct Args {
    /// The shell
    #[arg(value_enum)]
    shell: Shell,
}

pub fn run(args: Args) -> Result<(), Failure> {
    let mut cmd = crate::command();
    let name = cmd.get_bin_name().unwrap_or("netpol").to_string();
    // kubectl completes plugins itself; the script is for `netpol`.
    let name = if name.contains(' ') {
        "netpol".to_string()
    } else {
        name
    };
    let mut out = std::io::stdout().lock();
    clap_complete::generate(args.shell, &mut cmd, name, &mut out);
    Ok(())
}
