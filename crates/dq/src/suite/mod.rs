//! Suites: the YAML model (a name and, per table, a list of expectations). Loading with
//! JSON Schema validation and located errors is in `load`, binding checks against the
//! data's schemas (tables, columns and types the suite names must exist and fit) in
//! `bind`.

mod bind;
mod depth;
mod load;

pub use depth::MAX_NESTING;

/// Helpers shared by the suite's test modules.
#[cfg(test)]
pub(crate) mod test_support {
    use crate::error::SuiteError;

    /// A suite header with one table, `orders`, ready for expectations.
    pub(crate) const HEADER: &str = "suite: s\ntables:\n  orders:\n    expectations:\n";

    /// (line, column, underlined text) of an error.
    pub(crate) fn at(e: &SuiteError) -> (usize, usize, String) {
        let p = e
            .position()
            .unwrap_or_else(|| panic!("{e} has no position"));
        let text = e.source_text().expect("source text");
        (
            p.line,
            p.column,
            text[p.offset..p.offset + p.len].to_string(),
        )
    }
}

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use arrow2::datatypes::Schema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Position, Site, SuiteError};
use crate::position::{doc_path, locate, Seg};

/// The suite schema shipped with the project, generated from the catalog.
const SUITE_SCHEMA: &str = include_str!("../../../../expectations/schema/suite.schema.json");

/// Path of the shipped suite schema, relative to the workspace root.
pub const SUITE_SCHEMA_PATH: &str = "expectations/schema/suite.schema.json";

/// The text of the suite JSON Schema (draft 2020-12) that suites are validated against.
pub fn suite_schema_text() -> &'static str {
    SUITE_SCHEMA
}

/// What a failed expectation means for the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// A failure fails the suite (and stops `ccc run`).
    #[default]
    Error,
    /// A failure is reported; the suite still succeeds.
    Warn,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warn => "warn",
        })
    }
}

/// How much of an expectation's result is reported, Great Expectations' `result_format`
/// levels. The verdict and counts never depend on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ResultFormat {
    /// The verdict and counts, no examples.
    BooleanOnly,
    /// Counts and up to 20 unexpected values with their locations.
    Basic,
    /// As `BASIC` (the default; GX adds value counts of the examples here).
    #[default]
    Summary,
    /// Every unexpected value with its location (`unexpected_list`).
    Complete,
}

impl ResultFormat {
    /// Every level, as suites write them.
    pub const ALL: [ResultFormat; 4] = [
        ResultFormat::BooleanOnly,
        ResultFormat::Basic,
        ResultFormat::Summary,
        ResultFormat::Complete,
    ];

    /// The name suites use.
    pub fn name(self) -> &'static str {
        match self {
            ResultFormat::BooleanOnly => "BOOLEAN_ONLY",
            ResultFormat::Basic => "BASIC",
            ResultFormat::Summary => "SUMMARY",
            ResultFormat::Complete => "COMPLETE",
        }
    }

    pub(crate) fn parse(name: &str) -> Option<ResultFormat> {
        ResultFormat::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// The fraction of values that must pass, kept as the exact decimal written in the
/// suite (`0.95` is 95/100) so that the comparison needs no floating point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mostly {
    text: String,
    numerator: u128,
    denominator: u128,
}

impl Mostly {
    /// Parses a decimal between 0 and 1 such as `0.95`, `1`, `.5` or `5e-1`.
    pub fn parse(text: &str) -> Option<Mostly> {
        let (numerator, denominator) = parse_decimal(text.trim())?;
        if numerator > denominator {
            return None;
        }
        Some(Mostly {
            text: text.trim().to_string(),
            numerator,
            denominator,
        })
    }

    /// The decimal as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// True when `passed / total >= mostly`, compared exactly:
    /// `passed × denominator >= numerator × total`. An empty total passes.
    pub fn passes(&self, passed: u64, total: u64) -> bool {
        u128::from(passed) * self.denominator >= self.numerator * u128::from(total)
    }
}

impl fmt::Display for Mostly {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Parses an unsigned decimal (with optional exponent) into a reduced-enough fraction.
fn parse_decimal(text: &str) -> Option<(u128, u128)> {
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(i) => (&text[..i], text[i + 1..].parse::<i32>().ok()?),
        None => (text, 0),
    };
    let mantissa = mantissa.strip_prefix('+').unwrap_or(mantissa);
    let (int_part, frac_part) = match mantissa.split_once('.') {
        Some((i, f)) => (i, f),
        None => (mantissa, ""),
    };
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    if !int_part
        .bytes()
        .chain(frac_part.bytes())
        .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let digits = format!("{int_part}{frac_part}");
    let digits = digits.trim_start_matches('0');
    let scale = i64::try_from(frac_part.len()).ok()? - i64::from(exponent);
    if digits.len() > 30 || !(-30..=30).contains(&scale) {
        return None;
    }
    let mut numerator: u128 = if digits.is_empty() {
        0
    } else {
        digits.parse().ok()?
    };
    let mut denominator: u128 = 1;
    if scale >= 0 {
        denominator = 10u128.checked_pow(u32::try_from(scale).ok()?)?;
    } else {
        numerator = numerator.checked_mul(10u128.checked_pow(u32::try_from(-scale).ok()?)?)?;
    }
    Some((numerator, denominator))
}

