//! Rows kept out of the table, and why. Nothing is dropped silently: every message that
//! is not aggregated is here, as is every order record that cannot be used. Reasons stay
//! typed (the column, what was wrong with it, the expectations it broke) until the
//! quarantine file or the run report renders them as text.

use std::fmt;

use ccc_ingest::ProblemKind;

/// A row of a source table that is not in the output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuarantinedRow {
    /// Index of the batch in the table's `batches`.
    pub batch: u32,
    /// Row within the batch.
    pub row: u32,
    /// Why.
    pub reason: QuarantineReason,
}

/// Why a row is not in the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuarantineReason {
    /// Fields that make the row unusable, in the order they were checked.
    Unusable(Vec<Fault>),
    /// A usable message whose order is not in the orders table.
    Orphan,
}

/// One field that makes a row unusable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// The source column (for [`FaultKind::NotARecord`], none: the record as a whole).
    pub column: Option<&'static str>,
    /// What is wrong with it.
    pub kind: FaultKind,
    /// Ids of the source suite's expectations that failed on this field (filled in by
    /// whoever ran the suite; empty when no suite ran).
    pub expectations: Vec<String>,
}

/// What is wrong with a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// Missing or null in the source.
    Null,
    /// There, but its value does not fit the column's type.
    Invalid(ProblemKind),
    /// `senderAppType` is there but names neither a courier nor a customer app.
    NoSenderRole,
    /// The record is not an object (JSON) at all.
    NotARecord,
}

/// Builds an unusable row's faults, in the order the checks find them.
#[derive(Debug, Default)]
pub(crate) struct Faults(Vec<Fault>);

impl Faults {
    fn push(&mut self, column: Option<&'static str>, kind: FaultKind) {
        self.0.push(Fault {
            column,
            kind,
            expectations: Vec::new(),
        });
    }

    /// A required field is null: because it was missing or null (no problem), or because
    /// its value did not fit (the problem says how).
    pub(crate) fn add(&mut self, column: &'static str, problem: Option<ProblemKind>) {
        let kind = problem.map_or(FaultKind::Null, FaultKind::Invalid);
        self.push(Some(column), kind);
    }

    pub(crate) fn add_no_role(&mut self, column: &'static str) {
        self.push(Some(column), FaultKind::NoSenderRole);
    }

    pub(crate) fn add_not_a_record(&mut self) {
        self.push(None, FaultKind::NotARecord);
    }

    pub(crate) fn into_reason(self) -> QuarantineReason {
        QuarantineReason::Unusable(self.0)
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let column = self.column.unwrap_or("record");
        match self.kind {
            FaultKind::Null => write!(f, "{column} is null"),
            FaultKind::Invalid(kind) => write!(f, "{column} is {kind}"),
            FaultKind::NoSenderRole => {
                write!(f, "{column} names no sender role (courier or customer)")
            }
            FaultKind::NotARecord => f.write_str("record is not an object"),
        }
    }
}

/// The text of the quarantine file's `_reason` column: the faults joined by `; `, then
/// the expectations they broke, e.g. `orderId is null [expectations: messages-orderId-not-null]`.
impl fmt::Display for QuarantineReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let faults = match self {
            QuarantineReason::Orphan => return f.write_str("orphan: no order with this orderId"),
            QuarantineReason::Unusable(faults) => faults,
        };
        for (i, fault) in faults.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{fault}")?;
        }
        let mut ids = faults.iter().flat_map(|f| &f.expectations).peekable();
        if ids.peek().is_some() {
            f.write_str(" [expectations: ")?;
            for (i, id) in ids.enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                f.write_str(id)?;
            }
            f.write_str("]")?;
        }
        Ok(())
    }
}

/// All quarantined rows of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Quarantine {
    /// Unusable messages (no usable order id, time or sender role).
    pub messages: Vec<QuarantinedRow>,
    /// Usable messages whose order is unknown.
    pub orphans: Vec<QuarantinedRow>,
    /// Unusable order records.
    pub orders: Vec<QuarantinedRow>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_read_as_the_quarantine_file_writes_them() {
        let mut faults = Faults::default();
        faults.add("orderId", None);
        faults.add(
            "messageSentTime",
            Some(ProblemKind::WrongType {
                expected: ccc_ingest::FieldType::Timestamp,
            }),
        );
        faults.add_no_role("senderAppType");
        let mut reason = faults.into_reason();
        assert_eq!(
            reason.to_string(),
            "orderId is null; messageSentTime is not a valid timestamp; \
             senderAppType names no sender role (courier or customer)"
        );
        if let QuarantineReason::Unusable(faults) = &mut reason {
            faults[0].expectations.push("a".into());
            faults[2].expectations.push("b".into());
        }
        assert_eq!(
            reason.to_string(),
            "orderId is null; messageSentTime is not a valid timestamp; \
             senderAppType names no sender role (courier or customer) [expectations: a, b]"
        );
        assert_eq!(
            QuarantineReason::Orphan.to_string(),
            "orphan: no order with this orderId"
        );
    }
}
