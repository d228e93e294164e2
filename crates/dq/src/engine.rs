//! Running a suite: bind it to the datasets (tables, columns, metrics), evaluate every
//! expectation — in parallel over expectations and, inside each, over chunks — and
//! turn the counters into results with Great Expectations' null and `mostly` rules.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use arrow2::datatypes::Schema;
use rayon::prelude::*;

use crate::checks::column::SetSide;
use crate::checks::history::{self, Earlier};
use crate::checks::{aggregate, column, hash, order, pair, record, table, Run, Tally};
use crate::dataset::Dataset;
use crate::error::SuiteError;
use crate::history::{History, HistoryMetric};
use crate::profile;
use crate::result::{percent, ExpectationResult, SuiteResult, UnexpectedValue};
use crate::streaming::ChunkTallies;
use crate::suite::{Expectation, ExpectationKind, MatchOn, ResultFormat, Statistic, Suite};
use crate::time;

/// How to run a suite.
#[derive(Debug, Clone)]
pub struct Options {
    /// How many unexpected values each result keeps (default 20).
    pub partial_unexpected_count: usize,
    /// Evaluate expectations and chunks on rayon's thread pool (default true).
    pub parallel: bool,
    /// Keep every unexpected value of every expectation in `unexpected_list`, whatever
    /// its `result_format` (for writing the failed rows out; default false).
    pub every_unexpected: bool,
    /// Earlier runs' metrics, for the history expectations (without one they pass with a
    /// note).
    pub history: Option<Arc<History>>,
    /// The run's time, in microseconds since the epoch (UTC): what freshness is measured
    /// from and what the history is "before". Default: now.
    pub run_time: Option<i64>,
    /// Also profile every table (nulls, distinct values, histograms; default false).
    pub profile: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            partial_unexpected_count: 20,
            parallel: true,
            every_unexpected: false,
            history: None,
            run_time: None,
            profile: false,
        }
    }
}

impl Options {
    /// How many unexpected values the checks of `e` collect: all of them for
    /// `result_format: COMPLETE` or [`Options::every_unexpected`].
    pub fn limit_for(&self, e: &Expectation) -> usize {
        if self.every_unexpected || e.result_format == ResultFormat::Complete {
            usize::MAX
        } else {
            self.partial_unexpected_count
        }
    }
}

/// Runs `suite` over `tables` (matched by name). `metrics` are the run's named counts
/// for `expect_metric_values_to_reconcile`; when empty, reconciliations are skipped,
/// otherwise every metric they name must be present.
///
/// Returns `Err` only when the suite cannot run on this data (unknown table, column or
/// metric, unsupported column type); failed expectations are results.
pub fn validate(
    suite: &Suite,
    tables: &[&Dataset],
    metrics: &BTreeMap<String, i64>,
    options: &Options,
) -> Result<SuiteResult, SuiteError> {
    validate_prechecked(suite, tables, metrics, options, &BTreeMap::new())
}

/// [`validate`], with the row-local expectations of some tables already run on each chunk
/// as it was read ([`crate::RowChecks`]): `prechecked` maps a table to its chunks' tallies,
/// in the dataset's chunk order. The columns of those tables that only row-local
/// expectations read may have been dropped (pushed unread) after their check.
pub fn validate_prechecked(
    suite: &Suite,
    tables: &[&Dataset],
    metrics: &BTreeMap<String, i64>,
    options: &Options,
    prechecked: &BTreeMap<String, Vec<ChunkTallies>>,
) -> Result<SuiteResult, SuiteError> {
    let schemas: BTreeMap<String, Schema> = tables
        .iter()
        .map(|d| (d.name().to_string(), d.schema().clone()))
        .collect();
    suite.check_columns(&schemas)?;
    if !metrics.is_empty() {
        suite.check_metrics(metrics)?;
    }
    let by_name: BTreeMap<&str, &Dataset> = tables.iter().map(|d| (d.name(), *d)).collect();
    for (table, chunks) in prechecked {
        let expected = by_name.get(table.as_str()).map_or(0, |d| d.chunks().len());
        if chunks.len() != expected {
            return Err(SuiteError::PrecheckedChunks {
                table: table.clone(),
                chunks: expected,
                prechecked: chunks.len(),
            });
        }
    }
    let expectations: Vec<&Expectation> = suite.expectations().collect();
    // Expectations checked chunk by chunk as the tables were read: the row-local ones, and
    // look-ups whose other table was whole before the first chunk. Every chunk of a
    // table must have the same ones, or counts would be silently short.
    let mut ahead = BTreeSet::new();
    for (table, chunks) in prechecked {
        for (i, e) in expectations.iter().enumerate() {
            if e.table != *table {
                continue;
            }
            let covering = chunks.iter().filter(|t| t.covers(i)).count();
            if covering == chunks.len() && (covering > 0 || is_row_local(&e.kind)) {
                ahead.insert(i);
            } else if covering > 0 {
                return Err(SuiteError::PrecheckedMixed {
                    table: table.clone(),
                    id: e.id.clone(),
                });
            }
        }
    }
    let ids: BTreeSet<&str> = ahead.iter().map(|&i| expectations[i].id.as_str()).collect();
    suite.check_unread(&by_name, &|e: &Expectation| ids.contains(e.id.as_str()))?;
    let run = Run {
        limit: options.partial_unexpected_count,
        parallel: options.parallel,
        only_chunk: None,
    };
    let limits: Vec<usize> = expectations.iter().map(|e| options.limit_for(e)).collect();
    let local = chunk_major_tallies(run, &limits, &expectations, &by_name, prechecked, &ahead);
    let evaluate = |(i, e): (usize, &&Expectation)| {
        let run = Run {
            limit: limits[i],
            ..run
        };
        let result = evaluate(run, e, &by_name, metrics, local[i].clone());
        shaped(result, e, options)
    };
    let mut results: Vec<ExpectationResult> = if options.parallel {
        expectations.par_iter().enumerate().map(evaluate).collect()
    } else {
        expectations.iter().enumerate().map(evaluate).collect()
    };
    // The history and freshness checks come last: one may watch another's unexpected count.
    let earlier = Earlier {
        suite: &suite.name,
        history: options.history.as_deref(),
        run_time: options.run_time.unwrap_or_else(time::now_micros),
    };
    for (i, e) in expectations.iter().enumerate() {
        let Some(ds) = by_name.get(e.table.as_str()) else {
            continue;
        };
        if let Some(o) = against_earlier(run, e, ds, &results, earlier) {
            results[i] = observed(results[i].clone(), ds, o);
        }
    }
    let mut result = SuiteResult::new(suite.name.clone(), results);
    if options.profile {
        let row_counts = |table: &str| match earlier.history {
            Some(h) => h.recent(
                earlier.suite,
                &HistoryMetric::RowCount.key(table),
                earlier.run_time,
                PROFILED_RUNS,
            ),
            None => Vec::new(),
        };
        result.profile = Some(
            tables
                .iter()
                .map(|ds| profile::profile(run, ds, row_counts(ds.name())))
                .collect(),
        );
    }
    Ok(result)
}