/// The value types of `expect_column_values_to_be_of_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ValueType {
    /// Text.
    String,
    /// A whole number.
    Integer,
    /// Any number.
    Numeric,
    /// A point in time (RFC 3339 for text values).
    Timestamp,
    /// `true` or `false`.
    Boolean,
}

impl ValueType {
    fn parse(name: &str) -> Option<ValueType> {
        Some(match name {
            "string" => ValueType::String,
            "integer" => ValueType::Integer,
            "numeric" => ValueType::Numeric,
            "timestamp" => ValueType::Timestamp,
            "boolean" => ValueType::Boolean,
            _ => return None,
        })
    }

    /// The name used in suites.
    pub fn name(self) -> &'static str {
        match self {
            ValueType::String => "string",
            ValueType::Integer => "integer",
            ValueType::Numeric => "numeric",
            ValueType::Timestamp => "timestamp",
            ValueType::Boolean => "boolean",
        }
    }
}

/// The type a suite declares for a column of a table read from text files (a table's
/// `columns:` map, for `ccc validate --table`); a Parquet file's columns carry their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColumnType {
    /// Text, as written (the type of an undeclared column).
    String,
    /// A 64-bit integer.
    Integer,
    /// A 64-bit float.
    Float,
    /// `true` or `false`.
    Boolean,
    /// An RFC 3339 instant.
    Timestamp,
    /// A `YYYY-MM-DD` date.
    Date,
}

impl ColumnType {
    /// Every type, in the order suites document them.
    pub const ALL: [ColumnType; 6] = [
        ColumnType::String,
        ColumnType::Integer,
        ColumnType::Float,
        ColumnType::Boolean,
        ColumnType::Timestamp,
        ColumnType::Date,
    ];

    /// The name used in suites.
    pub fn name(self) -> &'static str {
        match self {
            ColumnType::String => "string",
            ColumnType::Integer => "integer",
            ColumnType::Float => "float",
            ColumnType::Boolean => "boolean",
            ColumnType::Timestamp => "timestamp",
            ColumnType::Date => "date",
        }
    }

    fn parse(name: &str) -> Option<ColumnType> {
        ColumnType::ALL.into_iter().find(|t| t.name() == name)
    }
}

/// The statistic of a column aggregate expectation
/// (`expect_column_<statistic>_to_be_between`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Statistic {
    /// The smallest non-null value.
    Min,
    /// The largest non-null value.
    Max,
    /// The mean of the non-null values.
    Mean,
    /// The median of the non-null values (the mean of the middle two for an even count).
    Median,
    /// The sum of the non-null values (0 for none).
    Sum,
    /// The sample standard deviation of the non-null values (n − 1).
    Stdev,
}

impl Statistic {
    /// Every statistic, in catalog order.
    pub const ALL: [Statistic; 6] = [
        Statistic::Min,
        Statistic::Max,
        Statistic::Mean,
        Statistic::Median,
        Statistic::Sum,
        Statistic::Stdev,
    ];

    /// The word in the expectation's name.
    pub fn word(self) -> &'static str {
        match self {
            Statistic::Min => "min",
            Statistic::Max => "max",
            Statistic::Mean => "mean",
            Statistic::Median => "median",
            Statistic::Sum => "sum",
            Statistic::Stdev => "stdev",
        }
    }

    /// The expectation's name, `expect_column_<word>_to_be_between`.
    pub fn expectation_name(self) -> &'static str {
        match self {
            Statistic::Min => "expect_column_min_to_be_between",
            Statistic::Max => "expect_column_max_to_be_between",
            Statistic::Mean => "expect_column_mean_to_be_between",
            Statistic::Median => "expect_column_median_to_be_between",
            Statistic::Sum => "expect_column_sum_to_be_between",
            Statistic::Stdev => "expect_column_stdev_to_be_between",
        }
    }

    /// Whether instants have it (their min and max); the others need numbers.
    pub fn applies_to_instants(self) -> bool {
        matches!(self, Statistic::Min | Statistic::Max)
    }
}

/// Which records a multicolumn check skips, as in Great Expectations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IgnoreRecordIf {
    /// Skip records where every value is null (GX's default).
    AllValuesAreMissing,
    /// Skip records where any value is null.
    AnyValueIsMissing,
    /// Skip nothing.
    Never,
}

/// The quantiles of `expect_column_quantile_values_to_be_between` and the range each must
/// fall in (bounds inclusive, `None` open).
#[derive(Debug, Clone, PartialEq)]
pub struct QuantileRanges {
    /// Quantiles, each from 0 to 1.
    pub quantiles: Vec<f64>,
    /// One `[min, max]` per quantile.
    pub value_ranges: Vec<(Option<f64>, Option<f64>)>,
}

