//! Checks against earlier runs and the run's time: a metric near the mean of its last
//! values (within a percent of it, or within K standard deviations), and freshness (the
//! newest instant within an age of the run's time). A history too short to judge passes
//! with a note; the values used are always in `observed_value`.

use serde_json::{json, Value};

use super::table::Observed;
use crate::history::{History, MetricKey, PastValue};
use crate::time::format_timestamp_nanos;

/// What the history checks of one suite run compare with.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Earlier<'a> {
    /// The suite's name: its runs are the history.
    pub suite: &'a str,
    /// The earlier runs, if the caller keeps any.
    pub history: Option<&'a History>,
    /// This run's time, in microseconds since the epoch.
    pub run_time: i64,
}

/// How far from the earlier values a metric may be.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Tolerance {
    /// Within this percent of the mean.
    Percent(f64),
    /// Within this many sample standard deviations of the mean.
    Stdevs(f64),
}

/// How many earlier runs a check looks at, and needs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Window {
    pub last_runs: u64,
    pub min_runs: u64,
}

/// `current` of metric `key` against its values in the last runs.
pub(crate) fn near_history(
    earlier: Earlier<'_>,
    key: &MetricKey,
    current: f64,
    tolerance: Tolerance,
    window: Window,
) -> Observed {
    let Some(history) = earlier.history else {
        return noted(
            json!({"metric": key.describe(), "value": current, "history": []}),
            "no history was given to compare with".into(),
        );
    };
    let past = history.recent(
        earlier.suite,
        key,
        earlier.run_time,
        usize::try_from(window.last_runs).unwrap_or(usize::MAX),
    );
    let values: Vec<f64> = past.iter().map(|p| p.value).collect();
    let mut observed =
        json!({"metric": key.describe(), "value": current, "history": past_json(&past)});
    if (values.len() as u64) < window.min_runs {
        let why = format!(
            "the history has {} earlier run{} with the {}; {} {} needed",
            values.len(),
            if values.len() == 1 { "" } else { "s" },
            key.describe(),
            window.min_runs,
            if window.min_runs == 1 { "is" } else { "are" },
        );
        return noted(observed, why);
    }
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    let distance = (current - mean).abs();
    let (success, low, high) = match tolerance {
        // |current − mean| · 100 ≤ percent · |mean|: exact at the boundary for whole counts.
        Tolerance::Percent(percent) => {
            let half = mean.abs() * percent / 100.0;
            (
                distance * 100.0 <= percent * mean.abs(),
                mean - half,
                mean + half,
            )
        }
        Tolerance::Stdevs(k) => {
            let stdev = sample_stdev(&values, mean);
            observed["stdev"] = json!(stdev);
            (distance <= k * stdev, mean - k * stdev, mean + k * stdev)
        }
    };
    observed["mean"] = json!(mean);
    observed["low"] = json!(low);
    observed["high"] = json!(high);
    Observed {
        success,
        unexpected_count: u64::from(!success),
        unexpected_values: Vec::new(),
        observed_value: observed,
        skipped: None,
    }
}

/// The newest instant (`newest`, nanoseconds since the epoch; `None` for an empty
/// column, which fails: nothing is not fresh) at most `max_age_micros` before the run.
pub(crate) fn newest_within_age(
    earlier: Earlier<'_>,
    newest: Option<i128>,
    max_age_micros: i64,
    max_age: &str,
) -> Observed {
    let run_nanos = i128::from(earlier.run_time) * 1000;
    let mut observed = json!({
        "newest": newest.map(format_timestamp_nanos),
        "run_time": format_timestamp_nanos(run_nanos),
        "max_age": max_age,
    });
    let success = match newest {
        Some(newest) => {
            let age = run_nanos - newest;
            observed["age_seconds"] = json!(age as f64 / 1e9);
            age <= i128::from(max_age_micros) * 1000
        }
        None => false,
    };
    Observed {
        success,
        unexpected_count: u64::from(!success),
        unexpected_values: Vec::new(),
        observed_value: observed,
        skipped: None,
    }
}

fn past_json(past: &[PastValue]) -> Value {
    serde_json::to_value(past).expect("past values serialize")
}

fn sample_stdev(values: &[f64], mean: f64) -> f64 {
    if values.len() < 2 {
        return 0.0;
    }
    let squares: f64 = values.iter().map(|v| (v - mean) * (v - mean)).sum();
    (squares / (values.len() - 1) as f64).sqrt()
}

