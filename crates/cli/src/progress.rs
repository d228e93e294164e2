//! Progress on a terminal (stderr), nothing otherwise: orchestrator logs stay clean.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

/// A progress display for one run; every method is a no-op when hidden.
pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// Shown only when stderr is a terminal and the user did not ask for quiet.
    pub fn new(quiet: bool) -> Self {
        let bar = if quiet || !std::io::stderr().is_terminal() {
            ProgressBar::hidden()
        } else {
            ProgressBar::new(0)
        };
        Self { bar }
    }

    /// Starts a byte-counting bar for reading `total` bytes.
    pub fn start_bytes(&self, message: &'static str, total: u64) {
        self.bar.set_length(total);
        self.bar.set_position(0);
        self.bar.set_style(
            ProgressStyle::with_template(
                "{spinner} {msg:<12} [{bar:30}] {bytes}/{total_bytes} ({eta})",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        self.bar.set_message(message);
    }

    /// Adds to the byte count.
    pub fn add(&self, bytes: u64) {
        self.bar.inc(bytes);
    }

    /// Switches to a spinner with a message for a stage without a size.
    pub fn stage(&self, message: &'static str) {
        self.bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} {elapsed}").expect("valid template"),
        );
        self.bar.set_message(message);
        self.bar.reset_elapsed();
        self.bar
            .enable_steady_tick(std::time::Duration::from_millis(120));
    }

    /// Removes the display.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
