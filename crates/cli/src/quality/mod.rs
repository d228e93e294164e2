//! Data quality in the CLI: turning our tables into `ccc_dq::Dataset`s, loading suites,
//! and rendering results for people and machines. `ccc_dq` itself knows no table.

pub mod ahead;
pub mod datasets;
pub mod failed_rows;
pub mod history;
pub mod html;
pub mod reports;
pub mod suites;
