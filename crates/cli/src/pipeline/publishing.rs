//! The publish step (`ccc publish --staged DIR --out OUT`): a staged folder — written
//! by `ccc run --stage`, or by another engine in ccc's layout — swapped in over the
//! output in one step, once its audit passed on the files as they are. For a staged
//! incremental run, the new state generation joins the state folder first and is
//! committed after the swap, so a kill at any point leaves the old output and the old
//! state, or the new and the new.

use std::path::{Path, PathBuf};

use ccc_transform::incremental::{self, StateDir};
use ccc_transform::publish::{Staging, OUTPUT_ENTRIES, STAGE_ENTRIES};
use ccc_transform::schema::TABLE_NAME;

use super::audit::{self, AuditProblem, AuditRecord};
use super::incremental::absolute;
use super::stage::StageRecord;
use crate::exit::CliError;

/// What a publish did.
#[derive(Debug)]
pub struct Published {
    /// The output folder.
    pub out: PathBuf,
    /// The audit it was published on (none with `--no-audit`).
    pub audit: Option<AuditRecord>,
    /// The state generation committed with it, and the state folder.
    pub generation: Option<(u64, PathBuf)>,
}

/// Publishes the staged folder `staged` over `out`. Without `skip_audit`, the folder
/// must carry a passed audit of its files as they are.
pub fn publish(staged: &Path, out: &Path, skip_audit: bool) -> Result<Published, CliError> {
    let record = check_layout(staged)?;
    let audit = if skip_audit {
        None
    } else {
        Some(audit::check(staged)?.map_err(|problem| refusal(staged, problem))?)
    };
    let target = resolved(out);
    let source = resolved(staged);
    if target.starts_with(&source) || source.starts_with(&target) {
        return Err(CliError::Usage(format!(
            "--staged {} and --out {} must not be inside one another",
            staged.display(),
            out.display()
        )));
    }
    if let Some(record) = &record {
        if record.out != target {
            return Err(CliError::Refused {
                message: format!(
                    "{} was staged for {}, not {}",
                    staged.display(),
                    record.out.display(),
                    target.display()
                ),
                status: crate::exit::ExitStatus::Usage,
            });
        }
    }
    let staged_state = record.as_ref().and_then(|r| r.incremental.as_ref());
    let Some(state) = staged_state else {
        let staging = Staging::create(out)?;
        staging.take_staged(staged)?;
        let out = staging.commit()?;
        remove_staged(staged);
        return Ok(Published {
            out,
            audit,
            generation: None,
        });
    };

    // An incremental stage: the state is taken first, as a run takes it.
    let dir = StateDir::open(&state.state)?;
    let _lock = dir.lock()?;
    let current = incremental::published_token(out);
    if current != state.base_token {
        return Err(CliError::Refused {
            message: format!(
                "{} is stale: it builds on state {} but {} now names {}; stage it again",
                staged.display(),
                state.base_token.as_deref().unwrap_or("(none)"),
                out.display(),
                current.as_deref().unwrap_or("no state"),
            ),
            status: crate::exit::ExitStatus::Usage,
        });
    }
    let Some(generation) = &state.generation else {
        // Nothing was new when it was staged: the output is current.
        remove_staged(staged);
        return Ok(Published {
            out: target,
            audit,
            generation: None,
        });
    };
    // A leftover of the staged generation's number (a killed publish's) is replaced by
    // `adopt`; the generation the output names never is.
    let current_generation = match &current {
        Some(token) => dir.find(token)?.map(|g| g.dir),
        None => None,
    };
    // The record names a folder of the stage's own `_state/`, nothing else.
    let inside = Path::new(generation)
        .strip_prefix("_state")
        .is_ok_and(|rest| {
            let mut parts = rest.components();
            matches!(
                (parts.next(), parts.next()),
                (Some(std::path::Component::Normal(_)), None)
            )
        });
    if !inside {
        return Err(CliError::Record {
            path: staged.join(super::stage::STAGE_RECORD),
            message: format!("its generation {generation:?} is not a folder of _state/"),
        });
    }
    let staged_generation = staged.join(generation);
    if let Some(current_dir) = &current_generation {
        if current_dir.file_name() == staged_generation.file_name() {
            return Err(CliError::Refused {
                message: format!(
                    "{} holds generation {generation}, which {} already names; stage it again",
                    staged.display(),
                    out.display()
                ),
                status: crate::exit::ExitStatus::Usage,
            });
        }
    }
    let adopted = dir.adopt(&staged_generation)?;
    let staging = Staging::create(out)?;
    staging.take_staged(staged)?;
    let out = staging.commit()?;
    dir.record_committed(&adopted)?;
    ccc_transform::fault::point("state-before-cleanup");
    dir.remove_others(Some(adopted.manifest.generation))?;
    remove_staged(staged);
    Ok(Published {
        out,
        audit,
        generation: Some((adopted.manifest.generation, state.state.clone())),
    })
}

