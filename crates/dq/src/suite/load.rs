//! Loading a suite: YAML parsing, validation against the shipped JSON Schema, and the
//! typed model built from the valid document, checking what the schema cannot
//! (duplicate ids, regexes, `mostly` decimals, bounds). Every error is located.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use jsonschema::error::ValidationErrorKind;
use jsonschema::paths::PathChunk;
use jsonschema::{Draft, JSONSchema, ValidationError};
use serde_json::{Map, Value};

use super::{
    Bound, Ctx, Expectation, ExpectationKind, IgnoreRecordIf, IgnoreRowIf, MatchOn, Mostly,
    QuantileRanges, ResultFormat, SetRelation, SetValue, Severity, Statistic, Suite,
    TableExpectations, ValueType, SUITE_SCHEMA,
};
use crate::catalog::{self, CATALOG};
use crate::error::{Position, SuiteError};
use crate::history::HistoryMetric;
use crate::position::{doc_path, locate, position_at, Seg};

/// The shipped schema, compiled once.
pub(super) fn compiled_schema() -> &'static JSONSchema {
    static SCHEMA: OnceLock<JSONSchema> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let value: Value =
            serde_json::from_str(SUITE_SCHEMA).expect("the shipped schema is JSON (tested)");
        JSONSchema::options()
            .with_draft(Draft::Draft202012)
            .compile(&value)
            .expect("the shipped schema compiles (tested)")
    })
}

/// Whether a suite's text is checked against the JSON Schema before it is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Schema {
    /// Checked here (every suite a user gives).
    Check,
    /// Checked already, by a test (the built-in suites).
    Checked,
}

/// Parses and validates a suite (see [`Suite::from_yaml`]).
pub(super) fn parse(text: &str, file_name: &str, schema: Schema) -> Result<Suite, SuiteError> {
    let text: Arc<str> = Arc::from(text);
    let ctx = Ctx {
        file: file_name,
        text: &text,
    };
    if let Some(offset) = super::depth::too_deep(&text, super::depth::MAX_NESTING) {
        return Err(SuiteError::TooDeep {
            site: ctx.site_at(Some(position_of_offset(&text, offset))),
            limit: super::depth::MAX_NESTING,
        });
    }
    let yaml: serde_yaml::Value = serde_yaml::from_str(&text).map_err(|e| ctx.yaml_error(e))?;
    let doc = yaml_to_json(&yaml);
    if schema == Schema::Check {
        if let Err(errors) = compiled_schema().validate(&doc) {
            let errors: Vec<ValidationError> = errors.collect();
            return Err(ctx.first_schema_error(&errors, &doc));
        }
    }
    build(&ctx, &doc)
}

/// The position of a byte offset of `text`.
fn position_of_offset(text: &str, offset: usize) -> Position {
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |p| p + 1);
    let column = before[line_start..].chars().count() + 1;
    Position {
        len: 1,
        ..position_at(text, line, column)
    }
}

impl Ctx<'_> {
    fn yaml_error(&self, err: serde_yaml::Error) -> SuiteError {
        let mut position = err
            .location()
            .map(|loc| position_at(self.text, loc.line(), loc.column()));
        // serde_yaml points a duplicate key at its mapping; point at the second key.
        if let (Some(p), Some(key)) = (position, duplicate_key(&err.to_string())) {
            position = duplicate_key_position(self.text, p.offset, &key).or(position);
        }
        // serde_yaml appends " at line L column C"; the site says it already.
        let full = err.to_string();
        let message = match full.find(" at line ") {
            Some(i) => full[..i].to_string(),
            None => full,
        };
        SuiteError::Yaml {
            site: self.site_at(position),
            message,
            source: err,
        }
    }

    /// Turns the schema's errors into the one to show: the first in the file, with
    /// "missing key" dropped where the same object has an unknown key (likely the same
    /// typo).
    fn first_schema_error(&self, errors: &[ValidationError<'_>], doc: &Value) -> SuiteError {
        let unknown_key_objects: Vec<String> = errors
            .iter()
            .filter(|e| matches!(e.kind, ValidationErrorKind::AdditionalProperties { .. }))
            .map(|e| e.instance_path.to_string())
            .collect();
        let mut candidates: Vec<SuiteError> = errors
            .iter()
            .filter(|e| {
                !(matches!(e.kind, ValidationErrorKind::Required { .. })
                    && unknown_key_objects.contains(&e.instance_path.to_string()))
            })
            .map(|e| self.schema_error(e, doc))
            .collect();
        candidates.sort_by_key(|e| e.position().map_or(usize::MAX, |p| p.offset));
        candidates
            .into_iter()
            .next()
            .unwrap_or_else(|| SuiteError::Schema {
                site: self.site(&[], false),
                message: "the suite does not match its schema".into(),
                help: None,
                instance_path: String::new(),
            })
    }

    fn schema_error(&self, err: &ValidationError<'_>, doc: &Value) -> SuiteError {
        let path: Vec<Seg> = err
            .instance_path
            .iter()
            .filter_map(|chunk| match chunk {
                PathChunk::Property(p) => Some(Seg::Key(p.to_string())),
                PathChunk::Index(i) => Some(Seg::Index(*i)),
                PathChunk::Keyword(_) => None,
            })
            .collect();
        let instance_path = err.instance_path.to_string();
        let expectation_name = expectation_name_at(doc, &path);
        let last_key = match path.last() {
            Some(Seg::Key(k)) => Some(k.as_str()),
            _ => None,
        };
        let what = |detail: String| match (last_key, path.is_empty()) {
            (Some(key), _) => format!("`{key}` {detail}"),
            (None, true) => format!("the suite {detail}"),
            (None, false) => format!("this item {detail}"),
        };
        let (message, help, at, at_key) = match &err.kind {
            ValidationErrorKind::AdditionalProperties { unexpected } => {
                let key = unexpected.first().cloned().unwrap_or_default();
                let allowed = allowed_keys_at(doc, &path);
                let message = match expectation_name {
                    Some(name) => format!("unknown key `{key}` for `{name}`"),
                    None => format!("unknown key `{key}`"),
                };
                let help = catalog::suggest(&key, allowed.iter().copied());
                let mut at = path.clone();
                at.push(Seg::Key(key));
                (message, help, at, true)
            }
            ValidationErrorKind::Required { property } => {
                let property = property.as_str().unwrap_or_default();
                let message = match expectation_name {
                    Some(name) => format!("`{name}` needs `{property}`"),
                    None => format!("missing key `{property}`"),
                };
                (message, None, path.clone(), false)
            }
            ValidationErrorKind::Enum { .. } if last_key == Some("expectation") => {
                let name = err
                    .instance
                    .as_str()
                    .map_or_else(|| err.instance.to_string(), str::to_string);
                let help = catalog::suggest(&name, CATALOG.iter().map(|s| s.name))
                    .filter(|h| h.starts_with("did you mean"));
                (
                    format!("unknown expectation `{name}`"),
                    help,
                    path.clone(),
                    false,
                )
            }
            ValidationErrorKind::Enum { options } => {
                let options: Vec<String> = options
                    .as_array()
                    .map(|o| {
                        o.iter()
                            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                            .collect()
                    })
                    .unwrap_or_default();
                let given = err
                    .instance
                    .as_str()
                    .map_or_else(|| err.instance.to_string(), str::to_string);
                let help = catalog::suggest(&given, options.iter().map(String::as_str));
                (
                    what(format!(
                        "must be one of {}, not {}",
                        options.join(", "),
                        err.instance
                    )),
                    help,
                    path.clone(),
                    false,
                )
            }
            ValidationErrorKind::Type { kind } => {
                let expected = match kind {
                    jsonschema::error::TypeKind::Single(t) => article(&t.to_string()),
                    jsonschema::error::TypeKind::Multiple(ts) => ts
                        .into_iter()
                        .map(|t| article(&t.to_string()))
                        .collect::<Vec<_>>()
                        .join(" or "),
                };
                (
                    what(format!(
                        "must be {expected}, found {}",
                        describe(&err.instance)
                    )),
                    None,
                    path.clone(),
                    false,
                )
            }
            ValidationErrorKind::AnyOf if expectation_name.is_some() => (
                format!(
                    "`{}` needs `min_value` or `max_value`",
                    expectation_name.unwrap_or_default()
                ),
                None,
                path.clone(),
                false,
            ),
            ValidationErrorKind::Minimum { limit } => (
                what(format!("must be at least {limit}, found {}", err.instance)),
                None,
                path.clone(),
                false,
            ),
            ValidationErrorKind::Maximum { limit } => (
                what(format!("must be at most {limit}, found {}", err.instance)),
                None,
                path.clone(),
                false,
            ),
            ValidationErrorKind::MinLength { .. } => {
                (what("must not be empty".into()), None, path.clone(), false)
            }
            ValidationErrorKind::MinItems { limit } => (
                what(format!("needs at least {limit} item(s)")),
                None,
                path.clone(),
                false,
            ),
            _ => (err.to_string(), None, path.clone(), false),
        };
        SuiteError::Schema {
            site: self.site(&at, at_key),
            message,
            help,
            instance_path,
        }
    }
}

