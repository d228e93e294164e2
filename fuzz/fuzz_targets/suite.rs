//! The suite loader: the bytes as a suite's YAML text, loaded as `ccc validate` and `ccc run`
//! load `--suite FILE` (`ccc_dq::Suite::load` reads the file to a `String`, so text that
//! is not UTF-8 is a read error there, and is skipped here; then `Suite::from_yaml`).
//!
//! - A rejected suite: its error is rendered the way `ccc` renders it: `ccc_cli`'s own
//!   `SuiteDiagnostic`, drawn by miette's graphical handler without line wrapping, as
//!   `main` sets it up.
//! - An accepted suite: bound and run (`ccc_dq::validate`) over small fixed data sets of
//!   the three tables — generated sources (with dirty values) and a published output
//!   file from the seed corpus — with every metric it names given, and the
//!   presence-only queries answered for each table.
#![no_main]

use std::collections::BTreeMap;
use std::sync::OnceLock;

use ccc_cli::quality::suites::SuiteDiagnostic;
use ccc_dq::{ChunkOrigin, Dataset, Suite, SuiteError, TypeProblem};
use ccc_ingest::{Batch, FieldProblem, Format, ReadOptions};
use libfuzzer_sys::fuzz_target;
use miette::{GraphicalReportHandler, GraphicalTheme};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Suite::from_yaml(text, "fuzz.yaml") {
        Err(error) => render(error),
        Ok(suite) => run(&suite),
    }
});

fn render(error: SuiteError) {
    let diagnostic = SuiteDiagnostic::new(error);
    let mut out = String::new();
    GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor())
        .with_wrap_lines(false)
        .render_report(&mut out, &diagnostic)
        .expect("rendering into a String cannot fail");
}

fn run(suite: &Suite) {
    let datasets = datasets();
    let refs: Vec<&Dataset> = datasets.iter().collect();
    for dataset in &refs {
        let _ = suite.columns_needing_values(dataset.name(), dataset.schema());
        for e in suite.expectations().filter(|e| e.table == dataset.name()) {
            for column in e.kind.columns() {
                if let Some(f) = dataset.schema().fields.iter().find(|f| f.name == column) {
                    let _ = ccc_dq::decided_by_presence(&e.kind, &f.data_type);
                }
            }
        }
    }
    let options = ccc_dq::Options {
        partial_unexpected_count: 20,
        parallel: false,
    };
    // Without metrics (reconciliations skipped) and with every metric the suite names.
    let _ = ccc_dq::validate(suite, &refs, &BTreeMap::new(), &options);
    let metrics: BTreeMap<String, i64> = suite
        .metric_names()
        .into_iter()
        .enumerate()
        .map(|(i, name)| (name.to_string(), 1000 - i as i64))
        .collect();
    if let Ok(result) = ccc_dq::validate(suite, &refs, &metrics, &options) {
        let _ = result.to_json();
    }
}

/// The three tables a suite may name, built once per process.
fn datasets() -> &'static [Dataset] {
    static SETS: OnceLock<Vec<Dataset>> = OnceLock::new();
    SETS.get_or_init(|| {
        let dir = ccc_fuzz::subdir("suite-data");
        let generated = dir.join("sources");
        let options = ccc_cli::generate::GenerateOptions {
            orders: 12,
            seed: 7,
            format: Format::Ndjson,
            files: 1,
            dirty: 0.2,
            late: 0.0,
        };
        ccc_cli::generate::generate(&options, &generated).expect("generate sources");
        let files = ccc_ingest::discover(&generated).expect("generated files");
        let sources = ccc_ingest::read_sources(files.clone(), &ReadOptions::default(), &|_| {})
            .expect("read generated sources");
        let name = |i: u32| files[i as usize].name.clone();
        let mut sets = Vec::new();
        for table in [&sources.messages, &sources.orders] {
            let mut d = Dataset::new(table.table.name(), table.table.schema());
            fill(&mut d, &table.batches, &table.problems, &name);
            sets.push(d);
        }
        // A published output file (a seed of the published_output target).
        let part = ccc_fuzz::put(
            &dir,
            "part-0.parquet",
            include_bytes!("../corpus/published_output/seed-part-0.parquet"),
        );
        let layout = ccc_transform::schema::output_layout();
        let (batches, problems) = ccc_ingest::read_layout_file(
            0,
            &part,
            Format::Parquet,
            layout,
            &ReadOptions::default(),
        )
        .expect("read the seed output file");
        let mut d = Dataset::new(layout.name, layout.schema());
        d.set_key_column("order_id").ok();
        fill(&mut d, &batches, &problems, &|_| "part-0.parquet".into());
        sets.push(d);
        sets
    })
}

/// Batches and their value problems into a dataset, as `crates/cli/src/quality/datasets.rs`
/// fills one.
fn fill(
    d: &mut Dataset,
    batches: &[Batch],
    problems: &[FieldProblem],
    name: &dyn Fn(u32) -> String,
) {
    for b in batches {
        let lines = (0..b.len())
            .map(|i| b.line(i))
            .collect::<Option<Vec<u64>>>();
        d.push_chunk_unread(
            b.chunk.clone(),
            ChunkOrigin::source(name(b.file), b.first_record, lines),
            &b.unread,
        )
        .expect("chunk fits the schema");
    }
    for p in problems.iter().filter(|p| !p.column.is_empty()) {
        let at = batches.iter().position(|b| {
            b.file == p.file
                && (b.first_record..b.first_record + b.len() as u64).contains(&p.record)
        });
        if let Some(chunk) = at {
            let problem = TypeProblem {
                column: p.column.to_string(),
                chunk,
                row: (p.record - batches[chunk].first_record) as usize,
                raw: p.raw.clone(),
            };
            d.add_type_problem(problem)
                .expect("problem fits the dataset");
        }
    }
}
