//! A table's profile, for a report to look at: per column its type, nulls, distinct
//! values and, for numbers and instants, a histogram of a bounded number of bins; per
//! table its row count and, from the history, the row counts of earlier runs. Computed
//! on request ([`crate::Options::profile`]); the figures are exact.

use arrow2::datatypes::DataType;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::checks::{aggregate, Run};
use crate::dataset::Dataset;
use crate::history::PastValue;
use crate::result::percent;
use crate::types::{classify, ColumnClass};

/// The most bins a histogram has: a report stays small whatever the table's size.
pub const MAX_BINS: usize = 20;

/// One table's profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableProfile {
    /// The table.
    pub table: String,
    /// Its rows.
    pub row_count: u64,
    /// The row counts of the suite's earlier runs in the history, oldest first.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub row_count_history: Vec<PastValue>,
    /// Its columns, in schema order.
    pub columns: Vec<ColumnProfile>,
}

/// One column's profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnProfile {
    /// The column.
    pub column: String,
    /// `integer`, `float`, `string`, `boolean`, `timestamp`, `date`, `null` or `other`.
    pub data_type: String,
    /// Its nulls (`None` when its values were not read).
    pub null_count: Option<u64>,
    /// `null_count` over the rows, in percent.
    pub null_percent: Option<f64>,
    /// Distinct non-null values (`None` when not read, or not comparable).
    pub distinct_count: Option<u64>,
    /// Numbers and instants: equal-width bins from the min.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub histogram: Option<Histogram>,
    /// Why the values are not profiled, when they are not.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub not_read: Option<String>,
}

/// Equal-width bins of a column's non-null values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Histogram {
    /// The smallest value (instants as RFC 3339 text).
    pub min: Value,
    /// The largest value.
    pub max: Value,
    /// The bins' edges, one more than the bins (instants as text).
    pub edges: Vec<Value>,
    /// The values in each bin.
    pub counts: Vec<u64>,
}

/// The profile of `ds`, with the earlier runs' row counts given.
pub(crate) fn profile(run: Run, ds: &Dataset, row_count_history: Vec<PastValue>) -> TableProfile {
    let columns = (0..ds.schema().fields.len())
        .into_par_iter()
        .map(|c| column_profile(run, ds, c))
        .collect();
    TableProfile {
        table: ds.name().to_string(),
        row_count: ds.row_count() as u64,
        row_count_history,
        columns,
    }
}

fn column_profile(run: Run, ds: &Dataset, col: usize) -> ColumnProfile {
    let field = &ds.schema().fields[col];
    let class = classify(field.data_type());
    let mut profile = ColumnProfile {
        column: field.name.clone(),
        data_type: type_word(field.data_type(), class).to_string(),
        null_count: None,
        null_percent: None,
        distinct_count: None,
        histogram: None,
        not_read: None,
    };
    if ds.has_unread(col) {
        profile.not_read = Some("no expectation read its values".into());
        return profile;
    }
    let nulls: u64 = ds
        .chunks()
        .iter()
        .map(|chunk| chunk.arrays()[col].null_count() as u64)
        .sum();
    profile.null_count = Some(nulls);
    profile.null_percent = percent(nulls, ds.row_count() as u64);
    if class == ColumnClass::Other {
        return profile;
    }
    profile.distinct_count = Some(aggregate::distinct_count(run, ds, col));
    if matches!(
        class,
        ColumnClass::Integer | ColumnClass::Float | ColumnClass::Temporal
    ) {
        profile.histogram = aggregate::histogram(run, ds, col, MAX_BINS).map(|bins| {
            let edge = |k: usize| {
                let at = bins.start + bins.width * k as f64;
                match class {
                    ColumnClass::Temporal => {
                        aggregate::shown(ds, col, aggregate::Number::Int(at.round() as i128))
                    }
                    _ => serde_json::json!(at),
                }
            };
            Histogram {
                min: aggregate::shown(ds, col, bins.min),
                max: aggregate::shown(ds, col, bins.max),
                edges: (0..=bins.counts.len()).map(edge).collect(),
                counts: bins.counts,
            }
        });
    }
    profile
}