/// Row-local checks (each row decided alone) of every table, evaluated chunk-major: each
/// chunk is visited once and every row-local check runs on it while it is in cache, so a
/// suite reads each column once rather than once per expectation. Tallies merge in chunk
/// order, as `over_chunks` does. Entry `i` is expectation `i`'s merged tally, or `None`
/// for checks that need the whole column (uniqueness, other tables, table-level).
fn chunk_major_tallies(
    run: Run,
    limits: &[usize],
    expectations: &[&Expectation],
    tables: &BTreeMap<&str, &Dataset>,
    prechecked: &BTreeMap<String, Vec<ChunkTallies>>,
    ahead: &BTreeSet<usize>,
) -> Vec<Option<(Tally, Denominator)>> {
    let mut out: Vec<Option<(Tally, Denominator)>> = vec![None; expectations.len()];
    for (name, ds) in tables {
        let local: Vec<usize> = (0..expectations.len())
            .filter(|&i| {
                expectations[i].table == *name
                    && (is_row_local(&expectations[i].kind) || ahead.contains(&i))
            })
            .collect();
        if local.is_empty() {
            continue;
        }
        let per_chunk = |c: usize| -> Vec<Option<(Tally, Denominator)>> {
            let run = Run {
                parallel: false,
                only_chunk: Some(c),
                ..run
            };
            local
                .iter()
                .map(|&i| {
                    let run = Run {
                        limit: limits[i],
                        ..run
                    };
                    local_tally(run, expectations[i], ds)
                })
                .collect()
        };
        let chunks: Vec<Vec<Option<(Tally, Denominator)>>> =
            if let Some(given) = prechecked.get(*name) {
                given
                    .iter()
                    .enumerate()
                    .map(|(c, tallies)| local.iter().map(|&i| tallies.take(i, c)).collect())
                    .collect()
            } else if run.parallel {
                (0..ds.chunks().len())
                    .into_par_iter()
                    .map(per_chunk)
                    .collect()
            } else {
                (0..ds.chunks().len()).map(per_chunk).collect()
            };
        for (j, &i) in local.iter().enumerate() {
            let mut merged: Option<(Tally, Denominator)> = None;
            for chunk in &chunks {
                merged = match (merged, chunk[j].clone()) {
                    (Some((acc, d)), Some((t, _))) => Some((acc.merge(t, limits[i]), d)),
                    (None, t) => t,
                    (acc, None) => acc,
                };
            }
            // A table without chunks still gets its (empty) tally.
            let run = Run {
                limit: limits[i],
                ..run
            };
            out[i] = merged.or_else(|| local_tally(run, expectations[i], ds));
        }
    }
    out
}

/// How many earlier runs' row counts a profile shows.
const PROFILED_RUNS: usize = 30;

/// The outcome of a check against earlier runs or the run's time; `None` for the others.
fn against_earlier(
    run: Run,
    e: &Expectation,
    ds: &Dataset,
    results: &[ExpectationResult],
    earlier: Earlier<'_>,
) -> Option<table::Observed> {
    let window = |last_runs: u64, min_runs: u64| history::Window {
        last_runs,
        min_runs,
    };
    match &e.kind {
        ExpectationKind::RowCountWithinPercentOfHistory {
            percent,
            last_runs,
            min_runs,
        } => Some(history::near_history(
            earlier,
            &HistoryMetric::RowCount.key(&e.table),
            ds.row_count() as f64,
            history::Tolerance::Percent(*percent),
            window(*last_runs, *min_runs),
        )),
        ExpectationKind::MetricWithinStdevsOfHistory {
            metric,
            stdevs,
            last_runs,
            min_runs,
        } => {
            let current = current_metric(run, metric, ds, results);
            Some(match current {
                Ok(value) => history::near_history(
                    earlier,
                    &metric.key(&e.table),
                    value,
                    history::Tolerance::Stdevs(*stdevs),
                    window(*last_runs, *min_runs),
                ),
                Err(why) => table::Observed {
                    success: true,
                    unexpected_count: 0,
                    unexpected_values: Vec::new(),
                    observed_value: serde_json::Value::Null,
                    skipped: Some(why),
                },
            })
        }
        ExpectationKind::NewestWithinAge {
            column,
            max_age_micros,
            max_age,
        } => {
            let c = ds.column_index(column)?;
            let newest = aggregate::statistic_value(run, ds, c, Statistic::Max)
                .ok()
                .map(|n| match n {
                    aggregate::Number::Int(nanos) => nanos,
                    aggregate::Number::Float(f) => f as i128,
                });
            Some(history::newest_within_age(
                earlier,
                newest,
                *max_age_micros,
                max_age,
            ))
        }
        _ => None,
    }
}

