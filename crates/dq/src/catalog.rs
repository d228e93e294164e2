//! The catalog of expectation types: their names, parameters and parameter types. It
//! generates the suite JSON Schema shipped in `expectations/schema/suite.schema.json`
//! (a test keeps the two equal) and feeds "did you mean" suggestions.

#[cfg(test)]
use serde_json::{json, Map, Value};

/// The type of one expectation parameter, as the schema checks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ParamType {
    /// A column name.
    Column,
    /// A non-empty list of column names.
    ColumnList,
    /// A non-empty string (a table name).
    Name,
    /// A non-empty list of non-empty strings.
    NameList,
    /// `true` or `false`.
    Bool,
    /// An integer ≥ 0.
    Count,
    /// A number, or an RFC 3339 timestamp as a string.
    NumberOrTimestamp,
    /// A non-empty list of strings, numbers or booleans.
    ScalarList,
    /// One of the value type names.
    TypeName,
    /// A regular expression.
    Regex,
    /// A non-empty list of regular expressions.
    RegexList,
    /// Whether a value must match any or all of a list (`any`, `all`).
    MatchOn,
    /// Which rows a column-pair check skips.
    IgnoreRowIf,
    /// Which records a multicolumn check skips.
    IgnoreRecordIf,
    /// A strftime format.
    Strftime,
    /// A non-empty list of `[A, B]` pairs of scalars (or nulls).
    PairList,
    /// `{quantiles: [...], value_ranges: [[min, max], ...]}`.
    QuantileRanges,
    /// A number.
    Number,
    /// A number ≥ 0.
    NonNegative,
    /// A metric a history expectation watches.
    HistoryMetric,
    /// A duration: a number and a unit (`90m`, `26h`, `2d 6h`).
    Duration,
    /// A JSON Schema, as an object.
    JsonSchema,
}

/// One parameter of an expectation.
#[cfg_attr(not(test), allow(dead_code))] // the schema generator runs in tests
#[derive(Debug, Clone, Copy)]
pub(crate) struct Param {
    pub name: &'static str,
    pub ty: ParamType,
    pub required: bool,
    pub doc: &'static str,
}

/// One expectation type.
#[cfg_attr(not(test), allow(dead_code))] // the schema generator runs in tests
#[derive(Debug, Clone, Copy)]
pub(crate) struct Spec {
    pub name: &'static str,
    pub params: &'static [Param],
    /// Whether `mostly` applies (per-row expectations).
    pub mostly: bool,
    /// Whether at least one of `min_value` and `max_value` is required.
    pub min_or_max: bool,
    pub doc: &'static str,
}

const fn req(name: &'static str, ty: ParamType, doc: &'static str) -> Param {
    Param {
        name,
        ty,
        required: true,
        doc,
    }
}

const fn opt(name: &'static str, ty: ParamType, doc: &'static str) -> Param {
    Param {
        name,
        ty,
        required: false,
        doc,
    }
}

const COLUMN: Param = req("column", ParamType::Column, "the column checked");

#[cfg_attr(not(test), allow(dead_code))]
/// The value type names of `expect_column_values_to_be_of_type`.
pub(crate) const TYPE_NAMES: [&str; 5] = ["string", "integer", "numeric", "timestamp", "boolean"];

#[cfg_attr(not(test), allow(dead_code))]
/// The values of `ignore_row_if`.
pub(crate) const IGNORE_ROW_IF: [&str; 3] = [
    "both_values_are_missing",
    "either_value_is_missing",
    "neither",
];

#[cfg_attr(not(test), allow(dead_code))]
/// The values of `ignore_row_if` of multicolumn checks.
pub(crate) const IGNORE_RECORD_IF: [&str; 3] =
    ["all_values_are_missing", "any_value_is_missing", "never"];

#[cfg_attr(not(test), allow(dead_code))]
/// The values of `match_on`.
pub(crate) const MATCH_ON: [&str; 2] = ["any", "all"];

/// The parameters of `expect_column_<statistic>_to_be_between`.
const STATISTIC_PARAMS: &[Param] = &[
    COLUMN,
    opt(
        "min_value",
        ParamType::NumberOrTimestamp,
        "the lower bound: a number, or an RFC 3339 timestamp for an instant's min and max",
    ),
    opt(
        "max_value",
        ParamType::NumberOrTimestamp,
        "the upper bound: a number, or an RFC 3339 timestamp for an instant's min and max",
    ),
    opt(
        "strict_min",
        ParamType::Bool,
        "exclude the lower bound itself (default false)",
    ),
    opt(
        "strict_max",
        ParamType::Bool,
        "exclude the upper bound itself (default false)",
    ),
];

