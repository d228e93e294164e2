//! What the user typed, validated only. Commands resolve it into settings before work.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

pub use ccc_cli::pipeline::ChecksMode;
use ccc_cli::quality::reports::ReportFormat;

/// customer_courier_conversations, checked: chat events and orders in, one row per
/// order's conversation out, with data-quality suites on both sides of the transform.
///
/// Exit codes: 0 ok (warnings allowed), 1 a check of severity error failed,
/// 2 bad usage or bad suite/config, 3 input or output could not be read or written.
#[derive(Debug, Parser)]
#[command(name = "ccc", version, propagate_version = true)]
pub struct Cli {
    /// Worker threads, 1 to 256 (default: all cores).
    #[arg(long, global = true, value_name = "N")]
    pub threads: Option<usize>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the whole job: read sources, check them, build the table, check it, publish
    /// (or, with --stage, build the new output in a folder of its own and publish nothing).
    Run(RunArgs),
    /// Swap a staged output (ccc run --stage, or another engine's in ccc's layout) in
    /// over the output, once its audit (ccc validate --suite output --data) passed.
    Publish(PublishArgs),
    /// Write the built-in suites (source.yaml, output.yaml) into a folder to customise.
    Expectations(ExpectationsArgs),
    /// Generate realistic source files, deterministic by --seed.
    Generate(GenerateArgs),
    /// Run one data-quality suite alone: on the sources, or on a published output folder.
    Validate(ValidateArgs),
}

impl Command {
    /// The command's name in its metrics, and the file they go to (commands that write
    /// none have neither).
    pub fn metrics_file(&self) -> Option<(&'static str, PathBuf)> {
        match self {
            Command::Run(args) => args.metrics_file.clone().map(|f| ("run", f)),
            Command::Validate(args) => args.metrics_file.clone().map(|f| ("validate", f)),
            Command::Publish(args) => args.metrics_file.clone().map(|f| ("publish", f)),
            Command::Expectations(_) | Command::Generate(_) => None,
        }
    }
}

/// Arguments of `ccc validate`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  ccc validate --suite source --source data/source\n  \
ccc validate --suite output --data data/processed --report junit --report-file dq.xml\n  \
ccc validate --suite output --data /lake/spark_out/customer_courier_conversations\n  \
ccc validate --suite my_checks.yaml --source data/source\n  \
ccc validate --suite sales.yaml --table sales=/lake/sales --table stores=stores.csv\n\n\
Exit codes: 0 every error-severity expectation passed (warnings allowed), 1 one failed,\n\
2 bad usage or a bad suite, 3 the data could not be read."
)]
pub struct ValidateArgs {
    /// `source`, `output`, or the path of a suite file.
    #[arg(long, value_name = "source|output|FILE")]
    pub suite: String,
    /// Source folder, for the source suite (and suite files about source tables).
    #[arg(long, value_name = "DIR")]
    pub source: Option<PathBuf>,
    /// A published output folder (ccc's OUT, or a table folder such as a Spark job writes), for the output suite.
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// A table the suite names, as a file or a folder (Hive partitions become columns) of CSV, JSON, NDJSON or Parquet (repeatable; instead of --source/--data).
    #[arg(long, value_name = "NAME=PATH", value_parser = parse_table_binding)]
    pub table: Vec<(String, PathBuf)>,
    /// Folder with source.yaml and output.yaml (default: the built-in suites).
    #[arg(long, value_name = "DIR")]
    pub expectations: Option<PathBuf>,
    /// Also write a report: json, junit or markdown (repeatable; pairs with --report-file in order).
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub report: Vec<ReportFormat>,
    /// Where to write each --report.
    #[arg(long, value_name = "FILE")]
    pub report_file: Vec<PathBuf>,
    /// The longest record of a text source (a line, a JSON record, a CSV header) read; a longer one is an input error.
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value = "64MiB")]
    pub max_record_bytes: usize,
    /// Print only the verdict line, not the table.
    #[arg(long, short)]
    pub quiet: bool,
    /// Also write metrics in the Prometheus text format to FILE (replaced whole; for the
    /// node exporter's textfile collector or a push gateway; see docs/monitoring.md).
    #[arg(long, value_name = "FILE")]
    pub metrics_file: Option<PathBuf>,
    /// Write every unexpected row of every failing expectation to DIR/failed_rows.parquet (no cap; created if missing).
    #[arg(long, value_name = "DIR")]
    pub failed_rows: Option<PathBuf>,
    /// With --failed-rows: also write DIR/failed_rows.csv.
    #[arg(long, requires = "failed_rows")]
    pub failed_rows_csv: bool,
    #[command(flatten)]
    pub history: HistoryArgs,
}