/// The key of serde_yaml's "duplicate entry with key \"k\"" message.
fn duplicate_key(message: &str) -> Option<String> {
    let rest = message.split("duplicate entry with key ").nth(1)?;
    let quoted = rest.strip_prefix('"')?;
    Some(quoted[..quoted.find('"')?].to_string())
}

/// The second block-style `key:` at the same indentation, from `from` on.
fn duplicate_key_position(text: &str, from: usize, key: &str) -> Option<Position> {
    let line_start = text[..from].rfind('\n').map_or(0, |i| i + 1);
    let mut first_column: Option<usize> = None;
    let mut offset = line_start;
    for line in text[line_start..].split_inclusive('\n') {
        let body = line.trim_start_matches(' ');
        let body = body
            .strip_prefix("- ")
            .map_or(body, |b| b.trim_start_matches(' '));
        let column = line.len() - body.len();
        if body
            .strip_prefix(key)
            .is_some_and(|after| after.starts_with(':'))
        {
            match first_column {
                Some(c) if c == column => {
                    let line_no = text[..offset].matches('\n').count() + 1;
                    return Some(position_at(
                        text,
                        line_no,
                        text[offset..offset + column].chars().count() + 1,
                    ));
                }
                None => first_column = Some(column),
                Some(_) => {}
            }
        }
        offset += line.len();
    }
    None
}

/// A JSON Schema type in YAML words, with its article.
fn article(t: &str) -> String {
    match t {
        "array" => "a list".to_string(),
        "object" => "a mapping".to_string(),
        "integer" => "an integer".to_string(),
        "null" => "null".to_string(),
        _ => format!("a {t}"),
    }
}

fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("a boolean `{b}`"),
        Value::Number(n) => format!("a number `{n}`"),
        Value::String(s) => format!("a string {s:?}"),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "a mapping".into(),
    }
}

fn value_at<'v>(doc: &'v Value, path: &[Seg]) -> Option<&'v Value> {
    path.iter().try_fold(doc, |v, seg| match seg {
        Seg::Key(k) => v.get(k.as_str()),
        Seg::Index(i) => v.get(*i),
    })
}

/// The expectation name of the expectation the path is in, if it is in one.
fn expectation_name_at<'v>(doc: &'v Value, path: &[Seg]) -> Option<&'v str> {
    if path.len() >= 4 && matches!(&path[0], Seg::Key(k) if k == "tables") {
        value_at(doc, &path[..4])?.get("expectation")?.as_str()
    } else {
        None
    }
}

/// The keys allowed in the object at `path`.
fn allowed_keys_at(doc: &Value, path: &[Seg]) -> Vec<&'static str> {
    match path.len() {
        0 => vec!["suite", "description", "meta", "result_format", "tables"],
        2 => vec!["expectations", "columns"],
        4 => expectation_name_at(doc, path)
            .and_then(catalog::spec)
            .map(catalog::allowed_keys)
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// Converts YAML to JSON for schema validation: non-string keys become their text (so
/// the schema reports them as unknown keys), tags are dropped.
fn yaml_to_json(value: &serde_yaml::Value) -> Value {
    use serde_yaml::Value as Y;
    match value {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(*b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                n.as_f64()
                    .and_then(serde_json::Number::from_f64)
                    .map_or_else(|| Value::String(n.to_string()), Value::Number)
            }
        }
        Y::String(s) => Value::String(s.clone()),
        Y::Sequence(seq) => Value::Array(seq.iter().map(yaml_to_json).collect()),
        Y::Mapping(map) => {
            let mut out = Map::new();
            for (k, v) in map {
                let key = match k {
                    Y::String(s) => s.clone(),
                    Y::Null => "null".to_string(),
                    Y::Bool(b) => b.to_string(),
                    Y::Number(n) => n.to_string(),
                    other => serde_yaml::to_string(other)
                        .unwrap_or_default()
                        .trim()
                        .to_string(),
                };
                out.insert(key, yaml_to_json(v));
            }
            Value::Object(out)
        }
        Y::Tagged(tagged) => yaml_to_json(&tagged.value),
    }
}

/// Builds the typed suite from a schema-valid document, checking what the schema
/// cannot (duplicate ids, regexes, `mostly` decimals, bounds).
fn build(ctx: &Ctx<'_>, doc: &Value) -> Result<Suite, SuiteError> {
    let name = doc
        .get("suite")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let description = doc
        .get("description")
        .and_then(Value::as_str)
        .map(str::to_string);
    let suite_format = doc
        .get("result_format")
        .and_then(Value::as_str)
        .and_then(ResultFormat::parse)
        .unwrap_or_default();
    let mut tables = Vec::new();
    let mut ids: HashMap<String, Vec<Seg>> = HashMap::new();
    let empty = Map::new();
    for (table, body) in doc
        .get("tables")
        .and_then(Value::as_object)
        .unwrap_or(&empty)
    {
        let mut expectations = Vec::new();
        let list = body
            .get("expectations")
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice);
        for (index, item) in list.iter().enumerate() {
            let base = doc_path!["tables", table.as_str(), "expectations", index].to_vec();
            let at = |key: &str| {
                let mut p = base.clone();
                p.push(Seg::Key(key.to_string()));
                p
            };
            let Some(obj) = item.as_object() else {
                continue;
            };
            let id = str_param(obj, "id").to_string();
            if let Some(first) = ids.get(&id) {
                let first_line = locate(ctx.text, first, false).map_or(0, |p| p.line);
                return Err(SuiteError::DuplicateId {
                    site: ctx.site(&at("id"), false),
                    id,
                    first_line,
                });
            }
            ids.insert(id.clone(), at("id"));
            let mostly = match obj.get("mostly") {
                None => None,
                Some(value) => {
                    let written = locate(ctx.text, &at("mostly"), false)
                        .map(|p| ctx.text[p.offset..p.offset + p.len].to_string())
                        .filter(|t| Mostly::parse(t).is_some())
                        .unwrap_or_else(|| value.to_string());
                    Some(
                        Mostly::parse(&written).ok_or_else(|| SuiteError::InvalidParameter {
                            site: ctx.site(&at("mostly"), false),
                            message: format!(
                                "`mostly` must be a decimal between 0 and 1, found {written}"
                            ),
                            help: None,
                        })?,
                    )
                }
            };
            let severity = match obj.get("severity").and_then(Value::as_str) {
                Some("warn") => Severity::Warn,
                _ => Severity::Error,
            };
            let kind = build_kind(ctx, obj, &at)?;
            expectations.push(Expectation {
                id,
                table: table.clone(),
                kind,
                rule: obj.get("rule").and_then(Value::as_str).map(str::to_string),
                severity,
                mostly,
                meta: obj.get("meta").cloned(),
                result_format: obj
                    .get("result_format")
                    .and_then(Value::as_str)
                    .and_then(ResultFormat::parse)
                    .unwrap_or(suite_format),
                index,
            });
        }
        let columns = body
            .get("columns")
            .and_then(Value::as_object)
            .map(|declared| {
                declared
                    .iter()
                    .filter_map(|(name, ty)| {
                        let ty = ty.as_str().and_then(super::ColumnType::parse)?;
                        Some((name.clone(), ty))
                    })
                    .collect()
            })
            .unwrap_or_default();
        tables.push(TableExpectations {
            table: table.clone(),
            columns,
            expectations,
        });
    }
    resolve_watched(ctx, &mut tables)?;
    Ok(Suite {
        name,
        description,
        tables,
        file: ctx.file.to_string(),
        text: Arc::clone(ctx.text),
    })
}

