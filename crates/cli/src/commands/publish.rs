//! `ccc publish --staged DIR --out OUT`: the publish step of write–audit–publish.

use ccc_cli::exit::{CliError, ExitStatus};
use ccc_cli::monitoring::CommandMetrics;
use ccc_cli::pipeline;

use crate::args::PublishArgs;
use crate::render::say;

/// Publishes and says what was published.
pub fn run(args: PublishArgs, metrics: &mut CommandMetrics) -> Result<ExitStatus, CliError> {
    let clock = std::time::Instant::now();
    let published = pipeline::publish(&args.staged, &args.out, args.no_audit)?;
    metrics.published();
    metrics.stage_duration("publish", clock.elapsed());
    if !args.quiet {
        let audit = match &published.audit {
            Some(audit) => format!(
                "audited by suite {} ({}/{} passed, {})",
                audit.suite,
                audit.statistics.successful_expectations,
                audit.statistics.evaluated_expectations,
                audit.audited_at
            ),
            None => "without an audit (--no-audit)".to_string(),
        };
        let state = match &published.generation {
            Some((n, state)) => format!("; state generation {n} in {}", state.display()),
            None => String::new(),
        };
        say(&format!(
            "published {} from {}, {audit}{state}",
            published.out.display(),
            args.staged.display()
        ));
    }
    Ok(ExitStatus::Success)
}
