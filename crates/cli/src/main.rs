//! `ccc`: customer_courier_conversations, checked. `main` only parses arguments, runs the
//! command and turns its outcome into an exit code; the work is in the `ccc_cli`
//! library (`pipeline`), each command in `commands/` only calls it and renders.

mod args;
mod commands;
mod render;
mod signals;

use ccc_cli::exit::ExitStatus;
use clap::Parser;

#[global_allocator]
static HEAP: ccc_cli::heap::HugePageHeap = ccc_cli::heap::HugePageHeap;

fn main() -> std::process::ExitCode {
    ccc_cli::memory::keep_freed_memory();
    signals::clean_up_on_interrupt();
    // Error lines name files and positions: never wrap them, so they stay greppable in CI logs.
    let _ = miette::set_hook(Box::new(|_| {
        Box::new(miette::MietteHandlerOpts::new().wrap_lines(false).build())
    }));
    let cli = match args::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version are not errors; everything else clap rejects is bad usage.
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    ExitStatus::Success
                }
                _ => ExitStatus::Usage,
            }
            .into();
        }
    };
    match commands::run(cli) {
        Ok(status) => status.into(),
        Err(error) => {
            let status = error.exit_status();
            render::error(&format!("{:?}", miette::Report::new(error)));
            status.into()
        }
    }
}
