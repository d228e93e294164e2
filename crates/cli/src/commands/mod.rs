//! One module per command: each resolves its arguments, calls the pipeline library and
//! renders what it returns. [`run`] dispatches after setting up the thread pool.

mod expectations;
mod generate;
mod publish;
mod run;
mod validate;

use std::time::Instant;

use crate::args::{Cli, Command};
use crate::render::error;
use ccc_cli::exit::{CliError, ExitStatus};
use ccc_cli::monitoring::CommandMetrics;

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
    let started = Instant::now();
    let metrics_file = cli.command.metrics_file();
    if let Some((_, path)) = &metrics_file {
        ccc_cli::files::check_writable(path)?;
    }
    let mut metrics = CommandMetrics::new(metrics_file.as_ref().map_or("", |(name, _)| name));
    let outcome = match cli.command {
        Command::Run(args) => run::run(args, &mut metrics),
        Command::Publish(args) => publish::run(args, &mut metrics),
        Command::Expectations(args) => expectations::run(args),
        Command::Generate(args) => generate::run(args),
        Command::Validate(args) => validate::run(args, &mut metrics),
    };
    if let Some((_, path)) = metrics_file {
        let status = match &outcome {
            Ok(status) => *status,
            Err(e) => e.exit_status(),
        };
        // The command's outcome stands: metrics that cannot be written are a warning,
        // never a reason to report a published output as failed.
        if let Err(e) = metrics.write(&path, status, started.elapsed()) {
            error(&format!("warning: {:?}", miette::Report::new(e)));
        }
    }
    outcome
}