/// This run's value of a watched metric, or why it has none.
fn current_metric(
    run: Run,
    metric: &HistoryMetric,
    ds: &Dataset,
    results: &[ExpectationResult],
) -> Result<f64, String> {
    let column = |name: &str| {
        ds.column_index(name)
            .ok_or_else(|| format!("column `{name}` was not given"))
    };
    match metric {
        HistoryMetric::RowCount => Ok(ds.row_count() as f64),
        HistoryMetric::UnexpectedCount { of, .. } => results
            .iter()
            .find(|r| r.id == *of && r.skipped.is_none())
            .map(|r| r.unexpected_count as f64)
            .ok_or_else(|| format!("expectation {of} was not evaluated")),
        HistoryMetric::NullCount { column: name } => {
            let c = column(name)?;
            Ok(ds
                .chunks()
                .iter()
                .map(|chunk| chunk.arrays()[c].null_count() as f64)
                .sum())
        }
        HistoryMetric::Statistic {
            column: name,
            statistic,
        } => aggregate::statistic_value(run, ds, column(name)?, *statistic)
            .map(aggregate::Number::as_f64),
    }
}

/// Whether an expectation decides each row on its own (so it can run chunk by chunk).
pub(crate) fn is_row_local(kind: &ExpectationKind) -> bool {
    matches!(
        kind,
        ExpectationKind::NotNull { .. }
            | ExpectationKind::BeNull { .. }
            | ExpectationKind::JsonParseable { .. }
            | ExpectationKind::MatchJsonSchema { .. }
            | ExpectationKind::ValueLengthsBetween { .. }
            | ExpectationKind::OfType { .. }
            | ExpectationKind::InSet { .. }
            | ExpectationKind::NotInSet { .. }
            | ExpectationKind::Between { .. }
            | ExpectationKind::MatchRegex { .. }
            | ExpectationKind::NotMatchRegex { .. }
            | ExpectationKind::MatchRegexList { .. }
            | ExpectationKind::NotMatchRegexList { .. }
            | ExpectationKind::AGreaterThanB { .. }
            | ExpectationKind::ValueLengthsEqual { .. }
            | ExpectationKind::MatchStrftime { .. }
            | ExpectationKind::PairEqual { .. }
            | ExpectationKind::PairInSet { .. }
            | ExpectationKind::UniqueWithinRecord { .. }
            | ExpectationKind::MulticolumnSumEqual { .. }
    )
}

/// The tally of a row-local expectation over the chunks `run` allows; `None` when a column
/// is missing (binding has checked them) or the expectation is not row-local.
pub(crate) fn local_tally(run: Run, e: &Expectation, ds: &Dataset) -> Option<(Tally, Denominator)> {
    let col = |name: &str| ds.column_index(name);
    if let Some(c) = run.only_chunk {
        // Binding has refused unread columns that the expectation cannot decide.
        let unread = e
            .kind
            .columns()
            .iter()
            .any(|name| col(name).is_some_and(|i| ds.is_unread(c, i)));
        if unread {
            let tally = unread_tally(ds, c);
            let denominator = match e.kind {
                ExpectationKind::NotNull { .. } | ExpectationKind::BeNull { .. } => {
                    Denominator::All
                }
                _ => Denominator::NonMissing,
            };
            return Some((tally, denominator));
        }
    }
    match &e.kind {
        ExpectationKind::NotNull { column } => {
            col(column).map(|c| (column::not_null(run, ds, c), Denominator::All))
        }
        ExpectationKind::BeNull { column } => {
            col(column).map(|c| (column::be_null(run, ds, c), Denominator::All))
        }
        ExpectationKind::JsonParseable { column } => col(column)
            .map(|c| column::match_regex(run, ds, c, |v| !is_json(v)))
            .map(nonmissing),
        ExpectationKind::MatchJsonSchema { column, schema } => col(column)
            .map(|c| {
                column::match_regex(run, ds, c, |v| {
                    serde_json::from_str::<serde_json::Value>(v)
                        .map_or(true, |value| !schema.0.is_valid(&value))
                })
            })
            .map(nonmissing),
        ExpectationKind::ValueLengthsBetween {
            column,
            min_value,
            max_value,
        } => col(column)
            .map(|c| column::value_lengths(run, ds, c, *min_value, *max_value))
            .map(nonmissing),
        ExpectationKind::OfType { column, type_ } => col(column)
            .map(|c| column::of_type(run, ds, c, *type_))
            .map(nonmissing),
        ExpectationKind::InSet { column, value_set } => col(column)
            .map(|c| column::in_set(run, ds, c, value_set, SetSide::Inside))
            .map(nonmissing),
        ExpectationKind::NotInSet { column, value_set } => col(column)
            .map(|c| column::in_set(run, ds, c, value_set, SetSide::Outside))
            .map(nonmissing),
        ExpectationKind::Between {
            column,
            min_value,
            max_value,
            strict_min,
            strict_max,
        } => col(column)
            .map(|c| {
                column::between(
                    run,
                    ds,
                    c,
                    min_value.as_ref(),
                    max_value.as_ref(),
                    *strict_min,
                    *strict_max,
                )
            })
            .map(nonmissing),
        ExpectationKind::MatchRegex { column, regex } => col(column)
            .map(|c| column::match_regex(run, ds, c, |v| !regex.is_match(v)))
            .map(nonmissing),
        ExpectationKind::NotMatchRegex { column, regex } => col(column)
            .map(|c| column::match_regex(run, ds, c, |v| regex.is_match(v)))
            .map(nonmissing),
        ExpectationKind::MatchRegexList {
            column,
            regexes,
            match_on,
        } => col(column)
            .map(|c| match match_on {
                MatchOn::Any => column::match_regex(run, ds, c, |v| !regexes.is_match(v)),
                MatchOn::All => {
                    column::match_regex(run, ds, c, |v| !regexes.matches(v).matched_all())
                }
            })
            .map(nonmissing),
        ExpectationKind::NotMatchRegexList { column, regexes } => col(column)
            .map(|c| column::match_regex(run, ds, c, |v| regexes.is_match(v)))
            .map(nonmissing),
        ExpectationKind::AGreaterThanB {
            column_a,
            column_b,
            or_equal,
            ignore_row_if,
        } => col(column_a)
            .zip(col(column_b))
            .map(|(a, b)| pair::a_greater_than_b(run, ds, a, b, *or_equal, *ignore_row_if))
            .map(nonmissing),
        ExpectationKind::ValueLengthsEqual { column, value } => col(column)
            .map(|c| column::value_lengths(run, ds, c, Some(*value), Some(*value)))
            .map(nonmissing),
        ExpectationKind::MatchStrftime {
            column,
            strftime_format,
        } => col(column)
            .map(|c| {
                column::match_regex(run, ds, c, |v| !time::matches_strftime(v, strftime_format))
            })
            .map(nonmissing),
        ExpectationKind::PairEqual {
            column_a,
            column_b,
            ignore_row_if,
        } => col(column_a)
            .zip(col(column_b))
            .map(|(a, b)| pair::pair_equal(run, ds, a, b, *ignore_row_if))
            .map(nonmissing),
        ExpectationKind::PairInSet {
            column_a,
            column_b,
            value_pairs_set,
            ignore_row_if,
        } => col(column_a)
            .zip(col(column_b))
            .map(|(a, b)| pair::pair_in_set(run, ds, a, b, value_pairs_set, *ignore_row_if))
            .map(nonmissing),
        ExpectationKind::UniqueWithinRecord {
            column_list,
            ignore_row_if,
        } => columns_of(ds, column_list)
            .map(|cols| record::unique_within_record(run, ds, &cols, *ignore_row_if))
            .map(nonmissing),
        ExpectationKind::MulticolumnSumEqual {
            column_list,
            sum_total,
            ignore_row_if,
        } => columns_of(ds, column_list)
            .map(|cols| record::sum_equal(run, ds, &cols, sum_total, *ignore_row_if))
            .map(nonmissing),
        _ => None,
    }
}