/// How a column's distinct values relate to a `value_set`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SetRelation {
    /// Every distinct value is in the set (`…_distinct_values_to_be_in_set`).
    InSet,
    /// Every set value occurs (`…_distinct_values_to_contain_set`).
    ContainSet,
    /// Both (`…_distinct_values_to_equal_set`).
    EqualSet,
}

/// One value of a `value_set`.
#[derive(Debug, Clone, PartialEq)]
pub enum SetValue {
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A number with a fraction (or beyond the 64-bit integer range).
    Float(f64),
    /// A string.
    Str(String),
}

/// A bound of `expect_column_values_to_be_between`.
#[derive(Debug, Clone, PartialEq)]
pub enum Bound {
    /// An integer.
    Int(i64),
    /// A number with a fraction.
    Float(f64),
    /// An RFC 3339 timestamp, as nanoseconds since the epoch (UTC) and as written.
    Timestamp {
        /// Nanoseconds since 1970-01-01T00:00:00Z.
        nanos: i128,
        /// The text as written in the suite.
        text: String,
    },
}

/// Which rows a column-pair check skips, as in Great Expectations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IgnoreRowIf {
    /// Skip rows where both values are null; a single null fails the row.
    BothValuesAreMissing,
    /// Skip rows where either value is null (our default: nulls are the business of
    /// `expect_column_values_to_not_be_null`).
    EitherValueIsMissing,
    /// Skip nothing: any null fails the row.
    Neither,
}

/// Whether a value must match any or all of a regex list, as in Great Expectations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchOn {
    /// At least one of the expressions.
    Any,
    /// Every expression.
    All,
}

/// A JSON Schema compiled when the suite is loaded, shared by the suite's copies.
#[derive(Clone)]
pub struct CompiledJsonSchema(pub std::sync::Arc<jsonschema::JSONSchema>);

impl std::fmt::Debug for CompiledJsonSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CompiledJsonSchema")
    }
}

