//! SIGINT and SIGTERM: an interrupted run removes its staging folder (and anything
//! else registered in `ccc_transform::publish::cleanup`) and exits with the shell's
//! code for the signal, 128 + its number (130 for SIGINT, 143 for SIGTERM). The
//! previous output is untouched: a swap in progress is finished first.

use std::io::Write;

use signal_hook::consts::{SIGINT, SIGTERM};

/// Starts a thread that waits for SIGINT or SIGTERM, cleans up and exits.
pub fn clean_up_on_interrupt() {
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) else {
        // Without the handler an interrupt kills the process as before; the next run
        // removes what it left.
        return;
    };
    std::thread::spawn(move || {
        if let Some(signal) = signals.forever().next() {
            let _held = ccc_transform::publish::cleanup::remove_registered();
            let name = if signal == SIGINT {
                "SIGINT"
            } else {
                "SIGTERM"
            };
            // Not `eprintln!`: it panics when stderr is closed (a supervisor that went
            // away), and this thread must reach the exit whatever happens.
            let _ = writeln!(
                std::io::stderr(),
                "ccc: interrupted by {name}: nothing more was published"
            );
            std::process::exit(128 + signal);
        }
    });
}