/// The history a command's suites are compared with and recorded in.
#[derive(Debug, Clone, clap::Args)]
pub struct HistoryArgs {
    /// Compare with earlier runs' metrics kept in DIR and record this run's there (one
    /// Parquet file per suite run; created if missing; see docs/history.md).
    #[arg(long, value_name = "DIR")]
    pub history: Option<PathBuf>,
    /// The run's time (RFC 3339, e.g. an orchestrator's logical date): freshness is
    /// measured from it, and only earlier runs count as history. Default: now.
    #[arg(long, value_name = "TIMESTAMP", value_parser = parse_run_time)]
    pub run_time: Option<i64>,
}

impl HistoryArgs {
    /// The history store, if one was named.
    pub fn store(&self) -> Option<ccc_cli::quality::history::HistoryStore> {
        self.history
            .clone()
            .map(ccc_cli::quality::history::HistoryStore::new)
    }
}

/// An RFC 3339 timestamp, as microseconds since the epoch.
fn parse_run_time(text: &str) -> Result<i64, String> {
    ccc_dq::time::parse_timestamp_nanos(text)
        .and_then(|nanos| i64::try_from(nanos.div_euclid(1000)).ok())
        .ok_or_else(|| format!("{text:?} is not an RFC 3339 timestamp like 2026-12-04T06:00:00Z"))
}

/// Arguments of `ccc publish`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Write, audit, publish — each its own task:\n  \
ccc run --stage data/staged --out data/processed\n  \
ccc validate --suite output --data data/staged\n  \
ccc publish --staged data/staged --out data/processed\n\n\
Exit codes: 0 published, 1 the audit failed, 2 no audit, a stale one, or a folder that is\n\
not a staged output (--no-audit publishes without one), 3 the output could not be written.")]
pub struct PublishArgs {
    /// The staged folder (ccc run --stage DIR, or another engine's output in ccc's layout).
    #[arg(long, value_name = "DIR")]
    pub staged: PathBuf,
    /// The output folder to replace.
    #[arg(long, default_value = "data/processed", value_name = "DIR")]
    pub out: PathBuf,
    /// Publish without an audit.
    #[arg(long)]
    pub no_audit: bool,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
    /// Also write metrics in the Prometheus text format to FILE (replaced whole; for the
    /// node exporter's textfile collector or a push gateway; see docs/monitoring.md).
    #[arg(long, value_name = "FILE")]
    pub metrics_file: Option<PathBuf>,
}

/// Arguments of `ccc expectations`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  ccc expectations --write my_suites\n  \
ccc run --expectations my_suites")]
pub struct ExpectationsArgs {
    /// The folder to write source.yaml and output.yaml into (created if needed).
    #[arg(long, value_name = "DIR")]
    pub write: PathBuf,
    /// Replace files that exist.
    #[arg(long)]
    pub force: bool,
}

/// Arguments of `ccc run`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  ccc run --source data/source --out data/processed --format parquet,csv\n\n\
Writes OUT/parquet/customer_courier_conversations/conversation_date=YYYY-MM-DD/part-HH.parquet\n\
(one file per UTC hour HH of conversation_started_at), the same under OUT/csv/,\n\
OUT/quarantine/<table>.csv and the run report OUT/_run.json.\n\
The previous output is replaced in one step once the new one is complete."
)]
pub struct RunArgs {
    /// Folder with customer_courier_chat_messages* and orders* files (.json, .ndjson, .jsonl, .csv, .parquet).
    #[arg(long, default_value = "data/source", value_name = "DIR")]
    pub source: PathBuf,
    /// Output folder (replaced atomically).
    #[arg(long, default_value = "data/processed", value_name = "DIR")]
    pub out: PathBuf,
    /// Output formats of the table, comma-separated.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "parquet,csv",
        value_name = "FORMATS"
    )]
    pub format: Vec<OutputFormat>,
    /// Data-quality checks: enforce, warn or off.
    #[arg(long, value_enum, default_value = "enforce")]
    pub checks: ChecksMode,
    /// Folder with the suites source.yaml and output.yaml (default: the built-in suites;
    /// `ccc expectations --write DIR` writes them out to customise).
    #[arg(long, value_name = "DIR")]
    pub expectations: Option<PathBuf>,
    /// Build the complete new output (and, with --incremental, the new state generation)
    /// in DIR and publish nothing; `ccc publish --staged DIR` swaps it in later. --out
    /// still names the output it will replace.
    #[arg(long, value_name = "DIR")]
    pub stage: Option<PathBuf>,
    /// No progress display and no summary table (the run report is still written).
    #[arg(long, short)]
    pub quiet: bool,
    /// Also write a report of both suites: json, junit or markdown (repeatable; pairs with --report-file).
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub report: Vec<ReportFormat>,
    /// Where to write each --report.
    #[arg(long, value_name = "FILE")]
    pub report_file: Vec<PathBuf>,
    /// Also write metrics in the Prometheus text format to FILE (replaced whole; for the
    /// node exporter's textfile collector or a push gateway; see docs/monitoring.md).
    #[arg(long, value_name = "FILE")]
    pub metrics_file: Option<PathBuf>,
    /// The longest record of a text source (a line, a JSON record, a CSV header) read; a longer one is an input error.
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value = "64MiB")]
    pub max_record_bytes: usize,
    /// Memory the transform's per-order states, orders and table may take (e.g. 2GiB);
    /// past it the states spill to disk beside the output, with the same result.
    /// Default: half the machine's memory, or of the cgroup's limit when lower.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub memory_limit: Option<usize>,
    /// Fold only source files not seen before into the state in --state, and rewrite only
    /// the date partitions whose conversations changed (see docs/late-events.md).
    #[arg(long, requires = "state")]
    pub incremental: bool,
    /// The state folder of incremental runs (per-order partial state and the files folded in).
    #[arg(long, value_name = "DIR", requires = "incremental")]
    pub state: Option<PathBuf>,
    /// With --incremental: fold every source file again from scratch, rebuilding state and
    /// output (after a source file changed, or to start over).
    #[arg(long, requires = "incremental")]
    pub reprocess: bool,
    /// With --incremental: hash every source file to look for changed content, not only
    /// new files and files whose size or modification time changed.
    #[arg(long, requires = "incremental")]
    pub rehash: bool,
    /// With --incremental: warn about messages more than this behind the newest message
    /// published before (e.g. 90m, 6h, 2d); they are still folded in.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, requires = "incremental")]
    pub max_lateness: Option<std::time::Duration>,
    /// Target bytes of text parsed by one task (tuning and tests; results never depend on it).
    #[arg(long, hide = true, default_value_t = 4 << 20)]
    pub chunk_bytes: usize,
    #[command(flatten)]
    pub history: HistoryArgs,
}