/// An expectation type with its parameters.
#[derive(Debug, Clone)]
pub enum ExpectationKind {
    /// `expect_column_values_to_not_be_null`.
    NotNull {
        /// The column.
        column: String,
    },
    /// `expect_column_value_lengths_to_be_between` (lengths in characters).
    ValueLengthsBetween {
        /// The column.
        column: String,
        /// Smallest length allowed.
        min_value: Option<u64>,
        /// Largest length allowed.
        max_value: Option<u64>,
    },
    /// `expect_column_values_to_be_of_type`.
    OfType {
        /// The column.
        column: String,
        /// The type expected.
        type_: ValueType,
    },
    /// `expect_column_values_to_be_in_set`.
    InSet {
        /// The column.
        column: String,
        /// The values allowed.
        value_set: Vec<SetValue>,
    },
    /// `expect_column_values_to_not_be_in_set`.
    NotInSet {
        /// The column.
        column: String,
        /// The values not allowed.
        value_set: Vec<SetValue>,
    },
    /// `expect_column_values_to_be_between`.
    Between {
        /// The column.
        column: String,
        /// Lower bound.
        min_value: Option<Bound>,
        /// Upper bound.
        max_value: Option<Bound>,
        /// Exclude the lower bound.
        strict_min: bool,
        /// Exclude the upper bound.
        strict_max: bool,
    },
    /// `expect_column_values_to_be_unique`.
    Unique {
        /// The column.
        column: String,
    },
    /// `expect_compound_columns_to_be_unique`.
    CompoundUnique {
        /// The columns.
        column_list: Vec<String>,
    },
    /// `expect_column_values_to_match_regex`.
    MatchRegex {
        /// The column.
        column: String,
        /// The compiled expression.
        regex: regex::Regex,
    },
    /// `expect_column_values_to_not_match_regex`.
    NotMatchRegex {
        /// The column.
        column: String,
        /// The compiled expression.
        regex: regex::Regex,
    },
    /// `expect_column_values_to_match_regex_list`.
    MatchRegexList {
        /// The column.
        column: String,
        /// The compiled expressions.
        regexes: regex::RegexSet,
        /// Any or all of them.
        match_on: MatchOn,
    },
    /// `expect_column_values_to_not_match_regex_list`.
    NotMatchRegexList {
        /// The column.
        column: String,
        /// The compiled expressions.
        regexes: regex::RegexSet,
    },
    /// `expect_table_row_count_to_be_between`.
    RowCountBetween {
        /// Fewest rows.
        min_value: Option<u64>,
        /// Most rows.
        max_value: Option<u64>,
    },
    /// `expect_table_columns_to_match_set`.
    ColumnsMatchSet {
        /// The columns expected.
        column_set: Vec<String>,
        /// Exactly these (true) or at least these (false).
        exact_match: bool,
    },
    /// `expect_column_values_to_be_in_other_table`.
    InOtherTable {
        /// The column checked.
        column: String,
        /// The table holding the allowed values.
        other_table: String,
        /// Its column.
        other_column: String,
    },
    /// `expect_column_pair_values_a_to_be_greater_than_b`.
    AGreaterThanB {
        /// The greater column.
        column_a: String,
        /// The smaller column.
        column_b: String,
        /// Allow equality.
        or_equal: bool,
        /// Rows skipped.
        ignore_row_if: IgnoreRowIf,
    },
    /// `expect_column_pair_values_to_be_functionally_dependent`: each A has one B.
    FunctionallyDependent {
        /// The determining column.
        column_a: String,
        /// The determined column.
        column_b: String,
    },
    /// `expect_metric_values_to_reconcile`: sum(left) = sum(right) over run metrics.
    Reconcile {
        /// Metrics of the left side.
        left: Vec<String>,
        /// Metrics of the right side.
        right: Vec<String>,
    },
    /// `expect_column_value_lengths_to_equal` (lengths in characters).
    ValueLengthsEqual {
        /// The column.
        column: String,
        /// The length every value has.
        value: u64,
    },
    /// `expect_column_to_exist`: the table has the column (at `column_index`, 0-based,
    /// when given). The column is not read, and need not exist for the suite to bind.
    ColumnToExist {
        /// The column.
        column: String,
        /// Its position, 0-based.
        column_index: Option<u64>,
    },
    /// `expect_column_values_to_be_increasing` / `…_decreasing`: each value against the
    /// row before it, in the table's order.
    Monotonic {
        /// The column.
        column: String,
        /// Decreasing rather than increasing.
        decreasing: bool,
        /// Equal neighbours are unexpected.
        strictly: bool,
    },
    /// `expect_column_values_to_match_strftime_format`.
    MatchStrftime {
        /// The column.
        column: String,
        /// The format, in strftime notation.
        strftime_format: String,
    },
    /// `expect_column_pair_values_to_be_equal`.
    PairEqual {
        /// Column A.
        column_a: String,
        /// Column B.
        column_b: String,
        /// Which rows to skip.
        ignore_row_if: IgnoreRowIf,
    },
    /// `expect_column_pair_values_to_be_in_set`.
    PairInSet {
        /// Column A.
        column_a: String,
        /// Column B.
        column_b: String,
        /// The allowed (A, B) pairs; a null side matches only a null.
        value_pairs_set: Vec<(Option<SetValue>, Option<SetValue>)>,
        /// Which rows to skip.
        ignore_row_if: IgnoreRowIf,
    },
    /// `expect_select_column_values_to_be_unique_within_record`.
    UniqueWithinRecord {
        /// The columns.
        column_list: Vec<String>,
        /// Which records to skip.
        ignore_row_if: IgnoreRecordIf,
    },
    /// `expect_multicolumn_sum_to_equal`.
    MulticolumnSumEqual {
        /// The columns.
        column_list: Vec<String>,
        /// The sum each record must have.
        sum_total: Bound,
        /// Which records to skip.
        ignore_row_if: IgnoreRecordIf,
    },
    /// `expect_column_quantile_values_to_be_between`.
    QuantilesBetween {
        /// The column.
        column: String,
        /// The quantiles and their ranges.
        quantile_ranges: QuantileRanges,
    },
    /// `expect_column_{min,max,mean,median,sum,stdev}_to_be_between`.
    StatisticBetween {
        /// The column.
        column: String,
        /// Which statistic.
        statistic: Statistic,
        /// Lower bound.
        min_value: Option<Bound>,
        /// Upper bound.
        max_value: Option<Bound>,
        /// Exclude the lower bound.
        strict_min: bool,
        /// Exclude the upper bound.
        strict_max: bool,
    },
    /// `expect_column_unique_value_count_to_be_between`: distinct non-null values.
    UniqueValueCountBetween {
        /// The column.
        column: String,
        /// The fewest allowed.
        min_value: Option<u64>,
        /// The most allowed.
        max_value: Option<u64>,
    },
    /// `expect_column_proportion_of_unique_values_to_be_between`: distinct over non-null.
    UniqueProportionBetween {
        /// The column.
        column: String,
        /// Lower bound (0 to 1).
        min_value: Option<Bound>,
        /// Upper bound (0 to 1).
        max_value: Option<Bound>,
        /// Exclude the lower bound.
        strict_min: bool,
        /// Exclude the upper bound.
        strict_max: bool,
    },
    /// `expect_column_distinct_values_to_be_in_set`, `…_to_contain_set`, `…_to_equal_set`.
    DistinctValues {
        /// The column.
        column: String,
        /// The set.
        value_set: Vec<SetValue>,
        /// How the distinct values relate to it.
        relation: SetRelation,
    },
    /// `expect_column_most_common_value_to_be_in_set`.
    MostCommonValueInSet {
        /// The column.
        column: String,
        /// The set.
        value_set: Vec<SetValue>,
        /// Whether a tie passes when one of the tied values is in the set.
        ties_okay: bool,
    },
    /// `expect_table_column_count_to_be_between`.
    ColumnCountBetween {
        /// The fewest columns allowed.
        min_value: Option<u64>,
        /// The most columns allowed.
        max_value: Option<u64>,
    },
    /// `expect_table_column_count_to_equal`.
    ColumnCountEqual {
        /// The number of columns.
        value: u64,
    },
    /// `expect_table_columns_to_match_ordered_list`.
    ColumnsMatchOrderedList {
        /// The columns, in order.
        column_list: Vec<String>,
    },
    /// `expect_table_row_count_to_equal`.
    RowCountEqual {
        /// The number of rows.
        value: u64,
    },
    /// `expect_table_row_count_to_equal_other_table`.
    RowCountEqualOtherTable {
        /// The other table.
        other_table: String,
    },
    /// `expect_column_values_to_be_json_parseable`.
    JsonParseable {
        /// The column.
        column: String,
    },
    /// `expect_column_values_to_match_json_schema`.
    MatchJsonSchema {
        /// The column.
        column: String,
        /// The compiled schema.
        schema: CompiledJsonSchema,
    },
    /// `expect_column_value_z_scores_to_be_less_than`.
    ZScoresLessThan {
        /// The column.
        column: String,
        /// The z-score each value stays below.
        threshold: f64,
        /// Compare |z| rather than z.
        double_sided: bool,
    },
    /// `expect_column_values_to_be_null`: every value present is unexpected.
    BeNull {
        /// The column.
        column: String,
    },
    /// `expect_column_proportion_of_non_null_values_to_be_between`: non-null over rows.
    NonNullProportionBetween {
        /// The column.
        column: String,
        /// Lower bound (0 to 1).
        min_value: Option<Bound>,
        /// Upper bound (0 to 1).
        max_value: Option<Bound>,
        /// Exclude the lower bound.
        strict_min: bool,
        /// Exclude the upper bound.
        strict_max: bool,
    },
    /// `expect_table_row_count_to_be_within_percent_of_history`: the row count within
    /// `percent` of the mean of the last `last_runs` runs' row counts.
    RowCountWithinPercentOfHistory {
        /// How far from the mean, in percent of it.
        percent: f64,
        /// How many earlier runs the mean is over (the most).
        last_runs: u64,
        /// How many earlier runs it needs; with fewer it passes, saying so.
        min_runs: u64,
    },
    /// `expect_metric_to_be_within_stdevs_of_history`: a metric within `stdevs` sample
    /// standard deviations of the mean of its values in the last `last_runs` runs.
    MetricWithinStdevsOfHistory {
        /// The metric.
        metric: crate::history::HistoryMetric,
        /// How many standard deviations from the mean.
        stdevs: f64,
        /// How many earlier runs (the most).
        last_runs: u64,
        /// How many earlier runs it needs (at least 2); with fewer it passes, saying so.
        min_runs: u64,
    },
    /// `expect_column_newest_value_to_be_within_age`: the newest instant of the column is
    /// at most `max_age` before the run's time (freshness).
    NewestWithinAge {
        /// The column (timestamps or dates).
        column: String,
        /// The oldest the newest value may be, in microseconds.
        max_age_micros: i64,
        /// `max_age` as written.
        max_age: String,
    },
}