/// Whether `text` is one JSON value. Parsed into a value, as the schema check parses it,
/// so that both refuse nesting past serde_json's 128 levels alike.
fn is_json(text: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(text).is_ok()
}

/// The indices of `names` in `ds`, if it has them all.
fn columns_of(ds: &Dataset, names: &[String]) -> Option<Vec<usize>> {
    names.iter().map(|n| ds.column_index(n)).collect()
}

/// The tally of a check on chunk `c` whose column was left unread: the rows are counted,
/// nothing else (binding and the reader leave a column unread only where its presence
/// decides the check).
pub(crate) fn unread_tally(ds: &Dataset, c: usize) -> Tally {
    Tally {
        element_count: ds.chunks().get(c).map_or(0, |chunk| chunk.len() as u64),
        ..Tally::default()
    }
}

/// How `unexpected_percent` and `mostly` count: over non-null values (value checks) or
/// over all rows (not-null).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Denominator {
    NonMissing,
    All,
}

fn evaluate(
    run: Run,
    e: &Expectation,
    tables: &BTreeMap<&str, &Dataset>,
    metrics: &BTreeMap<String, i64>,
    chunk_major: Option<(Tally, Denominator)>,
) -> ExpectationResult {
    let mut result = ExpectationResult {
        id: e.id.clone(),
        table: e.table.clone(),
        column: None,
        columns: e.kind.columns().into_iter().map(str::to_string).collect(),
        expectation: e.name().to_string(),
        rule: e.rule.clone(),
        severity: e.severity,
        success: true,
        mostly: e.mostly.as_ref().map(|m| m.as_str().to_string()),
        element_count: 0,
        missing_count: 0,
        missing_percent: None,
        unexpected_count: 0,
        unexpected_percent: None,
        unexpected_percent_total: None,
        partial_unexpected: Vec::new(),
        observed_value: None,
        skipped: None,
        meta: e.meta.clone(),
        result_format: e.result_format,
        unexpected_list: Vec::new(),
    };
    if result.columns.len() == 1 {
        result.column = result.columns.first().cloned();
    }
    // Binding checked every table and column before the run.
    let Some(ds) = tables.get(e.table.as_str()).copied() else {
        result.skipped = Some(format!("table `{}` was not given", e.table));
        return result;
    };
    let col = |name: &str| ds.column_index(name);
    let tally = match &e.kind {
        _ if chunk_major.is_some() => chunk_major,
        ExpectationKind::NotNull { .. }
        | ExpectationKind::BeNull { .. }
        | ExpectationKind::JsonParseable { .. }
        | ExpectationKind::MatchJsonSchema { .. }
        | ExpectationKind::ValueLengthsBetween { .. }
        | ExpectationKind::OfType { .. }
        | ExpectationKind::InSet { .. }
        | ExpectationKind::NotInSet { .. }
        | ExpectationKind::Between { .. }
        | ExpectationKind::MatchRegex { .. }
        | ExpectationKind::NotMatchRegex { .. }
        | ExpectationKind::MatchRegexList { .. }
        | ExpectationKind::NotMatchRegexList { .. }
        | ExpectationKind::AGreaterThanB { .. }
        | ExpectationKind::ValueLengthsEqual { .. }
        | ExpectationKind::MatchStrftime { .. }
        | ExpectationKind::PairEqual { .. }
        | ExpectationKind::PairInSet { .. }
        | ExpectationKind::UniqueWithinRecord { .. }
        | ExpectationKind::MulticolumnSumEqual { .. } => local_tally(run, e, ds),
        ExpectationKind::RowCountBetween {
            min_value,
            max_value,
        } => {
            return observed(
                result,
                ds,
                table::row_count(ds.row_count(), *min_value, *max_value),
            )
        }
        ExpectationKind::ColumnsMatchSet {
            column_set,
            exact_match,
        } => {
            let actual: Vec<&str> = ds.schema().fields.iter().map(|f| f.name.as_str()).collect();
            return observed(
                result,
                ds,
                table::columns_match_set(&actual, column_set, *exact_match),
            );
        }
        ExpectationKind::Reconcile { left, right } => {
            return observed(result, ds, table::reconcile(metrics, left, right))
        }
        ExpectationKind::ColumnCountBetween {
            min_value,
            max_value,
        } => {
            let columns = ds.schema().fields.len();
            return observed(
                result,
                ds,
                table::column_count(columns, *min_value, *max_value),
            );
        }
        ExpectationKind::ColumnCountEqual { value } => {
            let columns = ds.schema().fields.len();
            return observed(
                result,
                ds,
                table::column_count(columns, Some(*value), Some(*value)),
            );
        }
        ExpectationKind::ColumnToExist {
            column,
            column_index,
        } => {
            let actual: Vec<&str> = ds.schema().fields.iter().map(|f| f.name.as_str()).collect();
            let o = table::column_exists(&actual, column, *column_index);
            return observed(result, ds, o);
        }
        ExpectationKind::RowCountEqual { value } => {
            return observed(
                result,
                ds,
                table::row_count(ds.row_count(), Some(*value), Some(*value)),
            )
        }
        ExpectationKind::ColumnsMatchOrderedList { column_list } => {
            let actual: Vec<&str> = ds.schema().fields.iter().map(|f| f.name.as_str()).collect();
            return observed(
                result,
                ds,
                table::columns_match_ordered_list(&actual, column_list),
            );
        }
        ExpectationKind::RowCountEqualOtherTable { other_table } => {
            let Some(other) = tables.get(other_table.as_str()) else {
                result.skipped = Some(format!("table `{other_table}` was not given"));
                return result;
            };
            let o = table::row_count_equal_other(ds.row_count(), other_table, other.row_count());
            return observed(result, ds, o);
        }
        ExpectationKind::StatisticBetween {
            column,
            statistic,
            min_value,
            max_value,
            strict_min,
            strict_max,
        } => {
            let bounds = aggregate::Bounds::new(min_value, max_value, *strict_min, *strict_max);
            let Some(c) = col(column) else {
                return missing_column(result);
            };
            let o = aggregate::statistic_between(run, ds, c, *statistic, bounds);
            return observed(result, ds, o);
        }
        ExpectationKind::UniqueValueCountBetween {
            column,
            min_value,
            max_value,
        } => {
            let Some(c) = col(column) else {
                return missing_column(result);
            };
            let o = aggregate::unique_count_between(run, ds, c, *min_value, *max_value);
            return observed(result, ds, o);
        }
        ExpectationKind::UniqueProportionBetween {
            column,
            min_value,
            max_value,
            strict_min,
            strict_max,
        } => {
            let bounds = aggregate::Bounds::new(min_value, max_value, *strict_min, *strict_max);
            let Some(c) = col(column) else {
                return missing_column(result);
            };
            return observed(
                result,
                ds,
                aggregate::unique_proportion_between(run, ds, c, bounds),
            );
        }
        ExpectationKind::ZScoresLessThan {
            column,
            threshold,
            double_sided,
        } => {
            let Some(c) = col(column) else {
                return missing_column(result);
            };
            match aggregate::z_scores(run, ds, c, *threshold, *double_sided) {
                Ok(tally) => Some(nonmissing(tally)),
                Err(why) => {
                    result.skipped = Some(why);
                    return result;
                }
            }
        }
        ExpectationKind::NonNullProportionBetween {
            column,
            min_value,
            max_value,
            strict_min,
            strict_max,
        } => {
            let bounds = aggregate::Bounds::new(min_value, max_value, *strict_min, *strict_max);
            let Some(c) = col(column) else {
                return missing_column(result);
            };
            let o = aggregate::non_null_proportion_between(ds, c, bounds);
            return observed(result, ds, o);
        }
        ExpectationKind::DistinctValues {
            column,
            value_set,
            relation,
        } => {
            let Some(c) = col(column) else {
                return missing_column(result);
            };
            let o = aggregate::distinct_values(run, ds, c, value_set, *relation);
            return observed(result, ds, o);
        }
        ExpectationKind::QuantilesBetween {
            column,
            quantile_ranges,
        } => {
            let Some(c) = col(column) else {
                return missing_column(result);
            };
            let o = aggregate::quantiles_between(run, ds, c, quantile_ranges);
            return observed(result, ds, o);
        }
        ExpectationKind::Monotonic {
            column,
            decreasing,
            strictly,
        } => col(column)
            .map(|c| order::monotonic(run, ds, c, *decreasing, *strictly))
            .map(nonmissing),
        ExpectationKind::MostCommonValueInSet {
            column,
            value_set,
            ties_okay,
        } => {
            let Some(c) = col(column) else {
                return missing_column(result);
            };
            let o = aggregate::most_common_in_set(run, ds, c, value_set, *ties_okay);
            return observed(result, ds, o);
        }
        ExpectationKind::Unique { column } => col(column)
            .map(|c| hash::unique(run, ds, c))
            .map(nonmissing),
        ExpectationKind::CompoundUnique { column_list } => column_list
            .iter()
            .map(|c| col(c))
            .collect::<Option<Vec<usize>>>()
            .map(|cols| hash::compound_unique(run, ds, &cols))
            .map(nonmissing),
        ExpectationKind::InOtherTable {
            column,
            other_table,
            other_column,
        } => tables.get(other_table.as_str()).and_then(|other| {
            let (c, oc) = (col(column)?, other.column_index(other_column)?);
            Some(nonmissing(hash::in_other_table(run, ds, c, other, oc)))
        }),
        ExpectationKind::FunctionallyDependent { column_a, column_b } => col(column_a)
            .zip(col(column_b))
            .map(|(a, b)| hash::functionally_dependent(run, ds, a, b))
            .map(nonmissing),
        // Evaluated after every other expectation (`against_earlier`).
        ExpectationKind::RowCountWithinPercentOfHistory { .. }
        | ExpectationKind::MetricWithinStdevsOfHistory { .. }
        | ExpectationKind::NewestWithinAge { .. } => return result,
    };
    let Some((tally, denominator)) = tally else {
        result.skipped = Some("a column or table named by the expectation was not given".into());
        return result;
    };
    finish(result, e, ds, tally, denominator)
}

