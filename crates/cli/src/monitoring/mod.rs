//! Monitoring: what a command did, as metrics in the Prometheus text exposition format
//! (`--metrics-file F`), for the node exporter's textfile collector or a push gateway.
//!
//! - [`exposition`]: the text format itself — families, samples, label escaping.
//! - [`metrics`]: a command's run report, suite results and publish, as ccc's metrics.

pub mod exposition;
pub mod metrics;

pub use metrics::CommandMetrics;
