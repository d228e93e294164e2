//! How a JSON value of each simple kind goes into its column builder, and which text a
//! misfit keeps: one set of helpers for the serde visitor and the fast path, so that both
//! read a value alike.

use crate::problems::ProblemKind;
use crate::read::columns::{ColumnBuilder, TableBuilder};
use crate::read::json_fast::{FlatRecord, Scalar};

/// A value that did not fit: its column, what was wrong and the text it had.
pub(super) type Misfit = (usize, ProblemKind, String);

/// What [`FieldSeed`](super::visit::FieldSeed) gives: `Err` with the problem and the
/// value's text when it did not fit.
pub(super) type FieldOutcome = Result<(), (ProblemKind, String)>;

#[inline]
pub(super) fn push_null(column: &mut ColumnBuilder) -> FieldOutcome {
    column.push_null();
    Ok(())
}
#[inline]
pub(super) fn push_bool(column: &mut ColumnBuilder, v: bool) -> FieldOutcome {
    column.push_json_bool(v).map_err(|k| (k, v.to_string()))
}
#[inline]
pub(super) fn push_i64(column: &mut ColumnBuilder, v: i64) -> FieldOutcome {
    column.push_json_i64(v).map_err(|k| (k, v.to_string()))
}
#[inline]
pub(super) fn push_str(column: &mut ColumnBuilder, v: &str) -> FieldOutcome {
    column.push_text(v, true).map_err(|k| (k, v.to_string()))
}

/// Pushes a record read by the fast path: what [`RecordSeed`](super::visit::RecordSeed)
/// does for the same record.
pub(super) fn push_flat(
    builder: &mut TableBuilder,
    misfits: &mut Vec<Misfit>,
    record: &FlatRecord,
) {
    for &(i, value) in record.fields() {
        let column = &mut builder.columns[i];
        let outcome = match value {
            Scalar::Null => push_null(column),
            Scalar::Bool(v) => push_bool(column, v),
            Scalar::Int(v) => push_i64(column, v),
            Scalar::IntNotKept => column
                .push_json_int_not_kept()
                .map_err(|k| (k, String::new())),
            Scalar::Str(v) => push_str(column, v),
        };
        if let Err((kind, raw)) = outcome {
            misfits.push((i, kind, raw));
        }
    }
    for (i, column) in builder.columns.iter_mut().enumerate() {
        if !record.has(i) {
            column.push_null();
        }
    }
}