/// The parameters of the proportion expectations.
const PROPORTION_PARAMS: &[Param] = &[
    COLUMN,
    opt(
        "min_value",
        ParamType::NumberOrTimestamp,
        "the smallest proportion allowed, 0 to 1",
    ),
    opt(
        "max_value",
        ParamType::NumberOrTimestamp,
        "the largest proportion allowed, 0 to 1",
    ),
    opt(
        "strict_min",
        ParamType::Bool,
        "exclude the lower bound itself (default false)",
    ),
    opt(
        "strict_max",
        ParamType::Bool,
        "exclude the upper bound itself (default false)",
    ),
];

/// Keys every expectation accepts.
pub(crate) const COMMON_KEYS: [&str; 6] = [
    "id",
    "expectation",
    "rule",
    "severity",
    "meta",
    "result_format",
];

/// Every expectation type, in documentation order.
pub(crate) const CATALOG: &[Spec] = &[
    Spec {
        name: "expect_column_values_to_not_be_null",
        params: &[COLUMN],
        mostly: true,
        min_or_max: false,
        doc: "Values are not null.",
    },
    Spec {
        name: "expect_column_values_to_be_null",
        params: &[COLUMN],
        mostly: true,
        min_or_max: false,
        doc: "Values are null; every value present (one the reader could not parse too) is unexpected.",
    },
    Spec {
        name: "expect_column_value_lengths_to_be_between",
        params: &[
            COLUMN,
            opt("min_value", ParamType::Count, "the smallest length allowed, in characters"),
            opt("max_value", ParamType::Count, "the largest length allowed, in characters"),
        ],
        mostly: true,
        min_or_max: true,
        doc: "Value lengths (in characters) are within bounds; `min_value: 1` means not empty.",
    },
    Spec {
        name: "expect_column_value_lengths_to_equal",
        params: &[
            COLUMN,
            req("value", ParamType::Count, "the length every value has, in characters"),
        ],
        mostly: true,
        min_or_max: false,
        doc: "Every value has this length, in characters.",
    },
    Spec {
        name: "expect_column_values_to_be_of_type",
        params: &[
            COLUMN,
            req("type_", ParamType::TypeName, "string, integer, numeric, timestamp or boolean"),
        ],
        mostly: true,
        min_or_max: false,
        doc: "Values are of a type: the column's own type, or for text values, text that parses as the type.",
    },
    Spec {
        name: "expect_column_values_to_be_in_set",
        params: &[
            COLUMN,
            req("value_set", ParamType::ScalarList, "the values allowed"),
        ],
        mostly: true,
        min_or_max: false,
        doc: "Values are in a set.",
    },
    Spec {
        name: "expect_column_values_to_not_be_in_set",
        params: &[
            COLUMN,
            req("value_set", ParamType::ScalarList, "the values not allowed"),
        ],
        mostly: true,
        min_or_max: false,
        doc: "Values are not in a set.",
    },
    Spec {
        name: "expect_column_values_to_be_between",
        params: &[
            COLUMN,
            opt("min_value", ParamType::NumberOrTimestamp, "the lower bound: a number or an RFC 3339 timestamp"),
            opt("max_value", ParamType::NumberOrTimestamp, "the upper bound: a number or an RFC 3339 timestamp"),
            opt("strict_min", ParamType::Bool, "exclude the lower bound itself (default false)"),
            opt("strict_max", ParamType::Bool, "exclude the upper bound itself (default false)"),
        ],
        mostly: true,
        min_or_max: true,
        doc: "Values are within bounds.",
    },
    Spec {
        name: "expect_column_values_to_be_unique",
        params: &[COLUMN],
        mostly: true,
        min_or_max: false,
        doc: "No value occurs twice; every row of a repeated value is unexpected.",
    },
    Spec {
        name: "expect_compound_columns_to_be_unique",
        params: &[req("column_list", ParamType::ColumnList, "the columns whose combined values are unique")],
        mostly: true,
        min_or_max: false,
        doc: "No combination of values occurs twice.",
    },
    Spec {
        name: "expect_column_values_to_match_regex",
        params: &[
            COLUMN,
            req("regex", ParamType::Regex, "a regular expression (Rust `regex` syntax), matched anywhere in the value unless anchored"),
        ],
        mostly: true,
        min_or_max: false,
        doc: "Values match a regular expression.",
    },
    Spec {
        name: "expect_column_values_to_not_match_regex",
        params: &[
            COLUMN,
            req("regex", ParamType::Regex, "a regular expression (Rust `regex` syntax) that no value may contain a match of (anchor it to match whole values)"),
        ],
        mostly: true,
        min_or_max: false,
        doc: "Values do not match a regular expression.",
    },
    Spec {
        name: "expect_column_values_to_match_regex_list",
        params: &[
            COLUMN,
            req("regex_list", ParamType::RegexList, "regular expressions (Rust `regex` syntax), each matched anywhere in the value unless anchored"),
            opt("match_on", ParamType::MatchOn, "`any` (default): a value matches one of them; `all`: every one"),
        ],
        mostly: true,
        min_or_max: false,
        doc: "Values match any (or all) of a list of regular expressions.",
    },
    Spec {
        name: "expect_column_values_to_not_match_regex_list",
        params: &[
            COLUMN,
            req("regex_list", ParamType::RegexList, "regular expressions (Rust `regex` syntax) of which no value may contain a match"),
        ],
        mostly: true,
        min_or_max: false,
        doc: "Values match none of a list of regular expressions.",
    },
    Spec {
        name: "expect_column_values_to_be_json_parseable",
        params: &[COLUMN],
        mostly: true,
        min_or_max: false,
        doc: "Each value is a JSON text (serde_json's parser, nesting up to 128 levels).",
    },
    Spec {
        name: "expect_column_values_to_match_json_schema",
        params: &[
            COLUMN,
            req("json_schema", ParamType::JsonSchema, "the JSON Schema (draft 2020-12 unless `$schema` says otherwise) each value, parsed as JSON, must match"),
        ],
        mostly: true,
        min_or_max: false,
        doc: "Each value is a JSON text that matches the schema; one that does not parse is unexpected too.",
    },
    Spec {
        name: "expect_column_value_z_scores_to_be_less_than",
        params: &[
            COLUMN,
            req("threshold", ParamType::Number, "the z-score a value must stay below"),
            req("double_sided", ParamType::Bool, "true: |z| < threshold; false: z < threshold"),
        ],
        mostly: true,
        min_or_max: false,
        doc: "Each value's z-score, (value − mean) / sample standard deviation of the column's non-null values, is below the threshold (non-inclusive, as in GX).",
    },
    Spec {
        name: "expect_column_values_to_match_strftime_format",
        params: &[
            COLUMN,
            req("strftime_format", ParamType::Strftime, "the format, in strftime notation (`%Y-%m-%d %H:%M:%S`), matched by the whole value"),
        ],
        mostly: true,
        min_or_max: false,
        doc: "Text values parse with a strftime format.",
    },
    Spec {
        name: "expect_column_values_to_be_increasing",
        params: &[
            COLUMN,
            opt("strictly", ParamType::Bool, "equal neighbours are unexpected (default false)"),
        ],
        mostly: true,
        min_or_max: false,
        doc: "Each value is at least (strictly: more than) the row before it, in the table's order; a row after a null is not compared.",
    },
    Spec {
        name: "expect_column_values_to_be_decreasing",
        params: &[
            COLUMN,
            opt("strictly", ParamType::Bool, "equal neighbours are unexpected (default false)"),
        ],
        mostly: true,
        min_or_max: false,
        doc: "Each value is at most (strictly: less than) the row before it, in the table's order; a row after a null is not compared.",
    },
    Spec {
        name: "expect_table_row_count_to_be_between",
        params: &[
            opt("min_value", ParamType::Count, "the fewest rows allowed"),
            opt("max_value", ParamType::Count, "the most rows allowed"),
        ],
        mostly: false,
        min_or_max: true,
        doc: "The table's row count is within bounds.",
    },
    Spec {
        name: "expect_table_row_count_to_equal",
        params: &[req("value", ParamType::Count, "the number of rows")],
        mostly: false,
        min_or_max: false,
        doc: "The table has exactly this many rows.",
    },
    Spec {
        name: "expect_table_row_count_to_equal_other_table",
        params: &[req("other_table_name", ParamType::Name, "the table whose row count this one equals")],
        mostly: false,
        min_or_max: false,
        doc: "The table has as many rows as another table of the suite.",
    },
    Spec {
        name: "expect_table_column_count_to_be_between",
        params: &[
            opt("min_value", ParamType::Count, "the fewest columns allowed"),
            opt("max_value", ParamType::Count, "the most columns allowed"),
        ],
        mostly: false,
        min_or_max: true,
        doc: "The table's number of columns is within bounds.",
    },
    Spec {
        name: "expect_table_column_count_to_equal",
        params: &[req("value", ParamType::Count, "the number of columns")],
        mostly: false,
        min_or_max: false,
        doc: "The table has exactly this many columns.",
    },
    Spec {
        name: "expect_table_columns_to_match_ordered_list",
        params: &[req("column_list", ParamType::NameList, "the columns, in order")],
        mostly: false,
        min_or_max: false,
        doc: "The table's columns are exactly these, in this order.",
    },
    Spec {
        name: "expect_column_to_exist",
        params: &[
            req("column", ParamType::Column, "the column that must exist"),
            opt("column_index", ParamType::Count, "its position, 0-based (default: anywhere)"),
        ],
        mostly: false,
        min_or_max: false,
        doc: "The table has the column (at `column_index` when given).",
    },
    Spec {
        name: "expect_table_columns_to_match_set",
        params: &[
            req("column_set", ParamType::NameList, "the columns expected"),
            opt("exact_match", ParamType::Bool, "true (default): exactly these columns; false: at least these"),
        ],
        mostly: false,
        min_or_max: false,
        doc: "The table has exactly (or at least) a set of columns.",
    },
    Spec {
        name: "expect_column_min_to_be_between",
        params: STATISTIC_PARAMS,
        mostly: false,
        min_or_max: true,
        doc: "The smallest non-null value (a number or an instant) is within bounds; `observed_value` is it.",
    },
    Spec {
        name: "expect_column_max_to_be_between",
        params: STATISTIC_PARAMS,
        mostly: false,
        min_or_max: true,
        doc: "The largest non-null value (a number or an instant) is within bounds.",
    },
    Spec {
        name: "expect_column_mean_to_be_between",
        params: STATISTIC_PARAMS,
        mostly: false,
        min_or_max: true,
        doc: "The mean of the non-null values is within bounds.",
    },
    Spec {
        name: "expect_column_median_to_be_between",
        params: STATISTIC_PARAMS,
        mostly: false,
        min_or_max: true,
        doc: "The median of the non-null values (the mean of the middle two for an even count), exact, is within bounds.",
    },
    Spec {
        name: "expect_column_sum_to_be_between",
        params: STATISTIC_PARAMS,
        mostly: false,
        min_or_max: true,
        doc: "The sum of the non-null values (0 for none; exact for integers) is within bounds.",
    },
    Spec {
        name: "expect_column_stdev_to_be_between",
        params: STATISTIC_PARAMS,
        mostly: false,
        min_or_max: true,
        doc: "The sample standard deviation (n − 1) of the non-null values is within bounds.",
    },
    Spec {
        name: "expect_column_quantile_values_to_be_between",
        params: &[
            COLUMN,
            req("quantile_ranges", ParamType::QuantileRanges, "quantiles (0 to 1) and a [min, max] range for each (null: open)"),
        ],
        mostly: false,
        min_or_max: false,
        doc: "Each quantile of the non-null values (exact: the value nearest q × (n − 1), as pandas' `nearest`) is within its range.",
    },
    Spec {
        name: "expect_column_proportion_of_non_null_values_to_be_between",
        params: PROPORTION_PARAMS,
        mostly: false,
        min_or_max: true,
        doc: "The share of the rows whose value is not null (0 to 1) is within bounds; an empty table passes vacuously.",
    },
    Spec {
        name: "expect_column_unique_value_count_to_be_between",
        params: &[
            COLUMN,
            opt("min_value", ParamType::Count, "the fewest distinct non-null values allowed"),
            opt("max_value", ParamType::Count, "the most distinct non-null values allowed"),
        ],
        mostly: false,
        min_or_max: true,
        doc: "The number of distinct non-null values is within bounds.",
    },
    Spec {
        name: "expect_column_proportion_of_unique_values_to_be_between",
        params: PROPORTION_PARAMS,
        mostly: false,
        min_or_max: true,
        doc: "Distinct non-null values over non-null values is within bounds.",
    },
    Spec {
        name: "expect_column_distinct_values_to_be_in_set",
        params: &[COLUMN, req("value_set", ParamType::ScalarList, "the values allowed")],
        mostly: false,
        min_or_max: false,
        doc: "Every distinct non-null value is in the set.",
    },
    Spec {
        name: "expect_column_distinct_values_to_contain_set",
        params: &[COLUMN, req("value_set", ParamType::ScalarList, "the values that must occur")],
        mostly: false,
        min_or_max: false,
        doc: "Every value of the set occurs in the column.",
    },
    Spec {
        name: "expect_column_distinct_values_to_equal_set",
        params: &[COLUMN, req("value_set", ParamType::ScalarList, "exactly the distinct values")],
        mostly: false,
        min_or_max: false,
        doc: "The distinct non-null values are exactly the set.",
    },
    Spec {
        name: "expect_column_most_common_value_to_be_in_set",
        params: &[
            COLUMN,
            req("value_set", ParamType::ScalarList, "the values the most common one may be"),
            opt("ties_okay", ParamType::Bool, "with values tied for most common, pass when one of them is in the set (default false: a tie fails)"),
        ],
        mostly: false,
        min_or_max: false,
        doc: "The most frequent non-null value is in the set.",
    },
    Spec {
        name: "expect_column_values_to_be_in_other_table",
        params: &[
            COLUMN,
            req("other_table", ParamType::Name, "the table whose column holds the allowed values"),
            req("other_column", ParamType::Column, "the column of `other_table`"),
        ],
        mostly: true,
        min_or_max: false,
        doc: "Every value occurs in a column of another table (a foreign key).",
    },
    Spec {
        name: "expect_column_pair_values_a_to_be_greater_than_b",
        params: &[
            req("column_A", ParamType::Column, "the column expected to be greater"),
            req("column_B", ParamType::Column, "the column expected to be smaller"),
            opt("or_equal", ParamType::Bool, "allow equal values (default false)"),
            opt("ignore_row_if", ParamType::IgnoreRowIf, "which rows to skip (default either_value_is_missing)"),
        ],
        mostly: true,
        min_or_max: false,
        doc: "In every row, A > B (or A >= B with `or_equal`).",
    },
    Spec {
        name: "expect_column_pair_values_to_be_equal",
        params: &[
            req("column_A", ParamType::Column, "the first column"),
            req("column_B", ParamType::Column, "the second column"),
            opt("ignore_row_if", ParamType::IgnoreRowIf, "which rows to skip (default both_values_are_missing)"),
        ],
        mostly: true,
        min_or_max: false,
        doc: "In every row, A equals B.",
    },
    Spec {
        name: "expect_column_pair_values_to_be_in_set",
        params: &[
            req("column_A", ParamType::Column, "the first column"),
            req("column_B", ParamType::Column, "the second column"),
            req("value_pairs_set", ParamType::PairList, "the allowed [A, B] pairs"),
            opt("ignore_row_if", ParamType::IgnoreRowIf, "which rows to skip (default both_values_are_missing)"),
        ],
        mostly: true,
        min_or_max: false,
        doc: "In every row, (A, B) is one of the pairs.",
    },
    Spec {
        name: "expect_select_column_values_to_be_unique_within_record",
        params: &[
            req("column_list", ParamType::ColumnList, "the columns whose values differ within each record"),
            opt("ignore_row_if", ParamType::IgnoreRecordIf, "which records to skip (default all_values_are_missing)"),
        ],
        mostly: true,
        min_or_max: false,
        doc: "In every record, no two of the columns hold the same value (two nulls are the same).",
    },
    Spec {
        name: "expect_multicolumn_sum_to_equal",
        params: &[
            req("column_list", ParamType::ColumnList, "the numeric columns summed"),
            req("sum_total", ParamType::Number, "the sum of every record"),
            opt("ignore_row_if", ParamType::IgnoreRecordIf, "which records to skip (default all_values_are_missing)"),
        ],
        mostly: true,
        min_or_max: false,
        doc: "In every record, the columns add up to `sum_total`; a null in a record not skipped is unexpected.",
    },
    Spec {
        name: "expect_column_pair_values_to_be_functionally_dependent",
        params: &[
            req("column_A", ParamType::Column, "the determining column"),
            req("column_B", ParamType::Column, "the column determined by column_A"),
        ],
        mostly: true,
        min_or_max: false,
        doc: "Each value of A goes with a single value of B; every row of an A value seen with two B values is unexpected.",
    },
    Spec {
        name: "expect_metric_values_to_reconcile",
        params: &[
            req("left", ParamType::NameList, "metrics whose sum is the left side"),
            req("right", ParamType::NameList, "metrics whose sum is the right side"),
        ],
        mostly: false,
        min_or_max: false,
        doc: "Run metrics given by the caller add up: sum(left) = sum(right).",
    },
    Spec {
        name: "expect_table_row_count_to_be_within_percent_of_history",
        params: &[
            req("percent", ParamType::NonNegative, "how far from the mean of the earlier runs' row counts, in percent of it"),
            opt("last_runs", ParamType::Count, "how many of the latest earlier runs the mean is over (default 5)"),
            opt("min_runs", ParamType::Count, "how many earlier runs it needs; with fewer it passes, saying so (default 1)"),
        ],
        mostly: false,
        min_or_max: false,
        doc: "The row count is within `percent` of the mean row count of the last `last_runs` runs in the history (`--history DIR`); `observed_value` holds the values used.",
    },
    Spec {
        name: "expect_metric_to_be_within_stdevs_of_history",
        params: &[
            req("metric", ParamType::HistoryMetric, "row_count, unexpected_count (of: an expectation id), null_count or a column statistic (column:)"),
            req("stdevs", ParamType::NonNegative, "how many sample standard deviations from the mean of the earlier values"),
            opt("column", ParamType::Column, "the column, for null_count and the statistics"),
            opt("of", ParamType::Name, "the id of the expectation whose unexpected_count is watched"),
            opt("last_runs", ParamType::Count, "how many of the latest earlier runs (default 10)"),
            opt("min_runs", ParamType::Count, "how many earlier runs it needs, at least 2; with fewer it passes, saying so (default 3)"),
        ],
        mostly: false,
        min_or_max: false,
        doc: "The metric is within `stdevs` standard deviations of the mean of its values in the last `last_runs` runs in the history; `observed_value` holds the values used.",
    },
    Spec {
        name: "expect_column_newest_value_to_be_within_age",
        params: &[
            COLUMN,
            req("max_age", ParamType::Duration, "the oldest the newest value may be, before the run's time (`90m`, `26h`, `2d`)"),
        ],
        mostly: false,
        min_or_max: false,
        doc: "Freshness: the newest instant (timestamp or date) is at most `max_age` before the run's time (`--run-time`, default now); an empty column fails.",
    },
];

