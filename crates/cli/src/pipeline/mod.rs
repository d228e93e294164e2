//! The stages of a run, one module each, and the driver that runs them in order.
//!
//! - [`settings`]: what a run is asked to do, resolved before any data is read.
//! - [`checks`]: running a suite, recording its verdict, the output suite's run counts.
//! - [`quarantine`]: linking quarantined rows to the source expectations they broke.
//! - [`strategy`]: what a full and an incremental run do differently (plan, read,
//!   transform, write, commit); [`full`] and [`incremental`] are the two strategies.
//! - [`reading`]: the sources read with the source suite's row checks and a fold per batch.
//! - [`run`](run()): the driver — read, source suite, transform, output suite, stage, publish.
//! - [`stage`]: a staged run's folder and its record (`_stage.json`).
//! - [`validate`](validate()): one suite on sources or on a table folder; the audit of a staged folder.
//! - [`audit`]: the audit record (`_audit.json`) and the fingerprint it is checked by.
//! - [`publish`](publish()): a staged folder swapped in as the output (and its state generation).

pub mod audit;
pub mod checks;
mod driver;
pub mod full;
pub mod incremental;
mod publishing;
pub mod quarantine;
mod reading;
pub mod settings;
pub mod stage;
pub mod strategy;
mod tables;
mod validation;

#[cfg(test)]
mod testing;

pub use driver::{run, Outcome};
pub use publishing::{publish, Published};
pub use settings::{ChecksMode, IncrementalSettings, Settings};
pub use validation::{validate, ValidateRequest, ValidateTarget, Validated};
