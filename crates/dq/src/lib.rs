//! `ccc-dq`: a generic data-quality engine. It runs a suite of expectations, written in
//! YAML with Great Expectations' names and parameters, over named Arrow columns, and
//! knows nothing of the tables it checks.
//!
//! - [`Suite`] loads a YAML suite, validates it against the JSON Schema shipped in
//!   `expectations/schema/suite.schema.json`, and reports mistakes as [`SuiteError`]s
//!   located by file, line and column.
//! - [`Dataset`] is a named table: arrow2 chunks, the schema, where each row came from
//!   ([`ChunkOrigin`], or a key column) and the values the reader could not parse
//!   ([`TypeProblem`]).
//! - [`validate`] binds a suite to datasets and evaluates it, in parallel, into a
//!   [`SuiteResult`] of [`ExpectationResult`]s with Great Expectations' SUMMARY fields.
//! - [`RowChecks`] runs a table's row-local expectations on each chunk as a reader
//!   produces it, and [`validate_prechecked`] folds those tallies into the results, so a
//!   reader can drop what only they needed ([`Suite::columns_needing_values`] and
//!   [`decided_by_presence`] tell a reader what it need not read at all).
//!
//! Value checks skip nulls (they count as `missing_count`); only not-null counts them.
//! `mostly` is compared exactly, as a decimal fraction. `docs/expectations.md` lists
//! every expectation type.
//!
//! ```
//! use std::collections::BTreeMap;
//! use arrow2::array::Utf8Array;
//! use arrow2::chunk::Chunk;
//! use arrow2::datatypes::{DataType, Field, Schema};
//! use ccc_dq::{validate, ChunkOrigin, Dataset, Options, Suite};
//!
//! let suite = Suite::from_yaml(
//!     r#"
//! suite: demo
//! tables:
//!   orders:
//!     expectations:
//!       - id: city-known
//!         expectation: expect_column_values_to_be_in_set
//!         column: cityCode
//!         value_set: [BCN, MAD]
//!         rule: Should be in expected values
//! "#,
//!     "demo.yaml",
//! )?;
//! let schema = Schema::from(vec![Field::new("cityCode", DataType::Utf8, true)]);
//! let mut orders = Dataset::new("orders", schema);
//! let cities = Utf8Array::<i32>::from([Some("BCN"), Some("XXX"), None]);
//! orders.push_chunk(Chunk::new(vec![cities.boxed()]), ChunkOrigin::source("orders.json", 1, None))?;
//!
//! let result = validate(&suite, &[&orders], &BTreeMap::new(), &Options::default())?;
//! assert!(!result.success);
//! let r = &result.results[0];
//! assert_eq!((r.element_count, r.missing_count, r.unexpected_count), (3, 1, 1));
//! assert_eq!(r.partial_unexpected[0].value.as_deref(), Some("XXX"));
//! println!("{}", result.to_json());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![deny(missing_docs)]

mod catalog;
mod checks;
mod dataset;
mod engine;
mod error;
pub mod history;
mod position;
mod presence;
pub mod profile;
mod result;
mod streaming;
mod suite;
pub mod time;
mod types;

pub use dataset::{ChunkOrigin, Dataset, DatasetError, Location, RecordLines, TypeProblem};
pub use engine::{validate, validate_prechecked, Options};
pub use error::{Position, Site, SuiteError};
pub use history::{History, HistoryMetric, MetricKey, MetricPoint, PastRun};
pub use presence::decided_by_presence;
pub use result::{
    ExpectationResult, Statistics, SuiteOrigin, SuiteResult, UnexpectedValue, MAX_VALUE_BYTES,
};
pub use streaming::{ChunkTallies, RowChecks};
pub use suite::{
    suite_schema_text, Bound, ColumnType, Expectation, ExpectationKind, IgnoreRecordIf,
    IgnoreRowIf, MatchOn, Mostly, QuantileRanges, ResultFormat, SetRelation, SetValue, Severity,
    Statistic, Suite, TableExpectations, ValueType, MAX_NESTING, MAX_SUITE_BYTES,
    SUITE_SCHEMA_PATH,
};

/// The names of every expectation type the engine knows, in documentation order.
pub fn expectation_names() -> impl Iterator<Item = &'static str> {
    catalog::CATALOG.iter().map(|s| s.name)
}