/// The spec of an expectation name.
pub(crate) fn spec(name: &str) -> Option<&'static Spec> {
    CATALOG.iter().find(|s| s.name == name)
}

/// Every key an expectation of this type accepts.
pub(crate) fn allowed_keys(spec: &Spec) -> Vec<&'static str> {
    let mut keys: Vec<&'static str> = COMMON_KEYS.to_vec();
    if spec.mostly {
        keys.push("mostly");
    }
    keys.extend(spec.params.iter().map(|p| p.name));
    keys
}

#[cfg(test)]
fn param_schema(param: &Param) -> Value {
    let mut schema = match param.ty {
        ParamType::Column | ParamType::Name | ParamType::Regex => {
            json!({"type": "string", "minLength": 1})
        }
        ParamType::ColumnList | ParamType::NameList | ParamType::RegexList => json!({
            "type": "array",
            "minItems": 1,
            "items": {"type": "string", "minLength": 1}
        }),
        ParamType::Bool => json!({"type": "boolean"}),
        ParamType::Count => json!({"type": "integer", "minimum": 0}),
        ParamType::NumberOrTimestamp => json!({"type": ["number", "string"]}),
        ParamType::ScalarList => json!({
            "type": "array",
            "minItems": 1,
            "items": {"type": ["string", "number", "boolean"]}
        }),
        ParamType::TypeName => json!({"enum": TYPE_NAMES}),
        ParamType::IgnoreRowIf => json!({"enum": IGNORE_ROW_IF}),
        ParamType::MatchOn => json!({"enum": MATCH_ON}),
        ParamType::IgnoreRecordIf => json!({"enum": IGNORE_RECORD_IF}),
        ParamType::Strftime => json!({"type": "string", "minLength": 1}),
        ParamType::Number => json!({"type": "number"}),
        ParamType::NonNegative => json!({"type": "number", "minimum": 0}),
        ParamType::HistoryMetric => json!({"enum": crate::history::HistoryMetric::NAMES}),
        ParamType::Duration => json!({"type": "string", "minLength": 1}),
        ParamType::JsonSchema => json!({"type": "object"}),
        ParamType::PairList => json!({
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "array",
                "minItems": 2,
                "maxItems": 2,
                "items": {"type": ["string", "number", "boolean", "null"]}
            }
        }),
        ParamType::QuantileRanges => json!({
            "type": "object",
            "required": ["quantiles", "value_ranges"],
            "additionalProperties": false,
            "properties": {
                "quantiles": {
                    "type": "array",
                    "minItems": 1,
                    "items": {"type": "number", "minimum": 0, "maximum": 1}
                },
                "value_ranges": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "array",
                        "minItems": 2,
                        "maxItems": 2,
                        "items": {"type": ["number", "null"]}
                    }
                }
            }
        }),
    };
    if let Value::Object(map) = &mut schema {
        map.insert("description".into(), Value::String(param.doc.into()));
    }
    schema
}