/// Finds the table of each expectation whose unexpected count a history expectation
/// watches (`of`); an id the suite does not have is a located error.
fn resolve_watched(ctx: &Ctx<'_>, tables: &mut [TableExpectations]) -> Result<(), SuiteError> {
    let table_of: HashMap<String, String> = tables
        .iter()
        .flat_map(|t| &t.expectations)
        .map(|e| (e.id.clone(), e.table.clone()))
        .collect();
    for e in tables.iter_mut().flat_map(|t| &mut t.expectations) {
        let (id, at) = (e.id.clone(), e.path(&doc_path!["of"]));
        if let ExpectationKind::MetricWithinStdevsOfHistory {
            metric: HistoryMetric::UnexpectedCount { of, table },
            ..
        } = &mut e.kind
        {
            match table_of.get(of.as_str()) {
                Some(found) if *of != id => *table = found.clone(),
                _ => {
                    return Err(SuiteError::InvalidParameter {
                        site: ctx.site(&at, false),
                        message: format!("`of`: the suite has no other expectation with id {of:?}"),
                        help: catalog::suggest(of, table_of.keys().map(String::as_str)),
                    });
                }
            }
        }
    }
    Ok(())
}

fn str_param<'v>(obj: &'v Map<String, Value>, key: &str) -> &'v str {
    obj.get(key).and_then(Value::as_str).unwrap_or_default()
}

fn string_list(obj: &Map<String, Value>, key: &str) -> Vec<String> {
    obj.get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn bool_param(obj: &Map<String, Value>, key: &str, default: bool) -> bool {
    obj.get(key).and_then(Value::as_bool).unwrap_or(default)
}

/// A count parameter; the schema allows `2.0` as an integer, so floats are accepted
/// when whole.
fn count_param(obj: &Map<String, Value>, key: &str) -> Option<u64> {
    let v = obj.get(key)?;
    v.as_u64().or_else(|| {
        v.as_f64()
            .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f < 1.8e19)
            .map(|f| f as u64)
    })
}

/// `last_runs` and `min_runs` of a history expectation, with their defaults; `min_runs`
/// cannot exceed `last_runs`, and both are at least 1.
fn history_runs(
    obj: &Map<String, Value>,
    last_default: u64,
    min_default: u64,
    invalid: &dyn Fn(&str, String, Option<String>) -> SuiteError,
) -> Result<(u64, u64), SuiteError> {
    let last_runs = count_param(obj, "last_runs").unwrap_or(last_default);
    let min_runs = count_param(obj, "min_runs").unwrap_or(min_default.min(last_runs));
    if last_runs == 0 {
        return Err(invalid(
            "last_runs",
            "`last_runs` must be at least 1".into(),
            None,
        ));
    }
    if min_runs == 0 || min_runs > last_runs {
        return Err(invalid(
            "min_runs",
            format!("`min_runs` must be between 1 and `last_runs` ({last_runs})"),
            None,
        ));
    }
    Ok((last_runs, min_runs))
}

/// The `metric` of `expect_metric_to_be_within_stdevs_of_history`, with the `column` or
/// `of` it needs (and only that). `of` names its table once the suite is loaded.
fn history_metric(
    obj: &Map<String, Value>,
    invalid: &dyn Fn(&str, String, Option<String>) -> SuiteError,
) -> Result<HistoryMetric, SuiteError> {
    let metric = str_param(obj, "metric");
    let column = obj
        .get("column")
        .and_then(Value::as_str)
        .map(str::to_string);
    let of = obj.get("of").and_then(Value::as_str).map(str::to_string);
    let statistic = Statistic::ALL.into_iter().find(|s| s.word() == metric);
    let needs_column = statistic.is_some() || metric == "null_count";
    match (&column, &of) {
        (Some(_), _) if !needs_column => {
            return Err(invalid(
                "column",
                format!("metric {metric} is not a column's: leave out `column`"),
                None,
            ))
        }
        (None, _) if needs_column => {
            return Err(invalid(
                "metric",
                format!("metric {metric} needs the `column` it is taken of"),
                None,
            ))
        }
        (_, Some(_)) if metric != "unexpected_count" => {
            return Err(invalid(
                "of",
                format!("`of` names the expectation of an unexpected_count, not of {metric}"),
                None,
            ))
        }
        (_, None) if metric == "unexpected_count" => {
            return Err(invalid(
                "metric",
                "metric unexpected_count needs `of`: the id of the expectation counted".into(),
                None,
            ))
        }
        _ => {}
    }
    Ok(match (metric, statistic, column, of) {
        ("row_count", ..) => HistoryMetric::RowCount,
        ("unexpected_count", _, _, Some(of)) => HistoryMetric::UnexpectedCount {
            of,
            table: String::new(),
        },
        (_, Some(statistic), Some(column), _) => HistoryMetric::Statistic { column, statistic },
        (_, _, Some(column), _) => HistoryMetric::NullCount { column },
        _ => HistoryMetric::RowCount,
    })
}