impl ExpectationKind {
    /// The Great Expectations style name of the type.
    pub fn name(&self) -> &'static str {
        match self {
            ExpectationKind::NotNull { .. } => "expect_column_values_to_not_be_null",
            ExpectationKind::ValueLengthsBetween { .. } => {
                "expect_column_value_lengths_to_be_between"
            }
            ExpectationKind::OfType { .. } => "expect_column_values_to_be_of_type",
            ExpectationKind::InSet { .. } => "expect_column_values_to_be_in_set",
            ExpectationKind::NotInSet { .. } => "expect_column_values_to_not_be_in_set",
            ExpectationKind::Between { .. } => "expect_column_values_to_be_between",
            ExpectationKind::Unique { .. } => "expect_column_values_to_be_unique",
            ExpectationKind::CompoundUnique { .. } => "expect_compound_columns_to_be_unique",
            ExpectationKind::MatchRegex { .. } => "expect_column_values_to_match_regex",
            ExpectationKind::NotMatchRegex { .. } => "expect_column_values_to_not_match_regex",
            ExpectationKind::MatchRegexList { .. } => "expect_column_values_to_match_regex_list",
            ExpectationKind::NotMatchRegexList { .. } => {
                "expect_column_values_to_not_match_regex_list"
            }
            ExpectationKind::RowCountBetween { .. } => "expect_table_row_count_to_be_between",
            ExpectationKind::ColumnsMatchSet { .. } => "expect_table_columns_to_match_set",
            ExpectationKind::InOtherTable { .. } => "expect_column_values_to_be_in_other_table",
            ExpectationKind::AGreaterThanB { .. } => {
                "expect_column_pair_values_a_to_be_greater_than_b"
            }
            ExpectationKind::FunctionallyDependent { .. } => {
                "expect_column_pair_values_to_be_functionally_dependent"
            }
            ExpectationKind::Reconcile { .. } => "expect_metric_values_to_reconcile",
            ExpectationKind::StatisticBetween { statistic, .. } => statistic.expectation_name(),
            ExpectationKind::ValueLengthsEqual { .. } => "expect_column_value_lengths_to_equal",
            ExpectationKind::ColumnToExist { .. } => "expect_column_to_exist",
            ExpectationKind::Monotonic { decreasing, .. } => {
                if *decreasing {
                    "expect_column_values_to_be_decreasing"
                } else {
                    "expect_column_values_to_be_increasing"
                }
            }
            ExpectationKind::MatchStrftime { .. } => {
                "expect_column_values_to_match_strftime_format"
            }
            ExpectationKind::PairEqual { .. } => "expect_column_pair_values_to_be_equal",
            ExpectationKind::PairInSet { .. } => "expect_column_pair_values_to_be_in_set",
            ExpectationKind::UniqueWithinRecord { .. } => {
                "expect_select_column_values_to_be_unique_within_record"
            }
            ExpectationKind::MulticolumnSumEqual { .. } => "expect_multicolumn_sum_to_equal",
            ExpectationKind::QuantilesBetween { .. } => {
                "expect_column_quantile_values_to_be_between"
            }
            ExpectationKind::UniqueValueCountBetween { .. } => {
                "expect_column_unique_value_count_to_be_between"
            }
            ExpectationKind::UniqueProportionBetween { .. } => {
                "expect_column_proportion_of_unique_values_to_be_between"
            }
            ExpectationKind::DistinctValues { relation, .. } => match relation {
                SetRelation::InSet => "expect_column_distinct_values_to_be_in_set",
                SetRelation::ContainSet => "expect_column_distinct_values_to_contain_set",
                SetRelation::EqualSet => "expect_column_distinct_values_to_equal_set",
            },
            ExpectationKind::MostCommonValueInSet { .. } => {
                "expect_column_most_common_value_to_be_in_set"
            }
            ExpectationKind::ColumnCountBetween { .. } => "expect_table_column_count_to_be_between",
            ExpectationKind::ColumnCountEqual { .. } => "expect_table_column_count_to_equal",
            ExpectationKind::ColumnsMatchOrderedList { .. } => {
                "expect_table_columns_to_match_ordered_list"
            }
            ExpectationKind::RowCountEqual { .. } => "expect_table_row_count_to_equal",
            ExpectationKind::RowCountEqualOtherTable { .. } => {
                "expect_table_row_count_to_equal_other_table"
            }
            ExpectationKind::BeNull { .. } => "expect_column_values_to_be_null",
            ExpectationKind::JsonParseable { .. } => "expect_column_values_to_be_json_parseable",
            ExpectationKind::MatchJsonSchema { .. } => "expect_column_values_to_match_json_schema",
            ExpectationKind::ZScoresLessThan { .. } => {
                "expect_column_value_z_scores_to_be_less_than"
            }
            ExpectationKind::NonNullProportionBetween { .. } => {
                "expect_column_proportion_of_non_null_values_to_be_between"
            }
            ExpectationKind::RowCountWithinPercentOfHistory { .. } => {
                "expect_table_row_count_to_be_within_percent_of_history"
            }
            ExpectationKind::MetricWithinStdevsOfHistory { .. } => {
                "expect_metric_to_be_within_stdevs_of_history"
            }
            ExpectationKind::NewestWithinAge { .. } => {
                "expect_column_newest_value_to_be_within_age"
            }
        }
    }

    /// Whether it compares the run with earlier runs' metrics.
    pub fn is_history(&self) -> bool {
        matches!(
            self,
            ExpectationKind::RowCountWithinPercentOfHistory { .. }
                | ExpectationKind::MetricWithinStdevsOfHistory { .. }
        )
    }

    /// The columns of the expectation's own table that it reads, in parameter order.
    pub fn columns(&self) -> Vec<&str> {
        match self {
            ExpectationKind::NotNull { column }
            | ExpectationKind::ValueLengthsBetween { column, .. }
            | ExpectationKind::OfType { column, .. }
            | ExpectationKind::InSet { column, .. }
            | ExpectationKind::NotInSet { column, .. }
            | ExpectationKind::Between { column, .. }
            | ExpectationKind::Unique { column }
            | ExpectationKind::MatchRegex { column, .. }
            | ExpectationKind::NotMatchRegex { column, .. }
            | ExpectationKind::MatchRegexList { column, .. }
            | ExpectationKind::NotMatchRegexList { column, .. }
            | ExpectationKind::InOtherTable { column, .. }
            | ExpectationKind::StatisticBetween { column, .. }
            | ExpectationKind::Monotonic { column, .. }
            | ExpectationKind::ValueLengthsEqual { column, .. }
            | ExpectationKind::MatchStrftime { column, .. }
            | ExpectationKind::QuantilesBetween { column, .. }
            | ExpectationKind::UniqueValueCountBetween { column, .. }
            | ExpectationKind::UniqueProportionBetween { column, .. }
            | ExpectationKind::DistinctValues { column, .. }
            | ExpectationKind::MostCommonValueInSet { column, .. }
            | ExpectationKind::NewestWithinAge { column, .. }
            | ExpectationKind::BeNull { column }
            | ExpectationKind::JsonParseable { column }
            | ExpectationKind::MatchJsonSchema { column, .. }
            | ExpectationKind::ZScoresLessThan { column, .. }
            | ExpectationKind::NonNullProportionBetween { column, .. } => vec![column],
            ExpectationKind::MetricWithinStdevsOfHistory { metric, .. } => {
                metric.column().into_iter().collect()
            }
            ExpectationKind::CompoundUnique { column_list }
            | ExpectationKind::UniqueWithinRecord { column_list, .. }
            | ExpectationKind::MulticolumnSumEqual { column_list, .. } => {
                column_list.iter().map(String::as_str).collect()
            }
            ExpectationKind::AGreaterThanB {
                column_a, column_b, ..
            }
            | ExpectationKind::PairEqual {
                column_a, column_b, ..
            }
            | ExpectationKind::PairInSet {
                column_a, column_b, ..
            }
            | ExpectationKind::FunctionallyDependent { column_a, column_b } => {
                vec![column_a, column_b]
            }
            ExpectationKind::RowCountBetween { .. }
            | ExpectationKind::ColumnsMatchSet { .. }
            | ExpectationKind::Reconcile { .. }
            | ExpectationKind::ColumnCountBetween { .. }
            | ExpectationKind::ColumnCountEqual { .. }
            | ExpectationKind::ColumnsMatchOrderedList { .. }
            | ExpectationKind::RowCountEqual { .. }
            | ExpectationKind::RowCountEqualOtherTable { .. }
            | ExpectationKind::RowCountWithinPercentOfHistory { .. }
            | ExpectationKind::ColumnToExist { .. } => Vec::new(),
        }
    }

    /// Column references with the parameter path naming each, for located errors.
    fn column_refs(&self) -> Vec<(Vec<Seg>, &str)> {
        match self {
            ExpectationKind::CompoundUnique { column_list }
            | ExpectationKind::UniqueWithinRecord { column_list, .. }
            | ExpectationKind::MulticolumnSumEqual { column_list, .. } => column_list
                .iter()
                .enumerate()
                .map(|(i, c)| (doc_path!["column_list", i].to_vec(), c.as_str()))
                .collect(),
            ExpectationKind::AGreaterThanB {
                column_a, column_b, ..
            }
            | ExpectationKind::PairEqual {
                column_a, column_b, ..
            }
            | ExpectationKind::PairInSet {
                column_a, column_b, ..
            }
            | ExpectationKind::FunctionallyDependent { column_a, column_b } => vec![
                (doc_path!["column_A"].to_vec(), column_a.as_str()),
                (doc_path!["column_B"].to_vec(), column_b.as_str()),
            ],
            _ => self
                .columns()
                .into_iter()
                .map(|c| (doc_path!["column"].to_vec(), c))
                .collect(),
        }
    }
}

