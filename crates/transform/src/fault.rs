//! Fault injection for the crash tests, compiled only with the `fault-injection` feature
//! (the end-to-end tests' build of the binary). A release build has no hooks: nothing in
//! it reads the environment variables below.
//!
//! `CCC_TEST_ABORT_AT=<point>` aborts the process there (no cleanup, like a kill);
//! `CCC_TEST_PAUSE_AT=<point>` prints `paused at <point>` on stderr and sleeps
//! (`CCC_TEST_PAUSE_SECONDS`, default 120) so that a test can send a real signal or
//! start a second run. Points: `publish-mid-write`, `publish-before-swap`,
//! `publish-after-swap`, `state-before-rename`, `state-before-cleanup`,
//! `transform-after-spill` (a run that spills, once every message is read).

/// A point where a crash test can stop the process.
#[cfg(feature = "fault-injection")]
pub fn point(name: &str) {
    if std::env::var_os("CCC_TEST_ABORT_AT").is_some_and(|p| p == name) {
        std::process::abort();
    }
    if std::env::var_os("CCC_TEST_PAUSE_AT").is_some_and(|p| p == name) {
        eprintln!("paused at {name}");
        let seconds = std::env::var("CCC_TEST_PAUSE_SECONDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(120);
        std::thread::sleep(std::time::Duration::from_secs(seconds));
    }
}

/// A point where a crash test could stop the process; without the feature, nothing.
#[cfg(not(feature = "fault-injection"))]
#[inline(always)]
pub fn point(_name: &str) {}
