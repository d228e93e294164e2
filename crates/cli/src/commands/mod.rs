//! One module per command; [`run`] dispatches after setting up the thread pool.

mod generate;
mod incremental;
mod run;
mod validate;

use crate::args::{Cli, Command};
use crate::exit::{CliError, ExitStatus};

/// Runs the command the user chose.
pub fn run(cli: Cli) -> Result<ExitStatus, CliError> {
    if let Some(threads) = cli.threads {
        if threads == 0 {
            return Err(CliError::Usage("--threads must be at least 1".into()));
        }
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build_global()
            .map_err(|e| CliError::Usage(format!("cannot start {threads} threads: {e}")))?;
    }
    match cli.command {
        Command::Run(args) => run::run(args),
        Command::Generate(args) => generate::run(args),
        Command::Validate(args) => validate::run(args),
    }
}
