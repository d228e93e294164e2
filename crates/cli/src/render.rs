//! Writing to the terminal. A closed stdout (`ccc … | head`) or stderr ends the output
//! quietly, never the command: the run goes on to its own exit code, as it would with
//! the output going nowhere.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);

/// A line on stdout; nothing once stdout is closed.
pub fn say(text: &str) {
    if STDOUT_CLOSED.load(Ordering::Relaxed) {
        return;
    }
    if writeln!(std::io::stdout().lock(), "{text}").is_err() {
        STDOUT_CLOSED.store(true, Ordering::Relaxed);
    }
}

/// A line on stderr (warnings, errors); nothing if stderr is closed.
pub fn error(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}