fn build_kind(
    ctx: &Ctx<'_>,
    obj: &Map<String, Value>,
    at: &dyn Fn(&str) -> Vec<Seg>,
) -> Result<ExpectationKind, SuiteError> {
    let name = str_param(obj, "expectation");
    let column = || str_param(obj, "column").to_string();
    let invalid = |key: &str, message: String, help: Option<String>| SuiteError::InvalidParameter {
        site: ctx.site(&at(key), false),
        message,
        help,
    };
    let value_set = |obj: &Map<String, Value>| -> Vec<SetValue> {
        obj.get("value_set")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(set_value).collect())
            .unwrap_or_default()
    };
    let regex_error = |path: Vec<Seg>, e: regex::Error| {
        let detail = e.to_string();
        let last = detail.lines().last().unwrap_or_default().trim().to_string();
        SuiteError::InvalidParameter {
            site: ctx.site(&path, false),
            message: format!("invalid regex: {last}"),
            help: None,
        }
    };
    let compiled_regex =
        || regex::Regex::new(str_param(obj, "regex")).map_err(|e| regex_error(at("regex"), e));
    // Each expression compiled alone first, so that an invalid one is located.
    let compiled_regex_list = || {
        let patterns = string_list(obj, "regex_list");
        for (i, pattern) in patterns.iter().enumerate() {
            regex::Regex::new(pattern).map_err(|e| {
                let mut path = at("regex_list");
                path.push(Seg::Index(i));
                regex_error(path, e)
            })?;
        }
        regex::RegexSet::new(&patterns).map_err(|e| regex_error(at("regex_list"), e))
    };
    let check_order = |min: Option<f64>, max: Option<f64>| -> Result<(), SuiteError> {
        match (min, max) {
            (Some(lo), Some(hi)) if lo > hi => Err(invalid(
                "min_value",
                format!("`min_value` ({lo}) is greater than `max_value` ({hi})"),
                None,
            )),
            _ => Ok(()),
        }
    };
    // Bounds of a between check: numbers, or RFC 3339 timestamps, in order.
    let bounds = || -> Result<(Option<Bound>, Option<Bound>), SuiteError> {
        let mut bounds = [None, None];
        for (slot, key) in bounds.iter_mut().zip(["min_value", "max_value"]) {
            *slot = match obj.get(key) {
                None | Some(Value::Null) => None,
                Some(Value::String(text)) => Some(match crate::time::parse_timestamp_nanos(text) {
                    Some(nanos) => Bound::Timestamp {
                        nanos,
                        text: text.clone(),
                    },
                    None => {
                        return Err(invalid(
                            key,
                            format!("`{key}` {text:?} is not an RFC 3339 timestamp"),
                            Some("write it as 2024-01-31T00:00:00Z, or use a number".into()),
                        ))
                    }
                }),
                Some(Value::Number(n)) => Some(match n.as_i64() {
                    Some(i) => Bound::Int(i),
                    None => Bound::Float(n.as_f64().unwrap_or(f64::NAN)),
                }),
                Some(_) => None,
            };
        }
        let [min_value, max_value] = bounds;
        match (&min_value, &max_value) {
            (
                Some(Bound::Timestamp { nanos: lo, .. }),
                Some(Bound::Timestamp { nanos: hi, .. }),
            ) if lo > hi => {
                return Err(invalid(
                    "min_value",
                    "`min_value` is after `max_value`".into(),
                    None,
                ))
            }
            (Some(Bound::Timestamp { .. }), Some(Bound::Int(_) | Bound::Float(_)))
            | (Some(Bound::Int(_) | Bound::Float(_)), Some(Bound::Timestamp { .. })) => {
                return Err(invalid(
                    "max_value",
                    "`min_value` and `max_value` must both be numbers or both be timestamps".into(),
                    None,
                ))
            }
            (Some(lo), Some(hi)) => check_order(bound_f64(lo), bound_f64(hi))?,
            _ => {}
        }
        Ok((min_value, max_value))
    };
    let kind = match name {
        "expect_column_values_to_not_be_null" => ExpectationKind::NotNull { column: column() },
        "expect_column_values_to_be_null" => ExpectationKind::BeNull { column: column() },
        "expect_column_values_to_be_json_parseable" => {
            ExpectationKind::JsonParseable { column: column() }
        }
        "expect_column_values_to_match_json_schema" => {
            let schema = obj.get("json_schema").cloned().unwrap_or(Value::Null);
            let compiled = JSONSchema::options()
                .with_draft(Draft::Draft202012)
                .compile(&schema)
                .map_err(|e| {
                    invalid(
                        "json_schema",
                        format!("`json_schema` is not a valid JSON Schema: {e}"),
                        None,
                    )
                })?;
            ExpectationKind::MatchJsonSchema {
                column: column(),
                schema: super::CompiledJsonSchema(Arc::new(compiled)),
            }
        }
        "expect_column_value_z_scores_to_be_less_than" => ExpectationKind::ZScoresLessThan {
            column: column(),
            threshold: obj
                .get("threshold")
                .and_then(Value::as_f64)
                .unwrap_or_default(),
            double_sided: bool_param(obj, "double_sided", false),
        },
        "expect_column_value_lengths_to_be_between" | "expect_table_row_count_to_be_between" => {
            let (min_value, max_value) =
                (count_param(obj, "min_value"), count_param(obj, "max_value"));
            check_order(min_value.map(|v| v as f64), max_value.map(|v| v as f64))?;
            if name == "expect_table_row_count_to_be_between" {
                ExpectationKind::RowCountBetween {
                    min_value,
                    max_value,
                }
            } else {
                ExpectationKind::ValueLengthsBetween {
                    column: column(),
                    min_value,
                    max_value,
                }
            }
        }
        "expect_column_values_to_be_of_type" => ExpectationKind::OfType {
            column: column(),
            type_: ValueType::parse(str_param(obj, "type_")).unwrap_or(ValueType::String),
        },
        "expect_column_values_to_be_in_set" => ExpectationKind::InSet {
            column: column(),
            value_set: value_set(obj),
        },
        "expect_column_values_to_not_be_in_set" => ExpectationKind::NotInSet {
            column: column(),
            value_set: value_set(obj),
        },
        "expect_column_values_to_be_between" => {
            let (min_value, max_value) = bounds()?;
            ExpectationKind::Between {
                column: column(),
                min_value,
                max_value,
                strict_min: bool_param(obj, "strict_min", false),
                strict_max: bool_param(obj, "strict_max", false),
            }
        }
        "expect_column_min_to_be_between"
        | "expect_column_max_to_be_between"
        | "expect_column_mean_to_be_between"
        | "expect_column_median_to_be_between"
        | "expect_column_sum_to_be_between"
        | "expect_column_stdev_to_be_between" => {
            let (min_value, max_value) = bounds()?;
            ExpectationKind::StatisticBetween {
                column: column(),
                statistic: Statistic::ALL
                    .into_iter()
                    .find(|s| s.expectation_name() == name)
                    .unwrap_or(Statistic::Min),
                min_value,
                max_value,
                strict_min: bool_param(obj, "strict_min", false),
                strict_max: bool_param(obj, "strict_max", false),
            }
        }
        "expect_column_proportion_of_unique_values_to_be_between"
        | "expect_column_proportion_of_non_null_values_to_be_between" => {
            let (min_value, max_value) = bounds()?;
            for (key, bound) in [("min_value", &min_value), ("max_value", &max_value)] {
                let proportion = match bound {
                    Some(Bound::Int(i)) => Some(*i as f64),
                    Some(Bound::Float(f)) => Some(*f),
                    Some(Bound::Timestamp { .. }) => Some(f64::NAN),
                    None => None,
                };
                if proportion.is_some_and(|p| !(0.0..=1.0).contains(&p)) {
                    return Err(invalid(
                        key,
                        format!("`{key}` must be a proportion between 0 and 1"),
                        None,
                    ));
                }
            }
            let (column, strict_min, strict_max) = (
                column(),
                bool_param(obj, "strict_min", false),
                bool_param(obj, "strict_max", false),
            );
            if name == "expect_column_proportion_of_unique_values_to_be_between" {
                ExpectationKind::UniqueProportionBetween {
                    column,
                    min_value,
                    max_value,
                    strict_min,
                    strict_max,
                }
            } else {
                ExpectationKind::NonNullProportionBetween {
                    column,
                    min_value,
                    max_value,
                    strict_min,
                    strict_max,
                }
            }
        }
        "expect_column_unique_value_count_to_be_between" => {
            let (min_value, max_value) =
                (count_param(obj, "min_value"), count_param(obj, "max_value"));
            check_order(min_value.map(|v| v as f64), max_value.map(|v| v as f64))?;
            ExpectationKind::UniqueValueCountBetween {
                column: column(),
                min_value,
                max_value,
            }
        }
        "expect_table_column_count_to_be_between" => {
            let (min_value, max_value) =
                (count_param(obj, "min_value"), count_param(obj, "max_value"));
            check_order(min_value.map(|v| v as f64), max_value.map(|v| v as f64))?;
            ExpectationKind::ColumnCountBetween {
                min_value,
                max_value,
            }
        }
        "expect_column_distinct_values_to_be_in_set"
        | "expect_column_distinct_values_to_contain_set"
        | "expect_column_distinct_values_to_equal_set" => ExpectationKind::DistinctValues {
            column: column(),
            value_set: value_set(obj),
            relation: match name {
                "expect_column_distinct_values_to_be_in_set" => SetRelation::InSet,
                "expect_column_distinct_values_to_contain_set" => SetRelation::ContainSet,
                _ => SetRelation::EqualSet,
            },
        },
        "expect_column_most_common_value_to_be_in_set" => ExpectationKind::MostCommonValueInSet {
            column: column(),
            value_set: value_set(obj),
            ties_okay: bool_param(obj, "ties_okay", false),
        },
        "expect_table_column_count_to_equal" => ExpectationKind::ColumnCountEqual {
            value: count_param(obj, "value").unwrap_or_default(),
        },
        "expect_table_row_count_to_equal" => ExpectationKind::RowCountEqual {
            value: count_param(obj, "value").unwrap_or_default(),
        },
        "expect_table_columns_to_match_ordered_list" => ExpectationKind::ColumnsMatchOrderedList {
            column_list: string_list(obj, "column_list"),
        },
        "expect_table_row_count_to_equal_other_table" => ExpectationKind::RowCountEqualOtherTable {
            other_table: str_param(obj, "other_table_name").to_string(),
        },
        "expect_column_value_lengths_to_equal" => ExpectationKind::ValueLengthsEqual {
            column: column(),
            value: count_param(obj, "value").unwrap_or_default(),
        },
        "expect_column_to_exist" => ExpectationKind::ColumnToExist {
            column: column(),
            column_index: count_param(obj, "column_index"),
        },
        "expect_column_values_to_be_increasing" | "expect_column_values_to_be_decreasing" => {
            ExpectationKind::Monotonic {
                column: column(),
                decreasing: name == "expect_column_values_to_be_decreasing",
                strictly: bool_param(obj, "strictly", false),
            }
        }
        "expect_column_values_to_match_strftime_format" => {
            let format = str_param(obj, "strftime_format");
            let bad = chrono::format::StrftimeItems::new(format)
                .any(|item| matches!(item, chrono::format::Item::Error));
            if bad {
                return Err(invalid(
                    "strftime_format",
                    format!("{format:?} is not a strftime format chrono reads"),
                    Some(
                        "specifiers are %Y, %m, %d, %H, %M, %S, %z, …; write %% for a percent sign"
                            .into(),
                    ),
                ));
            }
            ExpectationKind::MatchStrftime {
                column: column(),
                strftime_format: format.to_string(),
            }
        }
        "expect_column_pair_values_to_be_equal" | "expect_column_pair_values_to_be_in_set" => {
            let column_a = str_param(obj, "column_A").to_string();
            let column_b = str_param(obj, "column_B").to_string();
            let ignore_row_if = match str_param(obj, "ignore_row_if") {
                "either_value_is_missing" => IgnoreRowIf::EitherValueIsMissing,
                "neither" => IgnoreRowIf::Neither,
                _ => IgnoreRowIf::BothValuesAreMissing,
            };
            if name == "expect_column_pair_values_to_be_equal" {
                ExpectationKind::PairEqual {
                    column_a,
                    column_b,
                    ignore_row_if,
                }
            } else {
                let side = |v: &Value| (!v.is_null()).then(|| set_value(v)).flatten();
                let value_pairs_set = obj
                    .get("value_pairs_set")
                    .and_then(Value::as_array)
                    .map(|pairs| {
                        pairs
                            .iter()
                            .filter_map(Value::as_array)
                            .filter(|p| p.len() == 2)
                            .map(|p| (side(&p[0]), side(&p[1])))
                            .collect()
                    })
                    .unwrap_or_default();
                ExpectationKind::PairInSet {
                    column_a,
                    column_b,
                    value_pairs_set,
                    ignore_row_if,
                }
            }
        }
        "expect_select_column_values_to_be_unique_within_record"
        | "expect_multicolumn_sum_to_equal" => {
            let column_list = string_list(obj, "column_list");
            let ignore_row_if = match str_param(obj, "ignore_row_if") {
                "any_value_is_missing" => IgnoreRecordIf::AnyValueIsMissing,
                "never" => IgnoreRecordIf::Never,
                _ => IgnoreRecordIf::AllValuesAreMissing,
            };
            if name == "expect_multicolumn_sum_to_equal" {
                let sum_total = match obj.get("sum_total").and_then(Value::as_number) {
                    Some(n) => match n.as_i64() {
                        Some(i) => Bound::Int(i),
                        None => Bound::Float(n.as_f64().unwrap_or(f64::NAN)),
                    },
                    None => Bound::Int(0),
                };
                ExpectationKind::MulticolumnSumEqual {
                    column_list,
                    sum_total,
                    ignore_row_if,
                }
            } else {
                ExpectationKind::UniqueWithinRecord {
                    column_list,
                    ignore_row_if,
                }
            }
        }
        "expect_column_quantile_values_to_be_between" => {
            let ranges = obj.get("quantile_ranges");
            let numbers = |key: &str| -> Vec<Value> {
                ranges
                    .and_then(|r| r.get(key))
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default()
            };
            let quantiles: Vec<f64> = numbers("quantiles")
                .iter()
                .filter_map(Value::as_f64)
                .collect();
            let value_ranges: Vec<(Option<f64>, Option<f64>)> = numbers("value_ranges")
                .iter()
                .filter_map(Value::as_array)
                .map(|r| {
                    (
                        r.first().and_then(Value::as_f64),
                        r.get(1).and_then(Value::as_f64),
                    )
                })
                .collect();
            let at_ranges = |index: Option<usize>| {
                let mut path = at("quantile_ranges");
                path.push(Seg::Key("value_ranges".into()));
                if let Some(i) = index {
                    path.push(Seg::Index(i));
                }
                path
            };
            if value_ranges.len() != quantiles.len() {
                return Err(SuiteError::InvalidParameter {
                    site: ctx.site(&at_ranges(None), false),
                    message: format!(
                        "{} value ranges for {} quantiles: give one [min, max] per quantile",
                        value_ranges.len(),
                        quantiles.len()
                    ),
                    help: None,
                });
            }
            if let Some(i) = value_ranges
                .iter()
                .position(|(lo, hi)| matches!((lo, hi), (Some(lo), Some(hi)) if lo > hi))
            {
                return Err(SuiteError::InvalidParameter {
                    site: ctx.site(&at_ranges(Some(i)), false),
                    message: "the range's min is greater than its max".into(),
                    help: None,
                });
            }
            ExpectationKind::QuantilesBetween {
                column: column(),
                quantile_ranges: QuantileRanges {
                    quantiles,
                    value_ranges,
                },
            }
        }
        "expect_column_values_to_be_unique" => ExpectationKind::Unique { column: column() },
        "expect_compound_columns_to_be_unique" => ExpectationKind::CompoundUnique {
            column_list: string_list(obj, "column_list"),
        },
        "expect_column_values_to_match_regex" => ExpectationKind::MatchRegex {
            column: column(),
            regex: compiled_regex()?,
        },
        "expect_column_values_to_not_match_regex" => ExpectationKind::NotMatchRegex {
            column: column(),
            regex: compiled_regex()?,
        },
        "expect_column_values_to_match_regex_list" => ExpectationKind::MatchRegexList {
            column: column(),
            regexes: compiled_regex_list()?,
            match_on: match str_param(obj, "match_on") {
                "all" => MatchOn::All,
                _ => MatchOn::Any,
            },
        },
        "expect_column_values_to_not_match_regex_list" => ExpectationKind::NotMatchRegexList {
            column: column(),
            regexes: compiled_regex_list()?,
        },
        "expect_table_columns_to_match_set" => ExpectationKind::ColumnsMatchSet {
            column_set: string_list(obj, "column_set"),
            exact_match: bool_param(obj, "exact_match", true),
        },
        "expect_column_values_to_be_in_other_table" => ExpectationKind::InOtherTable {
            column: column(),
            other_table: str_param(obj, "other_table").to_string(),
            other_column: str_param(obj, "other_column").to_string(),
        },
        "expect_column_pair_values_a_to_be_greater_than_b" => ExpectationKind::AGreaterThanB {
            column_a: str_param(obj, "column_A").to_string(),
            column_b: str_param(obj, "column_B").to_string(),
            or_equal: bool_param(obj, "or_equal", false),
            ignore_row_if: match str_param(obj, "ignore_row_if") {
                "both_values_are_missing" => IgnoreRowIf::BothValuesAreMissing,
                "neither" => IgnoreRowIf::Neither,
                _ => IgnoreRowIf::EitherValueIsMissing,
            },
        },
        "expect_column_pair_values_to_be_functionally_dependent" => {
            ExpectationKind::FunctionallyDependent {
                column_a: str_param(obj, "column_A").to_string(),
                column_b: str_param(obj, "column_B").to_string(),
            }
        }
        "expect_metric_values_to_reconcile" => ExpectationKind::Reconcile {
            left: string_list(obj, "left"),
            right: string_list(obj, "right"),
        },
        "expect_table_row_count_to_be_within_percent_of_history" => {
            let (last_runs, min_runs) = history_runs(obj, 5, 1, &invalid)?;
            ExpectationKind::RowCountWithinPercentOfHistory {
                percent: obj
                    .get("percent")
                    .and_then(Value::as_f64)
                    .unwrap_or_default(),
                last_runs,
                min_runs,
            }
        }
        "expect_metric_to_be_within_stdevs_of_history" => {
            let (last_runs, min_runs) = history_runs(obj, 10, 3, &invalid)?;
            if min_runs < 2 {
                return Err(invalid(
                    "min_runs",
                    "`min_runs` must be at least 2: a standard deviation needs two values".into(),
                    None,
                ));
            }
            ExpectationKind::MetricWithinStdevsOfHistory {
                metric: history_metric(obj, &invalid)?,
                stdevs: obj
                    .get("stdevs")
                    .and_then(Value::as_f64)
                    .unwrap_or_default(),
                last_runs,
                min_runs,
            }
        }
        "expect_column_newest_value_to_be_within_age" => {
            let text = str_param(obj, "max_age");
            let max_age = humantime::parse_duration(text)
                .ok()
                .and_then(|d| i64::try_from(d.as_micros()).ok())
                .ok_or_else(|| {
                    invalid(
                        "max_age",
                        format!("`max_age` {text:?} is not a duration"),
                        Some("write a number and a unit: 90m, 26h, 2d, 1h 30m".into()),
                    )
                })?;
            ExpectationKind::NewestWithinAge {
                column: column(),
                max_age_micros: max_age,
                max_age: text.to_string(),
            }
        }
        other => {
            // The schema only lets catalog names through; a catalog entry without a
            // builder is a bug caught by the catalog test.
            return Err(invalid(
                "expectation",
                format!("unknown expectation `{other}`"),
                None,
            ));
        }
    };
    debug_assert!(CATALOG.iter().any(|s| s.name == kind.name()));
    Ok(kind)
}