/// The result as its `result_format` shows it: at most `partial_unexpected_count`
/// examples, every unexpected value in `unexpected_list` when they were all collected
/// (COMPLETE, or [`Options::every_unexpected`]), no examples for BOOLEAN_ONLY.
fn shaped(mut result: ExpectationResult, e: &Expectation, options: &Options) -> ExpectationResult {
    result.result_format = e.result_format;
    if options.limit_for(e) == usize::MAX && !result.success {
        result.unexpected_list = result.partial_unexpected.clone();
    }
    result
        .partial_unexpected
        .truncate(options.partial_unexpected_count);
    if e.result_format == ResultFormat::BooleanOnly {
        result.partial_unexpected.clear();
    }
    result
}

fn missing_column(mut result: ExpectationResult) -> ExpectationResult {
    result.skipped = Some("a column or table named by the expectation was not given".into());
    result
}

fn nonmissing(t: Tally) -> (Tally, Denominator) {
    (t, Denominator::NonMissing)
}

fn finish(
    mut result: ExpectationResult,
    e: &Expectation,
    ds: &Dataset,
    tally: Tally,
    denominator: Denominator,
) -> ExpectationResult {
    let total = match denominator {
        Denominator::NonMissing => {
            tally.element_count - tally.missing_count.min(tally.element_count)
        }
        Denominator::All => tally.element_count,
    };
    let unexpected = tally.unexpected_count.min(total);
    result.success = match &e.mostly {
        Some(mostly) => mostly.passes(total - unexpected, total),
        None => unexpected == 0,
    };
    result.element_count = tally.element_count;
    result.missing_count = tally.missing_count;
    result.missing_percent = percent(tally.missing_count, tally.element_count);
    result.unexpected_count = tally.unexpected_count;
    result.unexpected_percent = percent(tally.unexpected_count, total);
    result.unexpected_percent_total = percent(tally.unexpected_count, tally.element_count);
    result.partial_unexpected = tally
        .samples
        .into_iter()
        .map(|s| UnexpectedValue::new(s.value, Some(ds.location(s.chunk, s.row))))
        .collect();
    result
}

