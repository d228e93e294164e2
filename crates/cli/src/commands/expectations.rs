//! `ccc expectations --write DIR`: the built-in suites written out for a user to
//! customise and pass back with `--expectations DIR`.

use ccc_cli::exit::{CliError, ExitStatus};
use ccc_cli::quality::suites::write_built_in;

use crate::args::ExpectationsArgs;
use crate::render::say;

/// Writes the suites and names them.
pub fn run(args: ExpectationsArgs) -> Result<ExitStatus, CliError> {
    for path in write_built_in(&args.write, args.force)? {
        say(&format!("wrote {}", path.display()));
    }
    Ok(ExitStatus::Success)
}