fn bound_f64(bound: &Bound) -> Option<f64> {
    match bound {
        Bound::Int(i) => Some(*i as f64),
        Bound::Float(f) => Some(*f),
        Bound::Timestamp { .. } => None,
    }
}

fn set_value(value: &Value) -> Option<SetValue> {
    Some(match value {
        Value::Bool(b) => SetValue::Bool(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => SetValue::Int(i),
            None => SetValue::Float(n.as_f64()?),
        },
        Value::String(s) => SetValue::Str(s.clone()),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::test_support::{at, HEADER};

    fn load(text: &str) -> Result<Suite, SuiteError> {
        Suite::from_yaml(text, "suite.yaml")
    }

    fn err(text: &str) -> SuiteError {
        match load(text) {
            Ok(_) => panic!("expected an error for:\n{text}"),
            Err(e) => e,
        }
    }

    #[test]
    fn every_expectation_type_parses() {
        let text = r#"
suite: all
description: one of each
tables:
  t:
    expectations:
      - {id: a, expectation: expect_column_values_to_not_be_null, column: x, rule: Should be not null}
      - {id: a0, expectation: expect_column_values_to_be_null, column: y}
      - {id: b, expectation: expect_column_value_lengths_to_be_between, column: x, min_value: 1}
      - {id: e1, expectation: expect_column_value_lengths_to_equal, column: x, value: 3}
      - {id: c, expectation: expect_column_values_to_be_of_type, column: x, type_: integer}
      - {id: d, expectation: expect_column_values_to_be_in_set, column: x, value_set: [a, 1, 2.5, true]}
      - {id: d2, expectation: expect_column_values_to_not_be_in_set, column: x, value_set: [b]}
      - {id: e, expectation: expect_column_values_to_be_between, column: x, min_value: "2024-01-01T00:00:00Z", strict_max: true, max_value: "2025-01-01T00:00:00+01:00"}
      - {id: f, expectation: expect_column_values_to_be_unique, column: x, severity: warn}
      - {id: g, expectation: expect_compound_columns_to_be_unique, column_list: [x, y]}
      - {id: h, expectation: expect_column_values_to_match_regex, column: x, regex: "^[A-Z]{3}$"}
      - {id: h2, expectation: expect_column_values_to_not_match_regex, column: x, regex: "[0-9]"}
      - {id: h3, expectation: expect_column_values_to_match_regex_list, column: x, regex_list: [a, b], match_on: all}
      - {id: h4, expectation: expect_column_values_to_not_match_regex_list, column: x, regex_list: [a]}
      - {id: j1, expectation: expect_column_values_to_be_json_parseable, column: x}
      - {id: j2, expectation: expect_column_values_to_match_json_schema, column: x, json_schema: {type: object, required: [id]}}
      - {id: z1, expectation: expect_column_value_z_scores_to_be_less_than, column: x, threshold: 3, double_sided: true}
      - {id: r1, expectation: expect_column_values_to_match_strftime_format, column: x, strftime_format: "%Y-%m-%d"}
      - {id: r2, expectation: expect_column_values_to_be_increasing, column: x, strictly: true}
      - {id: r3, expectation: expect_column_values_to_be_decreasing, column: x}
      - {id: i, expectation: expect_table_row_count_to_be_between, min_value: 1, max_value: 10}
      - {id: t1, expectation: expect_table_row_count_to_equal, value: 3}
      - {id: t2, expectation: expect_table_row_count_to_equal_other_table, other_table_name: u}
      - {id: t3, expectation: expect_table_column_count_to_be_between, min_value: 1}
      - {id: t4, expectation: expect_table_column_count_to_equal, value: 2}
      - {id: t5, expectation: expect_table_columns_to_match_ordered_list, column_list: [x, y]}
      - {id: e2, expectation: expect_column_to_exist, column: x, column_index: 0}
      - {id: j, expectation: expect_table_columns_to_match_set, column_set: [x, y], exact_match: false}
      - {id: a1, expectation: expect_column_min_to_be_between, column: x, min_value: 0}
      - {id: a2, expectation: expect_column_max_to_be_between, column: x, max_value: 9, strict_max: true}
      - {id: a3, expectation: expect_column_mean_to_be_between, column: x, min_value: 0.5, max_value: 2}
      - {id: a4, expectation: expect_column_median_to_be_between, column: x, min_value: 1}
      - {id: a5, expectation: expect_column_sum_to_be_between, column: x, max_value: 100}
      - {id: a6, expectation: expect_column_stdev_to_be_between, column: x, max_value: 3}
      - {id: q1, expectation: expect_column_quantile_values_to_be_between, column: x, quantile_ranges: {quantiles: [0.5], value_ranges: [[1, null]]}}
      - {id: a6n, expectation: expect_column_proportion_of_non_null_values_to_be_between, column: x, min_value: 0.9}
      - {id: a7, expectation: expect_column_unique_value_count_to_be_between, column: x, min_value: 1, max_value: 5}
      - {id: a8, expectation: expect_column_proportion_of_unique_values_to_be_between, column: x, min_value: 0.5}
      - {id: a9, expectation: expect_column_distinct_values_to_be_in_set, column: x, value_set: [1, 2]}
      - {id: b1, expectation: expect_column_distinct_values_to_contain_set, column: x, value_set: [1]}
      - {id: b2, expectation: expect_column_distinct_values_to_equal_set, column: x, value_set: [1, 2]}
      - {id: b3, expectation: expect_column_most_common_value_to_be_in_set, column: x, value_set: [1], ties_okay: true}
      - {id: k, expectation: expect_column_values_to_be_in_other_table, column: x, other_table: u, other_column: z}
      - {id: l, expectation: expect_column_pair_values_a_to_be_greater_than_b, column_A: x, column_B: y, or_equal: true, ignore_row_if: neither}
      - {id: p1, expectation: expect_column_pair_values_to_be_equal, column_A: x, column_B: y}
      - {id: p2, expectation: expect_column_pair_values_to_be_in_set, column_A: x, column_B: y, value_pairs_set: [[1, 2], [null, 3]]}
      - {id: p3, expectation: expect_select_column_values_to_be_unique_within_record, column_list: [x, y], ignore_row_if: never}
      - {id: p4, expectation: expect_multicolumn_sum_to_equal, column_list: [x, y], sum_total: 10}
      - {id: m, expectation: expect_column_pair_values_to_be_functionally_dependent, column_A: x, column_B: y, mostly: 0.999}
      - {id: n, expectation: expect_metric_values_to_reconcile, left: [in], right: [out, lost], meta: {addition: true}}
      - {id: h5, expectation: expect_table_row_count_to_be_within_percent_of_history, percent: 20, last_runs: 3}
      - {id: h6, expectation: expect_metric_to_be_within_stdevs_of_history, metric: unexpected_count, of: a, stdevs: 3}
      - {id: h7, expectation: expect_column_newest_value_to_be_within_age, column: x, max_age: 26h}
"#;
        let suite = load(text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(suite.name, "all");
        assert_eq!(suite.description.as_deref(), Some("one of each"));
        let names: Vec<&str> = suite.expectations().map(Expectation::name).collect();
        let catalog: Vec<&str> = CATALOG.iter().map(|s| s.name).collect();
        assert_eq!(names, catalog, "one of each, in catalog order");
        let f = suite.expectations().find(|e| e.id == "f").expect("f");
        assert_eq!(f.severity, Severity::Warn);
        let a = suite.expectations().next().expect("a");
        assert_eq!(
            (a.severity, a.rule.as_deref()),
            (Severity::Error, Some("Should be not null"))
        );
        let m = suite.expectations().find(|e| e.id == "m").expect("m");
        assert_eq!(m.mostly.as_ref().map(Mostly::as_str), Some("0.999"));
        assert_eq!(suite.metric_names(), vec!["in", "lost", "out"]);
        let e = suite.expectations().find(|e| e.id == "e").expect("e");
        match &e.kind {
            ExpectationKind::Between {
                max_value: Some(Bound::Timestamp { nanos, .. }),
                strict_max: true,
                ..
            } => {
                assert_eq!(
                    Some(*nanos),
                    crate::time::parse_timestamp_nanos("2024-12-31T23:00:00Z")
                );
            }
            other => panic!("{other:?}"),
        };
    }

    #[test]
    fn history_expectations_read_their_parameters() {
        let suite = load(
            r#"
suite: h
tables:
  t:
    expectations:
      - {id: a, expectation: expect_column_values_to_not_be_null, column: x}
      - {id: b, expectation: expect_table_row_count_to_be_within_percent_of_history, percent: 20}
      - {id: c, expectation: expect_metric_to_be_within_stdevs_of_history, metric: mean, column: x, stdevs: 2.5}
  u:
    expectations:
      - {id: d, expectation: expect_metric_to_be_within_stdevs_of_history, metric: unexpected_count, of: a, stdevs: 3, min_runs: 2}
      - {id: e, expectation: expect_column_newest_value_to_be_within_age, column: y, max_age: 1h 30m}
"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let kinds: Vec<&ExpectationKind> = suite.expectations().map(|e| &e.kind).collect();
        assert!(matches!(
            kinds[1],
            ExpectationKind::RowCountWithinPercentOfHistory { percent, last_runs: 5, min_runs: 1 } if *percent == 20.0
        ));
        assert!(matches!(
            kinds[2],
            ExpectationKind::MetricWithinStdevsOfHistory {
                metric: HistoryMetric::Statistic {
                    statistic: Statistic::Mean,
                    ..
                },
                last_runs: 10,
                min_runs: 3,
                ..
            }
        ));
        match kinds[3] {
            ExpectationKind::MetricWithinStdevsOfHistory {
                metric: HistoryMetric::UnexpectedCount { of, table },
                min_runs: 2,
                ..
            } => assert_eq!((of.as_str(), table.as_str()), ("a", "t")),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            kinds[4],
            ExpectationKind::NewestWithinAge {
                max_age_micros: 5_400_000_000,
                ..
            }
        ));
    }

    #[test]
    fn bad_history_parameters_are_located() {
        let cases = [
            ("{id: b, expectation: expect_table_row_count_to_be_within_percent_of_history, percent: 5, last_runs: 2, min_runs: 3}", "`min_runs` must be between 1 and `last_runs` (2)"),
            ("{id: b, expectation: expect_metric_to_be_within_stdevs_of_history, metric: mean, stdevs: 2}", "metric mean needs the `column`"),
            ("{id: b, expectation: expect_metric_to_be_within_stdevs_of_history, metric: row_count, column: x, stdevs: 2}", "metric row_count is not a column's"),
            ("{id: b, expectation: expect_metric_to_be_within_stdevs_of_history, metric: row_count, stdevs: 2, min_runs: 1}", "`min_runs` must be at least 2"),
            ("{id: b, expectation: expect_metric_to_be_within_stdevs_of_history, metric: unexpected_count, of: nope, stdevs: 2}", "no other expectation with id \"nope\""),
            ("{id: b, expectation: expect_column_newest_value_to_be_within_age, column: x, max_age: soon}", "`max_age` \"soon\" is not a duration"),
        ];
        for (line, message) in cases {
            let text = format!("suite: h\ntables:\n  t:\n    expectations:\n      - {line}\n");
            let e = err(&text);
            assert!(e.to_string().contains(message), "{line}: {e}");
            let position = e
                .position()
                .unwrap_or_else(|| panic!("{line}: no position"));
            assert_eq!(position.line, 5, "{line}");
        }
    }

    #[test]
    fn typo_in_expectation_name_suggests_the_right_one() {
        let e = err(&format!(
            "{HEADER}      - id: a\n        expectation: expect_column_values_to_not_be_nul\n        column: x\n"
        ));
        assert!(matches!(e, SuiteError::Schema { .. }), "{e:?}");
        assert_eq!(
            at(&e),
            (6, 22, "expect_column_values_to_not_be_nul".to_string())
        );
        assert_eq!(
            e.label(),
            "unknown expectation `expect_column_values_to_not_be_nul`"
        );
        assert_eq!(
            e.help(),
            Some("did you mean `expect_column_values_to_not_be_null`?")
        );
        assert!(
            e.to_string()
                .starts_with("suite.yaml:6:22: unknown expectation"),
            "{e}"
        );
    }

    #[test]
    fn string_where_a_number_belongs_is_located() {
        let e = err(&format!(
            "{HEADER}      - id: a\n        expectation: expect_column_value_lengths_to_be_between\n        column: x\n        min_value: one\n"
        ));
        assert_eq!(at(&e), (8, 20, "one".to_string()));
        assert_eq!(
            e.label(),
            "`min_value` must be an integer, found a string \"one\""
        );
        let e = err(&format!(
            "{HEADER}      - id: a\n        expectation: expect_column_values_to_not_be_null\n        column: x\n        mostly: \"0.95\"\n"
        ));
        assert_eq!(at(&e), (8, 17, "\"0.95\"".to_string()));
        assert!(e.label().contains("must be a number"), "{}", e.label());
    }

    #[test]
    fn bad_row_parameters_are_located() {
        let e = err(&format!("{HEADER}      - id: a\n        expectation: expect_column_values_to_match_strftime_format\n        column: x\n        strftime_format: \"%Y-%\"\n"));
        assert_eq!(at(&e), (8, 26, "\"%Y-%\"".to_string()));
        assert!(e.label().contains("not a strftime format"), "{}", e.label());
        let e = err(&format!("{HEADER}      - id: a\n        expectation: expect_column_quantile_values_to_be_between\n        column: x\n        quantile_ranges: {{quantiles: [0.1, 0.9], value_ranges: [[1, 2]]}}\n"));
        assert!(
            e.label().contains("1 value ranges for 2 quantiles"),
            "{}",
            e.label()
        );
        let e = err(&format!("{HEADER}      - id: a\n        expectation: expect_column_quantile_values_to_be_between\n        column: x\n        quantile_ranges: {{quantiles: [0.1, 0.9], value_ranges: [[1, 2], [5, 3]]}}\n"));
        assert_eq!(at(&e).2, "[5, 3]");
        let e = err(&format!("{HEADER}      - id: a\n        expectation: expect_column_quantile_values_to_be_between\n        column: x\n        quantile_ranges: {{quantiles: [1.5], value_ranges: [[1, 2]]}}\n"));
        assert_eq!(at(&e).2, "1.5");
        let e = err(&format!("{HEADER}      - id: a\n        expectation: expect_column_pair_values_to_be_in_set\n        column_A: x\n        column_B: y\n        value_pairs_set: [[1, 2, 3]]\n"));
        assert_eq!(at(&e).2, "[1, 2, 3]");
        let e = err(&format!("{HEADER}      - id: a\n        expectation: expect_multicolumn_sum_to_equal\n        column_list: [x, y]\n        sum_total: ten\n"));
        assert_eq!(at(&e).2, "ten");
    }

    #[test]
    fn bad_aggregate_parameters_are_located() {
        let e = err(&format!("{HEADER}      - id: a\n        expectation: expect_column_proportion_of_unique_values_to_be_between\n        column: x\n        min_value: 1.5\n"));
        assert_eq!(at(&e), (8, 20, "1.5".to_string()));
        assert_eq!(
            e.label(),
            "`min_value` must be a proportion between 0 and 1"
        );
        let e = err(&format!("{HEADER}      - id: a\n        expectation: expect_column_max_to_be_between\n        column: x\n        min_value: 5\n        max_value: 2\n"));
        assert_eq!(at(&e), (8, 20, "5".to_string()));
        let e = err(&format!("{HEADER}      - id: a\n        expectation: expect_column_median_to_be_between\n        column: x\n        min_value: 1\n        mostly: 0.5\n"));
        assert_eq!(
            at(&e),
            (9, 9, "mostly".to_string()),
            "an aggregate has no `mostly`"
        );
        let e = err(&format!("{HEADER}      - id: a\n        expectation: expect_column_stdev_to_be_between\n        column: x\n"));
        assert!(
            e.to_string().contains("min_value") || e.label().contains("min_value"),
            "{e}"
        );
        let e = err(&format!("{HEADER}      - id: a\n        expectation: expect_table_row_count_to_equal\n        value: -1\n"));
        assert_eq!(at(&e), (7, 16, "-1".to_string()));
        let e = err(&format!("{HEADER}      - id: a\n        expectation: expect_column_most_common_value_to_be_in_set\n        column: x\n        value_set: []\n"));
        assert_eq!(at(&e), (8, 20, "[]".to_string()));
    }

    #[test]
    fn declared_column_types_are_read_in_order_and_bad_ones_located() {
        let text = "suite: s\ntables:\n  sales:\n    columns:\n      price: float\n      day: date\n      id: integer\n    expectations: []\n";
        let suite = Suite::from_yaml(text, "s.yaml").expect("valid");
        assert_eq!(
            suite.tables[0].columns,
            vec![
                ("price".to_string(), super::super::ColumnType::Float),
                ("day".to_string(), super::super::ColumnType::Date),
                ("id".to_string(), super::super::ColumnType::Integer),
            ]
        );
        let e = err(
            "suite: s\ntables:\n  sales:\n    columns:\n      price: money\n    expectations: []\n",
        );
        assert_eq!(at(&e), (5, 14, "money".to_string()));
        let e = err("suite: s\ntables:\n  sales:\n    colums: {}\n    expectations: []\n");
        assert_eq!(at(&e), (4, 5, "colums".to_string()));
        assert_eq!(e.help(), Some("did you mean `columns`?"));
    }

    #[test]
    fn unknown_key_is_located_with_a_suggestion() {
        let e = err(&format!(
            "{HEADER}      - id: a\n        expectation: expect_column_values_to_not_be_null\n        colum: x\n"
        ));
        assert_eq!(at(&e), (7, 9, "colum".to_string()));
        assert_eq!(
            e.label(),
            "unknown key `colum` for `expect_column_values_to_not_be_null`"
        );
        assert_eq!(e.help(), Some("did you mean `column`?"));
        // `mostly` does not apply to table-level expectations.
        let e = err(&format!(
            "{HEADER}      - id: a\n        expectation: expect_table_row_count_to_be_between\n        min_value: 1\n        mostly: 0.5\n"
        ));
        assert_eq!(at(&e), (8, 9, "mostly".to_string()));
        let e = err("suite: s\ntabels: {}\n");
        assert_eq!(at(&e), (2, 1, "tabels".to_string()));
        assert_eq!(e.help(), Some("did you mean `tables`?"));
    }

    #[test]
    fn invalid_yaml_is_located() {
        let e = err(&format!("{HEADER}      - id: a\n        expectation: [x\n"));
        assert!(matches!(e, SuiteError::Yaml { .. }), "{e:?}");
        let p = e.position().expect("located");
        assert_eq!(p.line, 7, "{e}");
        assert!(!e.label().contains(" at line "), "{}", e.label());
        let e = err("suite: s\n  bad: indentation\n");
        assert_eq!(e.position().expect("located").line, 2, "{e}");
    }

    #[test]
    fn duplicate_id_is_located_at_the_second_use() {
        let e = err(&format!(
            "{HEADER}      - id: same\n        expectation: expect_column_values_to_not_be_null\n        column: x\n      - id: same\n        expectation: expect_column_values_to_be_unique\n        column: x\n"
        ));
        assert!(
            matches!(e, SuiteError::DuplicateId { first_line: 5, .. }),
            "{e:?}"
        );
        assert_eq!(at(&e), (8, 13, "same".to_string()));
    }

    #[test]
    fn missing_keys_and_bounds_are_reported() {
        let e = err(&format!(
            "{HEADER}      - id: a\n        expectation: expect_column_values_to_not_be_null\n"
        ));
        assert_eq!(
            e.label(),
            "`expect_column_values_to_not_be_null` needs `column`"
        );
        assert_eq!(at(&e).0, 5);
        let e = err(&format!(
            "{HEADER}      - id: a\n        expectation: expect_column_values_to_be_between\n        column: x\n"
        ));
        assert_eq!(
            e.label(),
            "`expect_column_values_to_be_between` needs `min_value` or `max_value`"
        );
        let e = err("tables: {}\n");
        assert_eq!(e.label(), "missing key `suite`");
        let e = err("");
        assert_eq!(e.position().map(|p| p.line), Some(1), "{e}");
    }

    #[test]
    fn semantic_errors_are_located() {
        let e = err(&format!(
            "{HEADER}      - id: a\n        expectation: expect_column_values_to_match_regex\n        column: x\n        regex: \"([a-z]\"\n"
        ));
        assert!(matches!(e, SuiteError::InvalidParameter { .. }), "{e:?}");
        assert_eq!(at(&e), (8, 16, "\"([a-z]\"".to_string()));
        let e = err(&format!(
            "{HEADER}      - id: a\n        expectation: expect_column_values_to_not_match_regex\n        column: x\n        regex: \"a{{2,1}}\"\n"
        ));
        assert!(matches!(e, SuiteError::InvalidParameter { .. }), "{e:?}");
        assert_eq!(at(&e), (8, 16, "\"a{2,1}\"".to_string()));
        let e = err(&format!(
            "{HEADER}      - id: a\n        expectation: expect_column_values_to_match_regex_list\n        column: x\n        regex_list: [ok, \"(\"]\n"
        ));
        assert!(matches!(e, SuiteError::InvalidParameter { .. }), "{e:?}");
        assert_eq!(at(&e), (8, 26, "\"(\"".to_string()));
        let e = err(&format!(
            "{HEADER}      - id: a\n        expectation: expect_column_values_to_be_between\n        column: x\n        min_value: 5\n        max_value: 1\n"
        ));
        assert_eq!(at(&e).0, 8);
        let e = err(&format!(
            "{HEADER}      - id: a\n        expectation: expect_column_values_to_be_between\n        column: x\n        min_value: yesterday\n"
        ));
        assert_eq!(at(&e), (8, 20, "yesterday".to_string()));
        let e = err(&format!(
            "{HEADER}      - id: a\n        expectation: expect_column_values_to_not_be_null\n        column: x\n        mostly: 1.5\n"
        ));
        assert_eq!(at(&e), (8, 17, "1.5".to_string()));
        let e = err(&format!(
            "{HEADER}      - id: a\n        expectation: expect_column_values_to_be_of_type\n        column: x\n        type_: int\n"
        ));
        assert_eq!(at(&e), (8, 16, "int".to_string()));
        assert_eq!(e.help(), Some("did you mean `integer`?"));
    }

    #[test]
    fn duplicate_keys_are_yaml_errors() {
        let e = err(&format!(
            "{HEADER}      - id: a\n        expectation: expect_column_values_to_not_be_null\n        column: x\n        column: y\n"
        ));
        assert!(matches!(e, SuiteError::Yaml { .. }), "{e:?}");
        assert_eq!(at(&e), (8, 9, "column".to_string()), "{e}");
    }

    /// Every prefix and many one-byte edits of a valid suite load or fail with an
    /// error; none panics, and located errors point inside the text.
    #[test]
    fn broken_suites_never_panic() {
        let text = r#"suite: s
tables:
  orders:
    expectations:
      - id: a
        expectation: expect_column_values_to_be_between
        column: "x"
        min_value: 0
        max_value: 'é10'
        mostly: 0.95
      - {id: b, expectation: expect_column_values_to_be_in_set, column: y, value_set: [a, "b", 3]}
"#;
        let check = |t: &str| {
            if let Err(e) = load(t) {
                if let Some(p) = e.position() {
                    assert!(p.offset + p.len <= t.len(), "{e}: span outside the text");
                    assert!(
                        t.is_char_boundary(p.offset) && t.is_char_boundary(p.offset + p.len),
                        "{e}"
                    );
                }
                let _ = (e.to_string(), e.label(), e.help());
            }
        };
        for (i, _) in text.char_indices() {
            check(&text[..i]);
        }
        let junk = [
            ":", "-", "[", "{", "\"", "'", "#", " ", "\t", "&a", "*a", "!t", "\n", "?",
        ];
        for (i, _) in text.char_indices() {
            for j in junk {
                check(&format!("{}{j}{}", &text[..i], &text[i..]));
            }
        }
    }

    #[test]
    fn shipped_schema_compiles() {
        let _ = compiled_schema();
        assert!(super::super::suite_schema_text().contains("2020-12"));
    }
}