/// One expectation of a suite.
#[derive(Debug, Clone)]
pub struct Expectation {
    /// Unique within the suite.
    pub id: String,
    /// The table it checks.
    pub table: String,
    /// Its type and parameters.
    pub kind: ExpectationKind,
    /// The rule in words (free text from the suite).
    pub rule: Option<String>,
    /// What a failure means.
    pub severity: Severity,
    /// The fraction of values that must pass; all when absent.
    pub mostly: Option<Mostly>,
    /// Free-form notes from the suite.
    pub meta: Option<Value>,
    /// How much of its result is reported (its own `result_format`, else the suite's).
    pub result_format: ResultFormat,
    /// Position in the table's list, to locate errors.
    index: usize,
}

impl Expectation {
    /// The expectation type's name.
    pub fn name(&self) -> &'static str {
        self.kind.name()
    }

    /// The path of this expectation (plus `rest`) in the suite document.
    fn path(&self, rest: &[Seg]) -> Vec<Seg> {
        let mut p = doc_path!["tables", self.table.as_str(), "expectations", self.index].to_vec();
        p.extend_from_slice(rest);
        p
    }
}

/// The expectations of one table.
#[derive(Debug, Clone)]
pub struct TableExpectations {
    /// The table name.
    pub table: String,
    /// The declared column types (`columns:`), in suite order.
    pub columns: Vec<(String, ColumnType)>,
    /// Its expectations in suite order.
    pub expectations: Vec<Expectation>,
}