/// A pass with a note: too little history to judge.
fn noted(observed_value: Value, why: String) -> Observed {
    Observed {
        success: true,
        unexpected_count: 0,
        unexpected_values: Vec::new(),
        observed_value,
        skipped: Some(why),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{MetricPoint, PastRun};

    fn history(counts: &[f64]) -> History {
        History::new(
            counts
                .iter()
                .enumerate()
                .map(|(i, &value)| PastRun {
                    run_id: format!("run-{i}"),
                    run_time: i as i64 * 1_000_000,
                    suite: "s".into(),
                    points: vec![MetricPoint {
                        key: MetricKey::table("t", "row_count"),
                        value,
                    }],
                })
                .collect(),
        )
    }

    fn earlier(h: &History) -> Earlier<'_> {
        Earlier {
            suite: "s",
            history: Some(h),
            run_time: 1_000_000_000,
        }
    }

    const WINDOW: Window = Window {
        last_runs: 3,
        min_runs: 1,
    };

    #[test]
    fn percent_of_the_mean_holds_at_its_boundary_and_fails_past_it() {
        let h = history(&[90.0, 100.0, 110.0]);
        let key = MetricKey::table("t", "row_count");
        let at = |v: f64| near_history(earlier(&h), &key, v, Tolerance::Percent(20.0), WINDOW);
        assert!(at(80.0).success && at(120.0).success);
        assert!(!at(79.0).success && !at(121.0).success);
        let o = at(79.0).observed_value;
        assert_eq!(o["mean"], json!(100.0));
        assert_eq!(o["history"][0]["value"], json!(90.0));
        assert_eq!(o["history"][2]["run_id"], json!("run-2"));
    }

    #[test]
    fn only_the_last_runs_and_only_earlier_ones_count() {
        let h = history(&[1000.0, 10.0, 10.0, 10.0]);
        let key = MetricKey::table("t", "row_count");
        let o = near_history(earlier(&h), &key, 10.0, Tolerance::Percent(0.0), WINDOW);
        assert!(o.success, "{}", o.observed_value);
        // A run re-done for an earlier time sees only the runs before it.
        let back = Earlier {
            run_time: 1_500_000,
            ..earlier(&h)
        };
        let o = near_history(back, &key, 505.0, Tolerance::Percent(0.0), WINDOW);
        assert!(o.success && o.observed_value["history"].as_array().unwrap().len() == 2);
    }

    #[test]
    fn stdevs_around_the_mean() {
        // mean 10, sample stdev 2
        let h = history(&[8.0, 10.0, 12.0]);
        let key = MetricKey::table("t", "row_count");
        let at = |v: f64| near_history(earlier(&h), &key, v, Tolerance::Stdevs(1.5), WINDOW);
        assert!(at(13.0).success && at(7.0).success);
        assert!(!at(13.5).success);
        assert_eq!(at(13.5).observed_value["stdev"], json!(2.0));
    }

    #[test]
    fn a_short_or_missing_history_passes_with_a_note() {
        let key = MetricKey::table("t", "row_count");
        let h = history(&[100.0]);
        let window = Window {
            last_runs: 5,
            min_runs: 3,
        };
        let o = near_history(earlier(&h), &key, 1.0, Tolerance::Percent(1.0), window);
        assert!(o.success);
        assert_eq!(
            o.skipped.as_deref(),
            Some("the history has 1 earlier run with the row_count of table t; 3 are needed")
        );
        assert_eq!(o.observed_value["value"], json!(1.0));
        let none = Earlier {
            history: None,
            ..earlier(&h)
        };
        let o = near_history(none, &key, 1.0, Tolerance::Percent(1.0), window);
        assert!(o.success && o.skipped.is_some());
    }

    #[test]
    fn freshness_at_its_boundary() {
        let h = History::default();
        let run = earlier(&h);
        let run_nanos = i128::from(run.run_time) * 1000;
        let hour = 3_600_000_000i64;
        let fresh = newest_within_age(run, Some(run_nanos - i128::from(hour) * 1000), hour, "1h");
        assert!(fresh.success);
        assert_eq!(fresh.observed_value["age_seconds"], json!(3600.0));
        let stale = newest_within_age(
            run,
            Some(run_nanos - i128::from(hour) * 1000 - 1),
            hour,
            "1h",
        );
        assert!(!stale.success);
        assert!(!newest_within_age(run, None, hour, "1h").success);
    }
}
