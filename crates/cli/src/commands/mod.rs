//! One module per command: each resolves its arguments, calls the pipeline library and
//! renders what it returns. [`run`] dispatches after setting up the thread pool.

mod expectations;
mod generate;
mod publish;
mod run;
mod validate;

use crate::args::{Cli, Command};
use ccc_cli::exit::{CliError, ExitStatus};

/// The most worker threads `--threads` accepts. The work is split into 64 partitions,
/// so more threads than a few times that only cost start-up time and stacks; an
/// unbounded number let a typo take seconds to start, or abort where memory is capped.
pub const MAX_THREADS: usize = 256;

/// Runs the command the user chose.
pub fn run(cli: Cli) -> Result<ExitStatus, CliError> {
    if let Some(threads) = cli.threads {
        if !(1..=MAX_THREADS).contains(&threads) {
            return Err(CliError::Usage(format!(
                "--threads must be between 1 and {MAX_THREADS}, not {threads}"
            )));
        }
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build_global()
            .map_err(|e| CliError::Usage(format!("cannot start {threads} threads: {e}")))?;
    }
    match cli.command {
        Command::Run(args) => run::run(args),
        Command::Publish(args) => publish::run(args),
        Command::Expectations(args) => expectations::run(args),
        Command::Generate(args) => generate::run(args),
        Command::Validate(args) => validate::run(args),
    }
}