#[cfg(test)]
fn result_format_schema() -> Value {
    json!({
        "enum": crate::suite::ResultFormat::ALL.map(|f| f.name()),
        "description": "how much of a result is reported: BOOLEAN_ONLY, BASIC, SUMMARY (default) or COMPLETE (every unexpected value)"
    })
}

/// Builds the suite JSON Schema (draft 2020-12) from the catalog.
#[cfg(test)]
pub(crate) fn suite_schema() -> Value {
    let names: Vec<&str> = CATALOG.iter().map(|s| s.name).collect();
    let mut defs = Map::new();
    defs.insert(
        "table".into(),
        json!({
            "type": "object",
            "description": "The expectations of one table.",
            "required": ["expectations"],
            "additionalProperties": false,
            "properties": {
                "expectations": {
                    "type": "array",
                    "items": {"$ref": "#/$defs/expectation"}
                },
                "columns": {
                    "type": "object",
                    "description": "Types of the table's columns where its files are text (CSV, JSON, NDJSON): undeclared text columns are strings; Parquet files carry their own types.",
                    "additionalProperties": {"enum": crate::suite::ColumnType::ALL.map(|t| t.name())}
                }
            }
        }),
    );
    let mut branches = Vec::new();
    for spec in CATALOG {
        let mut properties = Map::new();
        for key in COMMON_KEYS {
            properties.insert(key.into(), Value::Bool(true));
        }
        if spec.mostly {
            properties.insert("mostly".into(), Value::Bool(true));
        }
        let mut required = Vec::new();
        for param in spec.params {
            properties.insert(param.name.into(), param_schema(param));
            if param.required {
                required.push(Value::String(param.name.into()));
            }
        }
        let mut def = json!({
            "description": spec.doc,
            "properties": properties,
            "required": required,
            "additionalProperties": false
        });
        if spec.min_or_max {
            def["anyOf"] = json!([{"required": ["min_value"]}, {"required": ["max_value"]}]);
        }
        defs.insert(spec.name.into(), def);
        branches.push(json!({
            "if": {"properties": {"expectation": {"const": spec.name}}, "required": ["expectation"]},
            "then": {"$ref": format!("#/$defs/{}", spec.name)}
        }));
    }
    defs.insert(
        "expectation".into(),
        json!({
            "type": "object",
            "description": "One expectation: common keys plus the parameters of its type.",
            "required": ["id", "expectation"],
            "properties": {
                "id": {"type": "string", "minLength": 1, "description": "unique within the suite"},
                "expectation": {"enum": names, "description": "the expectation type"},
                "rule": {"type": "string", "description": "the rule in words, shown in reports"},
                "severity": {"enum": ["error", "warn"], "description": "error (default) fails the run; warn is reported"},
                "meta": {"type": "object", "description": "free-form notes carried into the result"},
                "result_format": result_format_schema(),
                "mostly": {"type": "number", "minimum": 0, "maximum": 1, "description": "the fraction of non-null values that must pass"}
            },
            "allOf": branches
        }),
    );
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "ccc expectation suite",
        "description": "A data-quality suite for ccc: expectations per table. Generated from crates/dq/src/catalog.rs; see docs/expectations.md.",
        "type": "object",
        "required": ["suite", "tables"],
        "additionalProperties": false,
        "properties": {
            "suite": {"type": "string", "minLength": 1, "description": "the suite's name"},
            "description": {"type": "string"},
            "meta": {"type": "object"},
            "result_format": result_format_schema(),
            "tables": {
                "type": "object",
                "description": "Expectations per table name.",
                "additionalProperties": {"$ref": "#/$defs/table"}
            }
        },
        "$defs": defs
    })
}

