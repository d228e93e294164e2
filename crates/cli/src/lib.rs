//! The ccc pipeline as a library. A run is a sequence of stages, each owned by one
//! module of [`pipeline`] (see docs/architecture.md):
//!
//! ```text
//! settings → read (ingest) → source suite (dq) → transform → output suite (dq) → stage → publish
//! ```
//!
//! A full run and an incremental run are two strategies of the same driver
//! ([`pipeline::run`]); the write, audit and publish steps can also run as separate
//! commands ([`pipeline::run`] with a stage folder, [`pipeline::validate`],
//! [`pipeline::publish`]). The `ccc` binary only parses arguments, calls these and
//! renders what they return.
//!
//! [`generate`] is not a stage: it makes the realistic sources `ccc generate` writes.

pub mod exit;
pub mod files;
pub mod generate;
pub mod heap;
pub mod memory;
pub mod monitoring;
pub mod pipeline;
pub mod progress;
pub mod quality;
pub mod report;
