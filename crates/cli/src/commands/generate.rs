//! `ccc generate`: realistic sources in every format, deterministic by `--seed`, with
//! switches to inject bad records (`--dirty`) and late events (`--late`).

use ccc_ingest::Format;

use crate::args::{GenerateArgs, SourceFormat};
use crate::render::{error, say};
use ccc_cli::exit::{CliError, ExitStatus};
use ccc_cli::generate::{generate, GenerateOptions};

/// Generates the files and prints what was written.
pub fn run(args: GenerateArgs) -> Result<ExitStatus, CliError> {
    let format = match args.format {
        SourceFormat::Json => Format::Json,
        SourceFormat::Ndjson => Format::Ndjson,
        SourceFormat::Csv => Format::Csv,
        SourceFormat::Parquet => Format::Parquet,
    };
    let options = GenerateOptions {
        orders: args.orders,
        seed: args.seed,
        format,
        files: args.files,
        dirty: args.dirty,
        late: args.late,
    };
    let summary = generate(&options, &args.out)?;
    say(&format!(
        "generated {} messages and {} orders in {} files under {}",
        summary.messages,
        summary.orders,
        summary.files.len(),
        args.out.display()
    ));
    for stale in &summary.stale_files {
        // `discover` would read these as sources too; say so rather than delete user files.
        error(&format!(
            "warning: {} is from an earlier run and was not rewritten; ccc run will read it (remove it if unwanted)",
            stale.display()
        ));
    }
    Ok(ExitStatus::Success)
}