/// Parses `NAME=PATH` (`--table`): the table's name, then a file or folder.
pub fn parse_table_binding(text: &str) -> Result<(String, PathBuf), String> {
    match text.split_once('=') {
        Some((name, path)) if !name.trim().is_empty() && !path.is_empty() => {
            Ok((name.trim().to_string(), PathBuf::from(path)))
        }
        _ => Err(format!(
            "{text:?} is not NAME=PATH (a table of the suite, then its file or folder)"
        )),
    }
}

/// A size in bytes: a number with an optional `K`, `M`, `G` (powers of 1024; `KiB`,
/// `MiB`, `GiB` and `KB`, `MB`, `GB` read the same).
pub fn parse_size(text: &str) -> Result<usize, String> {
    let bad = || format!("{text:?} is not a size like 64MiB, 512K or 1G");
    let trimmed = text.trim();
    let digits = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(trimmed.len());
    let number: usize = trimmed[..digits].parse().map_err(|_| bad())?;
    let shift = match trimmed[digits..].trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        _ => return Err(bad()),
    };
    let bytes = number.checked_mul(1 << shift).ok_or_else(bad)?;
    if bytes == 0 {
        return Err(format!("{text:?}: a size must be at least one byte"));
    }
    Ok(bytes)
}

fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    humantime::parse_duration(text)
        .map_err(|e| format!("{text:?} is not a duration like 90m, 6h or 2d: {e}"))
}

/// A format of the output table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Hive-partitioned Parquet.
    Parquet,
    /// Hive-partitioned CSV.
    Csv,
}

/// A source format for the generator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SourceFormat {
    /// Pretty-printed JSON arrays, as the seed wrote them.
    Json,
    /// One JSON object per line.
    Ndjson,
    /// CSV with a header row.
    Csv,
    /// Parquet.
    Parquet,
}

/// Arguments of `ccc generate`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  ccc generate --orders 500 --out data/source\n  \
ccc generate --orders 1000000 --format parquet --files 8 --out /tmp/big\n  \
ccc generate --orders 2000 --dirty 0.05 --late 0.1 --files 4 --out /tmp/messy"
)]
pub struct GenerateArgs {
    /// Number of orders (each has 1–12 messages).
    #[arg(long, default_value_t = 500)]
    pub orders: u64,
    /// Random seed: the same seed and options give the same files, byte for byte.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// File format.
    #[arg(long, value_enum, default_value = "json")]
    pub format: SourceFormat,
    /// Files per table.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub files: u32,
    /// Fraction of records made bad, each breaking one check (null, empty, wrong type, unknown value, bad timestamp).
    #[arg(long, default_value_t = 0.0, value_parser = parse_fraction)]
    pub dirty: f64,
    /// Fraction of messages delivered late (in a later file, with older times), and of orders arriving after their messages.
    #[arg(long, default_value_t = 0.0, value_parser = parse_fraction)]
    pub late: f64,
    /// Output folder.
    #[arg(long, default_value = "data/generated", value_name = "DIR")]
    pub out: PathBuf,
}

fn parse_fraction(text: &str) -> Result<f64, String> {
    let value: f64 = text
        .parse()
        .map_err(|_| format!("{text:?} is not a number"))?;
    if (0.0..=1.0).contains(&value) {
        Ok(value)
    } else {
        Err(format!("{value} is not a fraction between 0 and 1"))
    }
}