/// Levenshtein distance in characters.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The longest name for which a close candidate is looked for.
const MAX_SUGGESTED_LEN: usize = 256;

/// The closest candidate to `word`, when it is close enough to be a likely typo or an
/// abbreviation (`int` for `integer`).
/// The candidates within a third of `word`'s length of edits (at least 2), nearest first
/// (`word` in lowercase).
fn near<'a>(word: &str, candidates: &[&'a str]) -> Vec<(usize, &'a str)> {
    let length = word.chars().count();
    let limit = (length / 3).max(2);
    let mut found: Vec<(usize, &'a str)> = candidates
        .iter()
        // The distance is at least the difference in length.
        .filter(|c| c.chars().count().abs_diff(length) <= limit)
        .map(|c| (edit_distance(word, &c.to_lowercase()), *c))
        .filter(|(d, _)| *d <= limit)
        .collect();
    found.sort_by_key(|(d, _)| *d);
    found
}

pub(crate) fn closest<'a, I>(word: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    // A name far longer than any candidate is no typo of one, and the distance costs
    // its length times theirs (a 5 MiB name took seconds per candidate).
    if word.len() > MAX_SUGGESTED_LEN {
        return None;
    }
    let word = word.to_lowercase();
    let candidates: Vec<&'a str> = candidates.into_iter().collect();
    let by_distance = near(&word, &candidates).first().map(|(_, c)| *c);
    by_distance.or_else(|| {
        (word.chars().count() >= 3)
            .then(|| {
                candidates
                    .iter()
                    .filter(|c| c.to_lowercase().starts_with(&word))
                    .min_by_key(|c| c.len())
                    .copied()
            })
            .flatten()
    })
}