/// A loaded, schema-valid suite.
#[derive(Debug, Clone)]
pub struct Suite {
    /// The suite's name (`suite:`).
    pub name: String,
    /// Its description, if any.
    pub description: Option<String>,
    /// Expectations per table, in file order.
    pub tables: Vec<TableExpectations>,
    file: String,
    text: Arc<str>,
}

/// The largest suite file read: suites are hand-written, a few kilobytes each.
pub const MAX_SUITE_BYTES: u64 = 16 << 20;

/// Reads a suite file: a regular file (or a link to one) of at most [`MAX_SUITE_BYTES`].
/// The open does not wait (`O_NONBLOCK`), so a FIFO in a suite's place is refused by
/// name instead of blocking the run.
fn read_suite_file(path: &Path) -> std::io::Result<String> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    if !file.metadata()?.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    let mut text = String::new();
    file.take(MAX_SUITE_BYTES + 1).read_to_string(&mut text)?;
    if text.len() as u64 > MAX_SUITE_BYTES {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("larger than {MAX_SUITE_BYTES} bytes"),
        ));
    }
    Ok(text)
}

impl Suite {
    /// Reads and validates a suite file.
    pub fn load(path: impl AsRef<Path>) -> Result<Suite, SuiteError> {
        let path = path.as_ref();
        let text = read_suite_file(path).map_err(|source| SuiteError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Suite::from_yaml(&text, &path.display().to_string())
    }

    /// Parses and validates a suite from its YAML text; `file_name` is used in errors.
    pub fn from_yaml(text: &str, file_name: &str) -> Result<Suite, SuiteError> {
        load::parse(text, file_name, load::Schema::Check)
    }

    /// Like [`Suite::from_yaml`] for a suite compiled into the program, whose text a test
    /// has checked against the JSON Schema: the check is not repeated. Compiling the schema
    /// is most of the start-up of a small run, and a built-in suite cannot change.
    pub fn from_built_in_yaml(text: &str, file_name: &str) -> Result<Suite, SuiteError> {
        load::parse(text, file_name, load::Schema::Checked)
    }

    /// The file name the suite was loaded from.
    pub fn file_name(&self) -> &str {
        &self.file
    }

    /// The suite's YAML text.
    pub fn source_text(&self) -> &str {
        &self.text
    }

    /// Every expectation, table by table, in file order.
    pub fn expectations(&self) -> impl Iterator<Item = &Expectation> {
        self.tables.iter().flat_map(|t| t.expectations.iter())
    }

    /// The metric names that reconciliations read.
    pub fn metric_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self
            .expectations()
            .filter_map(|e| match &e.kind {
                ExpectationKind::Reconcile { left, right } => Some(left.iter().chain(right)),
                _ => None,
            })
            .flatten()
            .map(String::as_str)
            .collect();
        names.sort_unstable();
        names.dedup();
        names
    }