/// `path` absolute, with links resolved as far as it exists: the same folder gives the
/// same path whether or not it exists yet (a stage records its output before the output
/// may exist; publishing compares).
pub(crate) fn resolved(path: &Path) -> PathBuf {
    let path = absolute(path);
    if let Ok(real) = std::fs::canonicalize(&path) {
        return real;
    }
    match (path.parent(), path.file_name()) {
        (Some(parent), Some(name)) => resolved(parent).join(name),
        _ => path,
    }
}

/// Checks that `staged` looks like a staged output: a folder holding only what an
/// output or a stage holds, with the table in at least one format. Returns its record.
fn check_layout(staged: &Path) -> Result<Option<StageRecord>, CliError> {
    let refuse = |message: String| CliError::Refused {
        message,
        status: crate::exit::ExitStatus::Usage,
    };
    if !staged.is_dir() {
        return Err(refuse(format!("{} is not a folder", staged.display())));
    }
    let record = StageRecord::read(staged)?;
    let allowed: &[&str] = if record.is_some() {
        &STAGE_ENTRIES
    } else {
        &OUTPUT_ENTRIES
    };
    let entries = std::fs::read_dir(staged).map_err(|source| CliError::Read {
        path: staged.to_path_buf(),
        source,
    })?;
    let mut names: Vec<String> = entries
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    if let Some(foreign) = names.iter().find(|n| !allowed.contains(&n.as_str())) {
        return Err(refuse(format!(
            "{} is not a staged output: it holds {foreign:?} (a staged output holds {})",
            staged.display(),
            allowed.join(", ")
        )));
    }
    let has_table = ["parquet", "csv"]
        .iter()
        .any(|kind| staged.join(kind).join(TABLE_NAME).is_dir());
    if !has_table {
        return Err(refuse(format!(
            "{} is not a staged output: it has neither parquet/{TABLE_NAME}/ nor csv/{TABLE_NAME}/",
            staged.display()
        )));
    }
    Ok(record)
}

/// Why an audit does not let a folder be published, as the error the user sees.
fn refusal(staged: &Path, problem: AuditProblem) -> CliError {
    let validate = format!("ccc validate --suite output --data {}", staged.display());
    let (message, status) = match problem {
        AuditProblem::Missing => (
            format!("{} has no audit: run `{validate}` first (or publish with --no-audit)", staged.display()),
            crate::exit::ExitStatus::Usage,
        ),
        AuditProblem::Stale => (
            format!(
                "the files in {} changed since their audit: run `{validate}` again",
                staged.display()
            ),
            crate::exit::ExitStatus::Usage,
        ),
        AuditProblem::Failed { failed_errors } => (
            format!(
                "the audit of {} failed ({failed_errors} error-severity expectations): nothing was published",
                staged.display()
            ),
            crate::exit::ExitStatus::ChecksFailed,
        ),
    };
    CliError::Refused { message, status }
}

/// The staged folder is spent once published; what it linked is the output's now. The
/// output is published whatever happens here, so a failure is not the command's.
fn remove_staged(staged: &Path) {
    let _ = ccc_transform::publish::remove_folder(staged);
}