/// "did you mean `x`?" when a candidate is close, else "expected one of: …" for short
/// lists.
pub(crate) fn suggest<'a, I>(word: &str, candidates: I) -> Option<String>
where
    I: IntoIterator<Item = &'a str> + Clone,
{
    if let Some(best) = closest(word, candidates.clone()) {
        // Two close names can mean opposite things (`…_to_be_null`, `…_to_not_be_null`):
        // both are offered.
        let all: Vec<&str> = candidates.clone().into_iter().collect();
        // …when the second is about as close as the first.
        let second = (word.len() <= MAX_SUGGESTED_LEN)
            .then(|| near(&word.to_lowercase(), &all))
            .and_then(|found| {
                let first = found.first().map_or(0, |(d, _)| *d);
                found
                    .into_iter()
                    .find(|(d, c)| *c != best && *d <= first + 2)
                    .map(|(_, c)| c)
            });
        return Some(match second {
            Some(other) => format!("did you mean `{best}` or `{other}`?"),
            None => format!("did you mean `{best}`?"),
        });
    }
    let all: Vec<&str> = candidates.into_iter().collect();
    if all.is_empty() {
        None
    } else if all.len() <= 12 {
        Some(format!("expected one of: {}", all.join(", ")))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCHEMA_PATH: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../expectations/schema/suite.schema.json"
    );

    /// The shipped schema is the catalog's; `CCC_UPDATE_SCHEMA=1 cargo test -p ccc-dq`
    /// rewrites it after a catalog change.
    #[test]
    fn shipped_schema_matches_the_catalog() {
        let generated = serde_json::to_string_pretty(&suite_schema()).expect("serializable") + "\n";
        if std::env::var_os("CCC_UPDATE_SCHEMA").is_some() {
            std::fs::write(SCHEMA_PATH, &generated).expect("schema written");
        }
        let shipped = std::fs::read_to_string(SCHEMA_PATH).expect("schema file exists");
        assert!(
            shipped == generated,
            "expectations/schema/suite.schema.json is out of date: run CCC_UPDATE_SCHEMA=1 cargo test -p ccc-dq"
        );
    }

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(
            closest(
                "expect_column_values_to_not_be_nul",
                CATALOG.iter().map(|s| s.name)
            ),
            Some("expect_column_values_to_not_be_null")
        );
        // Two names are close, and mean opposite things: both are offered.
        let both = suggest(
            "expect_column_values_to_be_not_null",
            CATALOG.iter().map(|s| s.name),
        )
        .expect("a suggestion");
        assert!(
            both.contains("`expect_column_values_to_not_be_null`")
                && both.contains("`expect_column_values_to_be_null`"),
            "{both}"
        );
        assert_eq!(closest("zzz", ["column", "mostly"]), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        let huge = "x".repeat(5 << 20);
        assert_eq!(closest(&huge, ["expect_column_values_to_be_unique"]), None);
    }

    #[test]
    fn every_spec_has_unique_keys() {
        for spec in CATALOG {
            let keys = allowed_keys(spec);
            let mut sorted = keys.clone();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(keys.len(), sorted.len(), "{}", spec.name);
        }
    }
}
