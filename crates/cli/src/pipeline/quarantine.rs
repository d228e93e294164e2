//! Linking quarantined rows to the source suite: each fault of an unusable row gets the
//! ids of the failed expectations on its column that catch that kind of fault (a null
//! `orderId` → the not-null check of `orderId`), so the quarantine file says which rule
//! put each row there. And the counts of quarantined rows by reason, for the run report.

use std::collections::BTreeMap;

use ccc_dq::SuiteResult;
use ccc_transform::{FaultKind, QuarantineReason, QuarantinedRow};

/// The expectation type that catches a fault of this kind, if any.
fn catching_expectation(kind: FaultKind) -> Option<&'static str> {
    match kind {
        FaultKind::Null => Some("expect_column_values_to_not_be_null"),
        FaultKind::Invalid(_) => Some("expect_column_values_to_be_of_type"),
        FaultKind::NoSenderRole => Some("expect_column_values_to_be_in_set"),
        FaultKind::NotARecord => None,
    }
}

/// Adds to each fault of `rows` (of source table `table`) the ids of the failed
/// expectations of `result` that it broke.
pub fn link_expectations(rows: &mut [QuarantinedRow], result: &SuiteResult, table: &str) {
    for row in rows {
        let QuarantineReason::Unusable(faults) = &mut row.reason else {
            continue;
        };
        for fault in faults {
            let (Some(column), Some(expectation)) =
                (fault.column, catching_expectation(fault.kind))
            else {
                continue;
            };
            fault.expectations.extend(
                result
                    .results
                    .iter()
                    .filter(|r| !r.success && r.table == table && r.expectation == expectation)
                    .filter(|r| r.column.as_deref() == Some(column))
                    .map(|r| r.id.clone()),
            );
        }
    }
}

/// How many rows were quarantined for each reason, as the quarantine file words it.
pub fn by_reason(rows: &[QuarantinedRow]) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for row in rows {
        *counts.entry(row.reason.to_string()).or_insert(0) += 1;
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::testing::result;
    use ccc_ingest::{FieldType, ProblemKind};
    use ccc_transform::Fault;

    fn row(faults: Vec<(Option<&'static str>, FaultKind)>) -> QuarantinedRow {
        QuarantinedRow {
            batch: 0,
            row: 0,
            reason: QuarantineReason::Unusable(
                faults
                    .into_iter()
                    .map(|(column, kind)| Fault {
                        column,
                        kind,
                        expectations: Vec::new(),
                    })
                    .collect(),
            ),
        }
    }

    #[test]
    fn each_fault_names_the_failed_expectations_of_its_column_and_kind() {
        let suite = SuiteResult::new(
            "source",
            vec![
                result(
                    "oid-not-null",
                    "m",
                    "orderId",
                    "expect_column_values_to_not_be_null",
                    false,
                ),
                result(
                    "time-type",
                    "m",
                    "messageSentTime",
                    "expect_column_values_to_be_of_type",
                    false,
                ),
                // Passed, of another table, or of another column: not named.
                result(
                    "time-not-null",
                    "m",
                    "messageSentTime",
                    "expect_column_values_to_not_be_null",
                    true,
                ),
                result(
                    "other-table",
                    "o",
                    "orderId",
                    "expect_column_values_to_not_be_null",
                    false,
                ),
                result(
                    "role-set",
                    "m",
                    "senderAppType",
                    "expect_column_values_to_be_in_set",
                    false,
                ),
            ],
        );
        let timestamp = FaultKind::Invalid(ProblemKind::TimestampOutOfRange);
        let mut rows = vec![
            row(vec![
                (Some("orderId"), FaultKind::Null),
                (Some("messageSentTime"), timestamp),
            ]),
            row(vec![(Some("senderAppType"), FaultKind::NoSenderRole)]),
            row(vec![(None, FaultKind::NotARecord)]),
            QuarantinedRow {
                batch: 0,
                row: 1,
                reason: QuarantineReason::Orphan,
            },
        ];
        link_expectations(&mut rows, &suite, "m");
        let texts: Vec<String> = rows.iter().map(|r| r.reason.to_string()).collect();
        assert_eq!(
            texts,
            [
                "orderId is null; messageSentTime is a timestamp outside the years 0001-9999 \
                 [expectations: oid-not-null, time-type]",
                "senderAppType names no sender role (courier or customer) [expectations: role-set]",
                "record is not an object",
                "orphan: no order with this orderId",
            ]
        );
        let wrong_type = FaultKind::Invalid(ProblemKind::WrongType {
            expected: FieldType::Int64,
        });
        let counts = by_reason(&[
            row(vec![(Some("x"), wrong_type)]),
            row(vec![(Some("x"), wrong_type)]),
        ]);
        assert_eq!(
            counts.into_iter().collect::<Vec<_>>(),
            [("x is not a valid integer".to_string(), 2)]
        );
    }
}