    fn ctx(&self) -> Ctx<'_> {
        Ctx {
            file: &self.file,
            text: &self.text,
        }
    }

    /// Checks the suite against the data's schemas: every table, column and other
    /// table it names exists, and each column's type suits its expectation. Errors are
    /// located in the suite file.
    pub fn check_columns(&self, schemas: &BTreeMap<String, Schema>) -> Result<(), SuiteError> {
        bind::check_columns(self, schemas)
    }

    /// Refuses data where an expectation needs the values of a column that some chunk
    /// holds unread (see [`crate::Dataset::push_chunk_unread`]); expectations for which
    /// `already_run` holds were run before the columns were dropped.
    pub(crate) fn check_unread(
        &self,
        tables: &BTreeMap<&str, &crate::Dataset>,
        already_run: &dyn Fn(&Expectation) -> bool,
    ) -> Result<(), SuiteError> {
        bind::check_unread(self, tables, already_run)
    }

    /// Checks that every metric a reconciliation names was given.
    pub(crate) fn check_metrics(&self, metrics: &BTreeMap<String, i64>) -> Result<(), SuiteError> {
        bind::check_metrics(self, metrics)
    }
}

/// A suite file (name and text), for building located errors.
struct Ctx<'a> {
    file: &'a str,
    text: &'a Arc<str>,
}

impl Ctx<'_> {
    fn site_at(&self, position: Option<Position>) -> Box<Site> {
        Box::new(Site {
            file: self.file.to_string(),
            text: Arc::clone(self.text),
            position,
        })
    }

    fn site(&self, path: &[Seg], at_key: bool) -> Box<Site> {
        self.site_at(locate(self.text, path, at_key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mostly_is_an_exact_fraction() {
        let m = Mostly::parse("0.95").expect("valid");
        assert!(m.passes(95, 100));
        assert!(!m.passes(94, 100));
        assert!(m.passes(19, 20));
        assert!(m.passes(0, 0), "nothing to check passes");
        let third = Mostly::parse("0.333").expect("valid");
        assert!(third.passes(333, 1000) && !third.passes(332, 1000));
        assert!(Mostly::parse("1").expect("valid").passes(10, 10));
        assert!(!Mostly::parse("1.0").expect("valid").passes(9, 10));
        assert!(Mostly::parse("0").expect("valid").passes(0, 10));
        assert!(Mostly::parse("5e-1").expect("valid").passes(1, 2));
        assert!(Mostly::parse(".5").expect("valid").passes(1, 2));
        for bad in ["1.5", "-0.1", "abc", "", ".", "0.9.1", "1e400"] {
            assert!(Mostly::parse(bad).is_none(), "{bad}");
        }
    }
}