fn type_word(data_type: &DataType, class: ColumnClass) -> &'static str {
    match class {
        ColumnClass::Integer => "integer",
        ColumnClass::Float => "float",
        ColumnClass::Text => "string",
        ColumnClass::Boolean => "boolean",
        ColumnClass::Temporal => match data_type.to_logical_type() {
            DataType::Date32 | DataType::Date64 => "date",
            _ => "timestamp",
        },
        ColumnClass::Null => "null",
        ColumnClass::Other => "other",
    }
}

#[cfg(test)]
mod tests {
    use arrow2::array::{Float64Array, Int64Array, PrimitiveArray, Utf8Array};
    use arrow2::chunk::Chunk;
    use arrow2::datatypes::{Field, Schema, TimeUnit};
    use serde_json::json;

    use super::*;
    use crate::dataset::ChunkOrigin;

    const RUN: Run = Run {
        limit: 20,
        parallel: true,
        only_chunk: None,
    };

    fn table() -> Dataset {
        let schema = Schema::from(vec![
            Field::new("n", DataType::Int64, true),
            Field::new("f", DataType::Float64, true),
            Field::new("s", DataType::Utf8, true),
            Field::new(
                "at",
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                true,
            ),
        ]);
        let mut ds = Dataset::new("t", schema);
        for part in [[Some(1), Some(2), None], [Some(2), Some(5), Some(5)]] {
            let at: Vec<Option<i64>> = part.iter().map(|v| v.map(|v| v * 3_600_000_000)).collect();
            let chunk = Chunk::new(vec![
                Int64Array::from(part).boxed(),
                Float64Array::from(part.map(|v| v.map(|v| v as f64 / 2.0))).boxed(),
                Utf8Array::<i32>::from(part.map(|v| v.map(|v| format!("v{v}")))).boxed(),
                PrimitiveArray::<i64>::from(at)
                    .to(DataType::Timestamp(
                        TimeUnit::Microsecond,
                        Some("UTC".into()),
                    ))
                    .boxed(),
            ]);
            ds.push_chunk(chunk, ChunkOrigin::Unknown).unwrap();
        }
        ds
    }

    #[test]
    fn nulls_distinct_values_and_bins() {
        let p = profile(RUN, &table(), Vec::new());
        assert_eq!(p.row_count, 6);
        let n = &p.columns[0];
        assert_eq!(
            (n.data_type.as_str(), n.null_count, n.distinct_count),
            ("integer", Some(1), Some(3))
        );
        assert_eq!(n.null_percent, Some(100.0 / 6.0));
        // Integers 1..=5: one bin per value.
        let h = n.histogram.as_ref().unwrap();
        assert_eq!(h.counts, [1, 2, 0, 0, 2]);
        assert_eq!((&h.min, &h.max), (&json!(1), &json!(5)));
        assert_eq!(h.edges.first(), Some(&json!(1.0)));
        assert_eq!(h.edges.last(), Some(&json!(6.0)));
        // Floats 0.5..=2.5 in 20 bins, the max in the last.
        let f = p.columns[1].histogram.as_ref().unwrap();
        assert_eq!(f.counts.len(), MAX_BINS);
        assert_eq!(f.counts.iter().sum::<u64>(), 5);
        assert_eq!((f.counts[0], f.counts[MAX_BINS - 1]), (1, 2));
        let s = &p.columns[2];
        assert_eq!((s.distinct_count, s.histogram.is_none()), (Some(3), true));
        let at = &p.columns[3];
        assert_eq!(at.data_type, "timestamp");
        let h = at.histogram.as_ref().unwrap();
        assert_eq!(h.min, json!("1970-01-01T01:00:00Z"));
        assert_eq!(h.max, json!("1970-01-01T05:00:00Z"));
        assert_eq!(h.counts.iter().sum::<u64>(), 5);
    }

    #[test]
    fn an_empty_table_has_no_bins() {
        let ds = Dataset::new(
            "t",
            Schema::from(vec![Field::new("n", DataType::Int64, true)]),
        );
        let p = profile(RUN, &ds, Vec::new());
        assert_eq!(p.columns[0].null_count, Some(0));
        assert_eq!(p.columns[0].null_percent, None);
        assert_eq!(p.columns[0].distinct_count, Some(0));
        assert!(p.columns[0].histogram.is_none());
    }
}
