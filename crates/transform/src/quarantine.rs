//! Rows kept out of the table, and why. Nothing is dropped silently: every message that
//! is not aggregated is here, as is every order record that cannot be used. Rows are
//! written back with their original fields as text, the reason, the file and the record.

use std::fmt::Write as _;

use ccc_ingest::ProblemKind;

/// A row of a source table that is not in the output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuarantinedRow {
    /// Index of the batch in the table's `batches`.
    pub batch: u32,
    /// Row within the batch.
    pub row: u32,
    /// Why, in words (several reasons joined by `; `).
    pub reason: String,
}

/// All quarantined rows of a run.
#[derive(Debug, Clone, Default)]
pub struct Quarantine {
    /// Unusable messages (no usable order id, time or sender role).
    pub messages: Vec<QuarantinedRow>,
    /// Usable messages whose order is unknown.
    pub orphans: Vec<QuarantinedRow>,
    /// Unusable order records.
    pub orders: Vec<QuarantinedRow>,
}

/// Builds a reason text from the checks a row failed.
#[derive(Debug, Default)]
pub(crate) struct Reasons(String);

impl Reasons {
    fn push(&mut self, text: &str) {
        if !self.0.is_empty() {
            self.0.push_str("; ");
        }
        self.0.push_str(text);
    }

    /// A required field is null: because it was missing/null, or because its value did
    /// not fit (then the problem says how).
    pub(crate) fn add(&mut self, column: &str, problem: Option<ProblemKind>) {
        let mut text = String::new();
        match problem {
            None => {
                let _ = write!(text, "{column} is null");
            }
            Some(kind) => {
                let _ = write!(text, "{column} is {kind}");
            }
        }
        self.push(&text);
    }

    pub(crate) fn add_no_role(&mut self) {
        self.push("senderAppType names no sender role (courier or customer)");
    }

    pub(crate) fn add_not_a_record(&mut self) {
        self.push("record is not an object");
    }

    pub(crate) fn render(self) -> String {
        self.0
    }
}
