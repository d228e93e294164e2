//! Rendering suite results: a table for people (comfy-table, failures first, a verdict
//! line), and JSON, JUnit XML and Markdown for machines, CI test views and job summaries.
//! `ccc_dq` returns results; this module only presents them.

use std::fmt::Write as _;
use std::path::PathBuf;

use ccc_dq::{ExpectationResult, Severity, SuiteResult};
use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, Color, ContentArrangement, Table};

use crate::exit::CliError;

/// A machine-readable report format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// `{"suite", "success", "statistics", "results": [...]}`; schema in docs/dq-report.schema.json.
    Json,
    /// JUnit XML: one testcase per expectation (error → failure; warn → passing, with system-out).
    Junit,
    /// Markdown for a CI job summary.
    Markdown,
    /// One self-contained HTML page (inline CSS and SVG): results, failures first, and
    /// each table's profile (null share, distinct values, histograms, row-count history).
    Html,
}

impl ReportFormat {
    /// Whether any of `reports` shows the tables' profiles, which the suite run then takes.
    pub fn any_profiles(reports: &[(ReportFormat, PathBuf)]) -> bool {
        reports.iter().any(|(f, _)| *f == ReportFormat::Html)
    }
}

/// Results in display order: failed errors, failed warnings, then passes.
pub(crate) fn ordered(result: &SuiteResult) -> Vec<&ExpectationResult> {
    let mut rows: Vec<&ExpectationResult> = result.results.iter().collect();
    rows.sort_by_key(|r| match (r.success, r.severity) {
        (false, Severity::Error) => 0,
        (false, Severity::Warn) => 1,
        _ => 2,
    });
    rows
}

pub(crate) fn status(r: &ExpectationResult) -> &'static str {
    match (r.success, r.severity) {
        (true, _) if r.skipped.is_some() => "skipped",
        (true, _) => "pass",
        (false, Severity::Error) => "FAIL",
        (false, Severity::Warn) => "warn",
    }
}

fn percent(r: &ExpectationResult) -> String {
    r.unexpected_percent
        .map(|p| format!("{p:.2}%"))
        .unwrap_or_default()
}

