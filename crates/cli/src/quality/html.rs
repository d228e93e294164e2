//! The HTML report (`--report html`): one self-contained page — inline CSS and SVG, no
//! script, nothing fetched — to open from a CI artifact or a mail. Per suite: the verdict
//! and totals, every expectation with failures first (the rule, counts, the unexpected
//! share as a bar, located examples or what was observed), and per table the profile the
//! run took (null share, distinct values, a histogram of numbers and instants, a
//! sparkline of row counts from the history). Every figure is also an attribute
//! (`data-…`) with the JSON report's value, so that the two can be compared.

use std::fmt::Write;

use ccc_dq::profile::{ColumnProfile, Histogram, TableProfile};
use ccc_dq::{ExpectationResult, SuiteResult};

use super::reports::{examples, ordered, status};

/// The most examples a row shows: the page stays small whatever failed.
const MAX_EXAMPLES: usize = 5;

const STYLE: &str = r#"
:root { --fail: #b42318; --warn: #b54708; --pass: #067647; --skip: #475467; --line: #d0d5dd; --bar: #f04438; --fill: #2e90fa; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #101828; margin: 0; background: #f9fafb; }
main { max-width: 1440px; margin: 0 auto; padding: 24px; }
h1 { font-size: 22px; margin: 0 0 16px; }
h2 { font-size: 18px; margin: 0 0 4px; }
h3 { font-size: 15px; margin: 24px 0 8px; }
section.suite { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 20px; margin-bottom: 24px; }
.verdict { display: inline-block; padding: 2px 10px; border-radius: 12px; color: #fff; font-size: 13px; vertical-align: middle; }
.verdict.pass { background: var(--pass); } .verdict.fail { background: var(--fail); }
.origin { color: var(--skip); margin: 0 0 12px; font-size: 12px; }
dl.totals { display: flex; flex-wrap: wrap; gap: 8px 24px; margin: 0; }
dl.totals div { min-width: 90px; } dl.totals dt { color: var(--skip); font-size: 12px; } dl.totals dd { margin: 0; font-size: 20px; font-weight: 600; }
table { border-collapse: collapse; width: 100%; table-layout: fixed; }
td { overflow-wrap: anywhere; }
col.result { width: 56px; } col.id { width: 150px; } col.kind { width: 200px; } col.column { width: 140px; }
col.count { width: 84px; } col.share { width: 130px; } col.type { width: 90px; } col.name { width: 220px; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: 12px; color: var(--skip); font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.fail td.status { color: var(--fail); font-weight: 700; } tr.warn td.status { color: var(--warn); font-weight: 700; }
tr.pass td.status { color: var(--pass); } tr.skipped td.status { color: var(--skip); }
.rule { color: var(--skip); font-size: 12px; }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; background: #f2f4f7; padding: 0 3px; border-radius: 3px; overflow-wrap: anywhere; }
ul.examples { margin: 0; padding-left: 16px; } .at { color: var(--skip); font-size: 12px; }
svg .track { fill: #eaecf0; } svg .bad { fill: var(--bar); } svg .fill { fill: var(--fill); } svg .line { fill: none; stroke: var(--fill); stroke-width: 1.5; }
.axis { color: var(--skip); font-size: 11px; display: flex; justify-content: space-between; width: 160px; }
footer { color: var(--skip); font-size: 12px; }
"#;

/// The page for these suites' results.
pub fn render(results: &[&SuiteResult]) -> String {
    let names: Vec<&str> = results.iter().map(|r| r.suite.as_str()).collect();
    let mut page = String::with_capacity(64 << 10);
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>Data quality: {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n\
         <h1>Data quality: {}</h1>\n",
        esc(&names.join(", ")),
        esc(&names.join(", "))
    );
    for result in results {
        suite_section(&mut page, result);
    }
    let _ = write!(
        page,
        "<footer>Written by ccc {}. Every figure is exact; the JSON report holds the same.</footer>\n\
         </main>\n</body>\n</html>\n",
        env!("CARGO_PKG_VERSION")
    );
    page
}

fn suite_section(page: &mut String, result: &SuiteResult) {
    let s = &result.statistics;
    let (class, word) = if result.success {
        ("pass", "PASSED")
    } else {
        ("fail", "FAILED")
    };
    let _ = write!(
        page,
        "<section class=\"suite\" data-suite=\"{}\" data-success=\"{}\">\n\
         <h2>Suite {} <span class=\"verdict {class}\">{word}</span></h2>\n",
        esc(&result.suite),
        result.success,
        esc(&result.suite)
    );
    if let Some(origin) = &result.origin {
        let _ = writeln!(
            page,
            "<p class=\"origin\">{} · sha256 {}</p>",
            esc(&origin.source),
            esc(&origin.sha256)
        );
    }
    page.push_str("<dl class=\"totals\">\n");
    let totals = [
        (
            "evaluated",
            "evaluated",
            s.evaluated_expectations.to_string(),
        ),
        (
            "successful",
            "passed",
            s.successful_expectations.to_string(),
        ),
        (
            "unsuccessful",
            "failed",
            s.unsuccessful_expectations.to_string(),
        ),
        ("errors", "errors", s.failed_errors.to_string()),
        ("warnings", "warnings", s.failed_warnings.to_string()),
        ("skipped", "skipped", s.skipped_expectations.to_string()),
        (
            "success-percent",
            "success",
            percent_text(s.success_percent),
        ),
    ];
    for (key, label, value) in totals {
        let _ = writeln!(
            page,
            "<div data-total=\"{key}\"><dt>{label}</dt><dd>{}</dd></div>",
            esc(&value)
        );
    }
    page.push_str("</dl>\n<h3>Expectations</h3>\n<table class=\"expectations\">\n<colgroup><col class=\"result\"><col class=\"id\"><col class=\"kind\"><col class=\"column\"><col class=\"count\"><col class=\"count\"><col class=\"count\"><col class=\"share\"><col></colgroup>\n<thead><tr><th>result</th><th>id</th><th>expectation</th><th>column</th><th>rows</th><th>nulls</th><th>unexpected</th><th>unexpected share</th><th>examples</th></tr></thead>\n<tbody>\n");
    for r in ordered(result) {
        expectation_row(page, r);
    }
    page.push_str("</tbody>\n</table>\n");
    for table in result.profile.iter().flatten() {
        table_profile(page, table);
    }
    page.push_str("</section>\n");
}

fn expectation_row(page: &mut String, r: &ExpectationResult) {
    let status = status(r);
    let column = if r.columns.is_empty() {
        format!("<span class=\"rule\">{}</span>", esc(&r.table))
    } else {
        format!(
            "{}<br><span class=\"rule\">{}</span>",
            esc(&r.column_label()),
            esc(&r.table)
        )
    };
    let _ = write!(
        page,
        "<tr class=\"expectation {}\" data-id=\"{}\" data-success=\"{}\" data-element-count=\"{}\" \
         data-missing-count=\"{}\" data-unexpected-count=\"{}\" data-unexpected-percent=\"{}\">\
         <td class=\"status\">{}</td><td><code>{}</code></td><td>{}",
        status.to_ascii_lowercase(),
        esc(&r.id),
        r.success,
        r.element_count,
        r.missing_count,
        r.unexpected_count,
        r.unexpected_percent.map(|p| p.to_string()).unwrap_or_default(),
        esc(status),
        esc(&r.id),
        esc(&r.expectation),
    );
    if let Some(rule) = &r.rule {
        let _ = write!(page, "<br><span class=\"rule\">{}</span>", esc(rule));
    }
    let _ = write!(
        page,
        "</td><td>{column}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td><td>",
        r.element_count,
        r.missing_count,
        r.unexpected_count,
        share_bar(r.unexpected_percent, "bad"),
    );
    if r.partial_unexpected.is_empty() {
        page.push_str(&esc(&examples(r, MAX_EXAMPLES)));
    } else {
        page.push_str("<ul class=\"examples\">");
        for u in r.partial_unexpected.iter().take(MAX_EXAMPLES) {
            let value = match &u.value {
                // An empty value would be an empty box: it is shown as the empty string.
                Some(v) if v.is_empty() => "<code>\"\"</code>".to_string(),
                Some(v) => format!("<code>{}</code>", esc(v)),
                None => "<code>null</code>".to_string(),
            };
            let at = u
                .location
                .as_ref()
                .map(|at| format!(" <span class=\"at\">{}</span>", esc(&at.to_string())))
                .unwrap_or_default();
            let _ = write!(page, "<li>{value}{at}</li>");
        }
        page.push_str("</ul>");
    }
    page.push_str("</td></tr>\n");
}

fn table_profile(page: &mut String, table: &TableProfile) {
    let counts: Vec<f64> = table
        .row_count_history
        .iter()
        .map(|p| p.value)
        .chain([table.row_count as f64])
        .collect();
    let _ = writeln!(
        page,
        "<h3 data-table=\"{}\" data-row-count=\"{}\" data-row-counts=\"{}\">Table {} · {} rows {}</h3>",
        esc(&table.table),
        table.row_count,
        counts.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(" "),
        esc(&table.table),
        table.row_count,
        sparkline(table),
    );
    page.push_str("<table class=\"columns\">\n<colgroup><col class=\"name\"><col class=\"type\"><col class=\"count\"><col class=\"share\"><col class=\"count\"><col></colgroup>\n<thead><tr><th>column</th><th>type</th><th>nulls</th><th>null share</th><th>distinct</th><th>distribution</th></tr></thead>\n<tbody>\n");
    for c in &table.columns {
        column_row(page, &table.table, c);
    }
    page.push_str("</tbody>\n</table>\n");
}

fn column_row(page: &mut String, table: &str, c: &ColumnProfile) {
    let number = |v: Option<u64>| v.map(|v| v.to_string()).unwrap_or_default();
    let _ = write!(
        page,
        "<tr class=\"column\" data-table=\"{}\" data-column=\"{}\" data-null-count=\"{}\" \
         data-null-percent=\"{}\" data-distinct-count=\"{}\"><td><code>{}</code></td><td>{}</td>\
         <td class=\"num\">{}</td><td>{}</td><td class=\"num\">{}</td><td>",
        esc(table),
        esc(&c.column),
        number(c.null_count),
        c.null_percent.map(|p| p.to_string()).unwrap_or_default(),
        number(c.distinct_count),
        esc(&c.column),
        esc(&c.data_type),
        number(c.null_count),
        share_bar(c.null_percent, "bad"),
        number(c.distinct_count),
    );
    match (&c.histogram, &c.not_read) {
        (_, Some(why)) => page.push_str(&esc(why)),
        (Some(h), None) => page.push_str(&histogram(h)),
        (None, None) => {}
    }
    page.push_str("</td></tr>\n");
}

/// A percent as text and a bar 100 px wide; nothing for no percent.
fn share_bar(percent: Option<f64>, class: &str) -> String {
    let Some(p) = percent else {
        return String::new();
    };
    let width = p.clamp(0.0, 100.0);
    format!(
        "{} <svg width=\"100\" height=\"8\" role=\"img\" aria-label=\"{}\"><rect class=\"track\" width=\"100\" height=\"8\"/><rect class=\"{class}\" width=\"{width:.2}\" height=\"8\"/></svg>",
        esc(&percent_text(Some(p))),
        esc(&percent_text(Some(p))),
    )
}

/// Bars of the bins' counts, each with its range and count as a tooltip; min and max
/// under them.
fn histogram(h: &Histogram) -> String {
    let (width, height) = (160.0, 32.0);
    let most = h.counts.iter().copied().max().unwrap_or(0).max(1) as f64;
    let bar = width / h.counts.len().max(1) as f64;
    let mut svg = format!(
        "<svg width=\"{width}\" height=\"{height}\" role=\"img\" aria-label=\"histogram of {} bins\">",
        h.counts.len()
    );
    for (k, &count) in h.counts.iter().enumerate() {
        let tall = if count > 0 {
            (count as f64 / most * height).max(1.0)
        } else {
            0.0
        };
        let range = match (h.edges.get(k), h.edges.get(k + 1)) {
            (Some(lo), Some(hi)) => format!("{} to {}", edge_text(lo), edge_text(hi)),
            _ => String::new(),
        };
        let _ = write!(
            svg,
            "<rect class=\"fill\" x=\"{:.2}\" y=\"{:.2}\" width=\"{:.2}\" height=\"{tall:.2}\"><title>{}: {count}</title></rect>",
            bar * k as f64,
            height - tall,
            (bar - 1.0).max(0.5),
            esc(&range),
        );
    }
    svg.push_str("</svg>");
    format!(
        "{svg}<div class=\"axis\"><span>{}</span><span>{}</span></div>",
        esc(&edge_text(&h.min)),
        esc(&edge_text(&h.max))
    )
}

/// The row counts of the earlier runs and this one as a line, each point with its run
/// as a tooltip; nothing without a history.
fn sparkline(table: &TableProfile) -> String {
    if table.row_count_history.is_empty() {
        return String::new();
    }
    let mut points: Vec<(String, f64)> = table
        .row_count_history
        .iter()
        .map(|p| (p.run_time.clone(), p.value))
        .collect();
    points.push(("this run".into(), table.row_count as f64));
    let (width, height) = (120.0, 24.0);
    let lo = points.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
    let hi = points.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
    let step = width / (points.len() - 1).max(1) as f64;
    let y = |v: f64| {
        if hi > lo {
            2.0 + (height - 4.0) * (1.0 - (v - lo) / (hi - lo))
        } else {
            height / 2.0
        }
    };
    let line: Vec<String> = points
        .iter()
        .enumerate()
        .map(|(i, p)| format!("{:.1},{:.1}", step * i as f64, y(p.1)))
        .collect();
    let mut svg = format!(
        "<svg width=\"{width}\" height=\"{height}\" role=\"img\" aria-label=\"row counts of the last {} runs\"><polyline class=\"line\" points=\"{}\"/>",
        points.len(),
        line.join(" ")
    );
    for (i, (when, value)) in points.iter().enumerate() {
        let _ = write!(
            svg,
            "<circle class=\"fill\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"2\"><title>{}: {value}</title></circle>",
            step * i as f64,
            y(*value),
            esc(when)
        );
    }
    svg.push_str("</svg>");
    svg
}

fn edge_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{f:.0}"),
            Some(f) => format!("{f:.4}")
                .trim_end_matches('0')
                .trim_end_matches('.')
                .to_string(),
            None => n.to_string(),
        },
        other => other.to_string(),
    }
}

fn percent_text(p: Option<f64>) -> String {
    p.map(|p| format!("{p:.2}%")).unwrap_or_default()
}

/// Text safe in HTML content and in quoted attributes.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_in_content_and_attributes() {
        assert_eq!(
            esc(r#"<b a="1">&'x'</b>"#),
            "&lt;b a=&quot;1&quot;&gt;&amp;&#39;x&#39;&lt;/b&gt;"
        );
    }

    #[test]
    fn a_share_bar_is_as_wide_as_its_percent() {
        let bar = share_bar(Some(12.5), "bad");
        assert!(bar.starts_with("12.50% <svg"), "{bar}");
        assert!(bar.contains("class=\"bad\" width=\"12.50\""), "{bar}");
        assert_eq!(share_bar(None, "bad"), "");
    }
}