fn observed(mut result: ExpectationResult, ds: &Dataset, o: table::Observed) -> ExpectationResult {
    result.success = o.success;
    result.element_count = ds.row_count() as u64;
    result.missing_percent = percent(0, result.element_count);
    result.unexpected_count = o.unexpected_count;
    result.partial_unexpected = o
        .unexpected_values
        .into_iter()
        .map(|v| UnexpectedValue::new(Some(v), None))
        .collect();
    result.observed_value = (!o.observed_value.is_null()).then_some(o.observed_value);
    result.skipped = o.skipped;
    result
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use arrow2::array::{Array, BooleanArray, Int64Array, PrimitiveArray, Utf8Array};
    use arrow2::chunk::Chunk;
    use arrow2::datatypes::{DataType, Field, TimeUnit};

    use super::*;
    use crate::checks::fixtures::{ints, strs};
    use crate::checks::testing::table;
    use crate::dataset::ChunkOrigin;
    use crate::suite::Severity;

    const SUITE: &str = r#"
suite: demo
tables:
  orders:
    expectations:
      - id: city-not-null
        expectation: expect_column_values_to_not_be_null
        column: cityCode
        rule: Should be not null
      - id: city-known
        expectation: expect_column_values_to_be_in_set
        column: cityCode
        value_set: [BCN]
        severity: warn
        meta: {addition: true}
"#;

    #[test]
    fn result_formats_show_none_some_or_every_unexpected_value() {
        let suite = Suite::from_yaml(
            concat!(
                "suite: s\nresult_format: BASIC\ntables:\n  t:\n    expectations:\n",
                "      - {id: basic, expectation: expect_column_values_to_not_be_null, column: c}\n",
                "      - {id: none, expectation: expect_column_values_to_not_be_null, column: c, result_format: BOOLEAN_ONLY}\n",
                "      - {id: all, expectation: expect_column_values_to_not_be_null, column: c, result_format: COMPLETE}\n",
            ),
            "s.yaml",
        )
        .expect("valid");
        let values: Vec<Option<i64>> = (0..50).map(|i| (i % 2 == 0).then_some(i)).collect();
        let t = table("t", vec![("c", ints(&values))]);
        let r = validate(&suite, &[&t], &BTreeMap::new(), &Options::default()).expect("runs");
        let by_id = |id: &str| r.results.iter().find(|x| x.id == id).unwrap();
        assert_eq!(
            by_id("basic").result_format,
            ResultFormat::Basic,
            "the suite's level"
        );
        assert_eq!(by_id("basic").partial_unexpected.len(), 20);
        assert!(by_id("basic").unexpected_list.is_empty());
        assert!(by_id("none").partial_unexpected.is_empty());
        assert_eq!(by_id("none").unexpected_count, 25, "counts stay");
        assert_eq!(by_id("all").partial_unexpected.len(), 20);
        assert_eq!(by_id("all").unexpected_list.len(), 25);
        assert_eq!(
            by_id("all").unexpected_list[24].location,
            Some(crate::Location::Source {
                file: "t.csv".into(),
                record: 50,
                line: None
            }),
            "the last null, row 49"
        );
        let every = Options {
            every_unexpected: true,
            ..Options::default()
        };
        let r = validate(&suite, &[&t], &BTreeMap::new(), &every).expect("runs");
        assert!(r.results.iter().all(|x| x.unexpected_list.len() == 25));
        let json: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
        assert_eq!(json["results"][1]["result_format"], "BOOLEAN_ONLY");
    }

    #[test]
    fn warnings_do_not_fail_the_suite_and_errors_do() {
        let suite = Suite::from_yaml(SUITE, "demo.yaml").expect("valid");
        let t = table(
            "orders",
            vec![("cityCode", strs(&[Some("BCN"), Some("MAD")]))],
        );
        let r = validate(&suite, &[&t], &BTreeMap::new(), &Options::default()).expect("runs");
        assert!(r.success, "only a warning failed");
        assert_eq!(r.statistics.failed_warnings, 1);
        assert_eq!(r.statistics.failed_errors, 0);
        assert_eq!(r.failures()[0].severity, Severity::Warn);
        let t = table("orders", vec![("cityCode", strs(&[None, Some("MAD")]))]);
        let r = validate(&suite, &[&t], &BTreeMap::new(), &Options::default()).expect("runs");
        assert!(!r.success);
        assert_eq!(r.statistics.unsuccessful_expectations, 2);
        assert_eq!(r.failures()[0].id, "city-not-null", "errors first");
    }

    #[test]
    fn json_carries_the_summary_fields_and_locations() {
        let suite = Suite::from_yaml(SUITE, "demo.yaml").expect("valid");
        let mut t = table(
            "orders",
            vec![
                ("cityCode", strs(&[Some("MAD")])),
                ("orderId", ints(&[Some(7)])),
            ],
        );
        t.set_key_column("orderId").expect("exists");
        let r = validate(&suite, &[&t], &BTreeMap::new(), &Options::default()).expect("runs");
        let json: serde_json::Value = serde_json::from_str(&r.to_json()).expect("json");
        assert_eq!(json["suite"], "demo");
        assert_eq!(json["success"], true);
        let warn = &json["results"][1];
        for key in [
            "id",
            "table",
            "column",
            "columns",
            "expectation",
            "rule",
            "severity",
            "success",
            "element_count",
            "missing_count",
            "unexpected_count",
            "unexpected_percent",
            "partial_unexpected",
        ] {
            assert!(warn.get(key).is_some(), "{key} in {warn}");
        }
        assert_eq!(warn["severity"], "warn");
        assert_eq!(warn["meta"]["addition"], true);
        assert_eq!(
            warn["partial_unexpected"][0],
            serde_json::json!({"value": "MAD", "location": {"key": "orderId=7"}})
        );
        let back: SuiteResult = serde_json::from_str(&r.to_json()).expect("round trip");
        assert_eq!(back, r);
    }

    #[test]
    fn binding_errors_are_errors_not_results() {
        let suite = Suite::from_yaml(SUITE, "demo.yaml").expect("valid");
        let t = table("orders", vec![("city", strs(&[]))]);
        let e = validate(&suite, &[&t], &BTreeMap::new(), &Options::default())
            .expect_err("no cityCode");
        assert!(matches!(e, SuiteError::UnknownColumn { .. }), "{e:?}");
        assert_eq!(e.position().map(|p| p.line), Some(8));
        let other = table("other", vec![("cityCode", strs(&[]))]);
        let e = validate(&suite, &[&other], &BTreeMap::new(), &Options::default())
            .expect_err("no orders");
        assert!(matches!(e, SuiteError::UnknownTable { .. }), "{e:?}");
    }

    /// A source-like table of `rows` rows in chunks of 65,536.
    fn messages(rows: usize) -> Dataset {
        let ts = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
        let schema = arrow2::datatypes::Schema::from(vec![
            Field::new("senderAppType", DataType::Utf8, true),
            Field::new("customerId", DataType::Int64, true),
            Field::new("fromId", DataType::Int64, true),
            Field::new("toId", DataType::Int64, true),
            Field::new("chatStartedByMessage", DataType::Boolean, true),
            Field::new("orderId", DataType::Int64, true),
            Field::new("orderStage", DataType::Utf8, true),
            Field::new("courierId", DataType::Int64, true),
            Field::new("messageSentTime", ts.clone(), true),
        ]);
        let mut ds = Dataset::new("messages", schema);
        let apps = [
            "Customer iOS",
            "Customer Android",
            "Courier iOS",
            "Courier Android",
        ];
        let stages = [
            "ACCEPTED",
            "IN_PROGRESS",
            "COMPLETED",
            "CANCELLED",
            "PROVIDER_REJECTED",
        ];
        let mut start = 0;
        while start < rows {
            let n = (rows - start).min(65_536);
            let idx: Vec<usize> = (start..start + n).collect();
            let int = |f: &dyn Fn(usize) -> i64| {
                Int64Array::from_iter(idx.iter().map(|&i| Some(f(i)))).boxed()
            };
            let arrays: Vec<Box<dyn Array>> = vec![
                Utf8Array::<i32>::from_iter_values(idx.iter().map(|&i| apps[i % 4])).boxed(),
                int(&|i| (i / 5) as i64 * 3),
                int(&|i| (i % 1000) as i64),
                int(&|i| (i % 777) as i64),
                BooleanArray::from_iter(idx.iter().map(|&i| Some(i % 5 == 0))).boxed(),
                int(&|i| (i / 5) as i64),
                Utf8Array::<i32>::from_iter_values(idx.iter().map(|&i| stages[i % 5])).boxed(),
                int(&|i| (i / 5) as i64 + 7),
                PrimitiveArray::<i64>::from_iter(
                    idx.iter()
                        .map(|&i| Some(1_566_201_707_000_000 + i as i64 * 1_000)),
                )
                .to(ts.clone())
                .boxed(),
            ];
            ds.push_chunk(
                Chunk::new(arrays),
                ChunkOrigin::source("messages.json", start as u64 + 1, None),
            )
            .expect("fits");
            start += n;
        }
        ds
    }

    fn orders(rows: usize) -> Dataset {
        table(
            "orders",
            vec![
                (
                    "orderId",
                    Int64Array::from_iter((0..rows as i64).map(Some)).boxed(),
                ),
                (
                    "cityCode",
                    Utf8Array::<i32>::from_iter_values(
                        (0..rows).map(|i| ["BCN", "MAD", "LIS"][i % 3]),
                    )
                    .boxed(),
                ),
            ],
        )
    }

    fn perf_suite() -> Suite {
        let mut text = String::from("suite: perf\ntables:\n  messages:\n    expectations:\n");
        let cols = [
            "senderAppType",
            "customerId",
            "fromId",
            "toId",
            "chatStartedByMessage",
            "orderId",
            "orderStage",
            "courierId",
            "messageSentTime",
        ];
        let types = [
            "string",
            "integer",
            "integer",
            "integer",
            "boolean",
            "integer",
            "string",
            "integer",
            "timestamp",
        ];
        for (c, t) in cols.iter().zip(types) {
            text.push_str(&format!(
                "      - {{id: {c}-nn, expectation: expect_column_values_to_not_be_null, column: {c}}}\n      - {{id: {c}-type, expectation: expect_column_values_to_be_of_type, column: {c}, type_: {t}}}\n"
            ));
        }
        text.push_str(
            r#"      - {id: app-set, expectation: expect_column_values_to_be_in_set, column: senderAppType, value_set: [Customer iOS, Customer Android, Courier iOS, Courier Android]}
      - {id: stage-set, expectation: expect_column_values_to_be_in_set, column: orderStage, value_set: [ACCEPTED, IN_PROGRESS, COMPLETED, CANCELLED, PROVIDER_REJECTED, FAILED]}
      - {id: app-len, expectation: expect_column_value_lengths_to_be_between, column: senderAppType, min_value: 1}
      - {id: stage-len, expectation: expect_column_value_lengths_to_be_between, column: orderStage, min_value: 1}
      - {id: from-pos, expectation: expect_column_values_to_be_between, column: fromId, min_value: 0}
      - {id: to-pos, expectation: expect_column_values_to_be_between, column: toId, min_value: 0}
      - {id: courier-pos, expectation: expect_column_values_to_be_between, column: courierId, min_value: 0}
      - {id: time-range, expectation: expect_column_values_to_be_between, column: messageSentTime, min_value: "2019-01-01T00:00:00Z", max_value: "2030-01-01T00:00:00Z"}
      - {id: order-in-orders, expectation: expect_column_values_to_be_in_other_table, column: orderId, other_table: orders, other_column: orderId}
      - {id: stage-regex, expectation: expect_column_values_to_match_regex, column: orderStage, regex: "^[A-Z_]+$"}
      - {id: rows, expectation: expect_table_row_count_to_be_between, min_value: 1}
      - {id: order-customer, expectation: expect_column_pair_values_to_be_functionally_dependent, column_A: orderId, column_B: customerId}
  orders:
    expectations:
      - {id: order-unique, expectation: expect_column_values_to_be_unique, column: orderId}
      - {id: city-set, expectation: expect_column_values_to_be_in_set, column: cityCode, value_set: [BCN, MAD, LIS]}
"#,
        );
        Suite::from_yaml(&text, "perf.yaml").expect("valid perf suite")
    }

    /// `cargo test -p ccc-dq --release -- --ignored --nocapture one_million` prints the
    /// time of ~30 expectations over 1M messages (and 200k orders).
    #[test]
    #[ignore = "timing; run in release"]
    fn one_million_rows_thirty_expectations() {
        let rows = 1_000_000;
        let (m, o) = (messages(rows), orders(rows / 5));
        let suite = perf_suite();
        println!(
            "{} expectations over {rows} rows",
            suite.expectations().count()
        );
        for parallel in [false, true, true, true] {
            let options = Options {
                parallel,
                ..Options::default()
            };
            let start = Instant::now();
            let r = validate(&suite, &[&m, &o], &BTreeMap::new(), &options).expect("runs");
            let elapsed = start.elapsed();
            assert!(r.success, "{}", r.to_json());
            println!(
                "parallel={parallel}: {:.1} ms",
                elapsed.as_secs_f64() * 1000.0
            );
        }
        let mut per: Vec<(f64, String)> = suite
            .expectations()
            .map(|e| {
                let one = Suite::from_yaml(
                    &format!(
                        "suite: one\ntables:\n  {}:\n    expectations:\n      - {}\n",
                        e.table,
                        suite
                            .source_text()
                            .lines()
                            .find(|l| l.contains(&format!("id: {},", e.id)))
                            .expect("line")
                            .trim()
                            .trim_start_matches("- ")
                    ),
                    "one.yaml",
                )
                .expect("valid");
                let start = Instant::now();
                let _ = validate(
                    &one,
                    &[&m, &o],
                    &BTreeMap::new(),
                    &Options {
                        parallel: false,
                        ..Options::default()
                    },
                );
                (start.elapsed().as_secs_f64() * 1000.0, e.id.clone())
            })
            .collect();
        per.sort_by(|a, b| b.0.total_cmp(&a.0));
        for (ms, id) in per.iter().take(8) {
            println!("  {id}: {ms:.2} ms");
        }
    }

    #[test]
    fn perf_suite_passes_on_small_data() {
        let (m, o) = (messages(1000), orders(200));
        let r = validate(
            &perf_suite(),
            &[&m, &o],
            &BTreeMap::new(),
            &Options::default(),
        )
        .expect("runs");
        assert!(r.success, "{}", r.to_json());
        assert_eq!(r.results.len(), 32);
    }
}