/// The examples of a result in a line (at most `n`), or what it observed, or why it was
/// skipped.
pub(crate) fn examples(r: &ExpectationResult, n: usize) -> String {
    if r.partial_unexpected.is_empty() {
        // Aggregates and table checks observe one value: it is what a reader looks for.
        return match (&r.observed_value, &r.skipped) {
            (_, Some(why)) => format!("skipped: {why}"),
            (Some(serde_json::Value::String(text)), None) => format!("observed {text}"),
            (Some(value), None) if !value.is_object() => format!("observed {value}"),
            (Some(value), None) => against_earlier(value).unwrap_or_default(),
            _ => String::new(),
        };
    }
    r.partial_unexpected
        .iter()
        .take(n)
        .map(|u| {
            let value = match (&u.value, u.value_length) {
                (Some(v), Some(length)) => format!("{v:?} ({length} bytes)"),
                (Some(v), None) => format!("{v:?}"),
                (None, _) => "null".to_string(),
            };
            match &u.location {
                Some(at) => format!("{value} @ {at}"),
                None => value,
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// What a history or freshness check compared, in a line: `observed 60; mean of 3
/// runs 110 (88 to 132)`, or `newest 2026-12-04T04:00:00Z, 7200 s before the run (max 1h)`.
fn against_earlier(observed: &serde_json::Value) -> Option<String> {
    let number = |key: &str| observed.get(key).and_then(serde_json::Value::as_f64);
    if let (Some(value), Some(mean)) = (number("value"), number("mean")) {
        let runs = observed
            .get("history")
            .and_then(|h| h.as_array())
            .map_or(0, Vec::len);
        return Some(format!(
            "observed {}; mean of {runs} runs {} ({} to {})",
            short(value),
            short(mean),
            short(number("low")?),
            short(number("high")?)
        ));
    }
    let max_age = observed.get("max_age")?.as_str()?;
    Some(
        match (observed.get("newest")?.as_str(), number("age_seconds")) {
            (Some(newest), Some(age)) => {
                format!(
                    "newest {newest}, {} s before the run (max {max_age})",
                    short(age)
                )
            }
            _ => format!("no value to be fresh (max {max_age})"),
        },
    )
}

/// A number with at most 4 decimals, trailing zeros dropped.
fn short(v: f64) -> String {
    let text = format!("{v:.4}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// One line: how many passed and failed, and the verdict.
pub fn verdict_line(result: &SuiteResult) -> String {
    let s = &result.statistics;
    format!(
        "suite {}: {} expectations, {} passed, {} failed ({} errors, {} warnings) — {}",
        result.suite,
        s.evaluated_expectations,
        s.successful_expectations,
        s.unsuccessful_expectations,
        s.failed_errors,
        s.failed_warnings,
        if result.success { "PASSED" } else { "FAILED" }
    )
}

/// The most characters of a suite's own text (an id, a rule) in a table cell: the
/// table wraps each cell, at a cost that grows faster than the text.
const MAX_CELL_CHARS: usize = 200;

/// `text`, or its first [`MAX_CELL_CHARS`] characters and `…`.
fn shown(text: &str) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(MAX_CELL_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]).into(),
        None => text.into(),
    }
}

/// The human report: one row per expectation, failures first, then the verdict line.
pub fn human_table(result: &SuiteResult) -> String {
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(160);
    table.set_header(vec!["result", "id", "rule", "unexpected", "%", "examples"]);
    for r in ordered(result) {
        let color = match status(r) {
            "FAIL" => Color::Red,
            "warn" => Color::Yellow,
            _ => Color::Green,
        };
        table.add_row(vec![
            Cell::new(status(r)).fg(color),
            Cell::new(shown(&r.id)),
            Cell::new(shown(r.rule.as_deref().unwrap_or(&r.expectation))),
            Cell::new(r.unexpected_count),
            Cell::new(percent(r)),
            Cell::new(examples(r, 1)),
        ]);
    }
    format!("{table}\n{}", verdict_line(result))
}

/// JSON report.
pub fn json(result: &SuiteResult) -> String {
    let mut text = serde_json::to_string_pretty(result).expect("results serialize");
    text.push('\n');
    text
}

fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

fn detail(r: &ExpectationResult) -> String {
    format!(
        "{} on {}.{}: {} of {} values unexpected ({}), {} missing. Examples: {}",
        r.expectation,
        r.table,
        r.column_label(),
        r.unexpected_count,
        r.element_count,
        percent(r),
        r.missing_count,
        examples(r, 20)
    )
}

/// JUnit XML: one testsuite per suite, one testcase per expectation.
pub fn junit(results: &[&SuiteResult]) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n");
    for result in results {
        let failures = result
            .results
            .iter()
            .filter(|r| r.is_error_failure())
            .count();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"0\">",
            xml_escape(&result.suite),
            result.results.len(),
            failures
        );
        for r in &result.results {
            let name = format!(
                "{}: {} {}",
                r.id,
                r.column_label(),
                r.rule.as_deref().unwrap_or(&r.expectation)
            );
            let _ = write!(
                out,
                "    <testcase classname=\"{}\" name=\"{}\"",
                xml_escape(&r.table),
                xml_escape(&name)
            );
            if r.is_error_failure() {
                let _ = writeln!(
                    out,
                    ">\n      <failure message=\"{} unexpected values\" type=\"{}\">{}</failure>\n    </testcase>",
                    r.unexpected_count,
                    xml_escape(&r.expectation),
                    xml_escape(&detail(r))
                );
            } else if !r.success {
                let _ = writeln!(
                    out,
                    ">\n      <system-out>warning: {}</system-out>\n    </testcase>",
                    xml_escape(&detail(r))
                );
            } else {
                out.push_str("/>\n");
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

fn md_cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// Markdown: verdict, the failures as a table, the passes folded away.
pub fn markdown(results: &[&SuiteResult]) -> String {
    let mut out = String::new();
    for result in results {
        let icon = if result.success { "✅" } else { "❌" };
        let _ = writeln!(
            out,
            "## {icon} Data quality: suite `{}`\n\n{}\n",
            result.suite,
            verdict_line(result)
        );
        let header = "| result | table | column | rule | expectation | unexpected | % | examples |\n|---|---|---|---|---|---:|---:|---|\n";
        let row = |r: &ExpectationResult| {
            format!(
                "| {} | {} | {} | {} | `{}` | {} | {} | {} |\n",
                status(r),
                md_cell(&r.table),
                md_cell(&r.column_label()),
                md_cell(r.rule.as_deref().unwrap_or("")),
                r.expectation,
                r.unexpected_count,
                percent(r),
                md_cell(&examples(r, 3))
            )
        };
        let (failed, passed): (Vec<_>, Vec<_>) =
            ordered(result).into_iter().partition(|r| !r.success);
        if !failed.is_empty() {
            out.push_str(header);
            failed.iter().for_each(|r| out.push_str(&row(r)));
            out.push('\n');
        }
        let _ = writeln!(
            out,
            "<details><summary>{} passed expectations</summary>\n",
            passed.len()
        );
        out.push_str(header);
        passed.iter().for_each(|r| out.push_str(&row(r)));
        out.push_str("\n</details>\n\n");
    }
    out
}

/// Pairs `--report` formats with `--report-file` paths, in order.
pub fn pair_reports(
    formats: &[ReportFormat],
    files: &[PathBuf],
) -> Result<Vec<(ReportFormat, PathBuf)>, CliError> {
    if formats.len() != files.len() {
        return Err(CliError::Usage(format!(
            "each --report needs its --report-file ({} formats, {} files)",
            formats.len(),
            files.len()
        )));
    }
    for path in files {
        crate::files::check_writable(path)?;
    }
    Ok(formats.iter().copied().zip(files.iter().cloned()).collect())
}

/// Writes the requested reports of the results.
pub fn write_reports(
    reports: &[(ReportFormat, PathBuf)],
    results: &[&SuiteResult],
) -> Result<(), CliError> {
    for (format, path) in reports {
        let text = match format {
            ReportFormat::Json if results.len() == 1 => json(results[0]),
            ReportFormat::Json => {
                let mut text = serde_json::to_string_pretty(results).expect("results serialize");
                text.push('\n');
                text
            }
            ReportFormat::Junit => junit(results),
            ReportFormat::Markdown => markdown(results),
            ReportFormat::Html => super::html::render(results),
        };
        crate::files::write_whole(path, &text)?;
    }
    Ok(())
}
