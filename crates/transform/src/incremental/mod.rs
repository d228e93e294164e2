//! Incremental runs (`ccc run --incremental --state DIR`): fold only new source files into
//! a stored per-order state and rewrite only the part files (a date and an hour,
//! [`crate::layout`]) whose conversations changed. Every output column is a merge of
//! [`crate::ConversationState`], so the result equals a full run over all files, byte for
//! byte (see `docs/late-events.md`).
//!
//! A run: [`plan`] (which generation is current, which files are new, re-delivered or
//! changed), read and check the new files, [`fold`] them in, [`next_manifest`] and
//! [`write_state`] (a new generation beside the current one), publish the output naming
//! the new generation, then [`StateDir::remove_others`].

mod error;
mod fold;
mod late;
pub mod manifest;
mod new_messages;
mod part_state;
pub mod rows;
mod state_columns;
mod state_file;
mod store;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use ccc_ingest::SourceFile;
use rayon::prelude::*;
use serde::Serialize;

pub use error::IncrementalError;
pub use fold::{fold, FoldCounts, Folded, ShardPlan};
pub use late::{LateCounts, LateMessage};
pub use manifest::{hash_file, FoldedFile, Manifest, OrderShard, PartStats, RunEntry, Totals};
pub use new_messages::NewMessages;
pub use store::{Generation, GenerationWriter, StateDir, StateLock};

use crate::layout::Part;

/// Where `_run.json` keeps the token of the state generation the output was published from.
pub const TOKEN_FIELD: &str = "state_token";

/// What a run will do, decided before any data is read.
#[derive(Debug)]
pub struct Plan {
    /// The generation the output was published from (also kept with `--reprocess`, until
    /// the new output replaces it).
    pub current: Option<Generation>,
    /// What is folded into: `current`, or nothing with `--reprocess`.
    pub reprocess: bool,
    /// Number of the generation this run writes.
    pub generation: u64,
    /// Files to read.
    pub new_files: Vec<NewFile>,
    /// Files folded before whose content was hashed again and found the same (their
    /// modification time changed): name and the time to record.
    pub reverified: Vec<(String, i64)>,
    /// Files already folded in with the same content (skipped).
    pub already_folded: Vec<String>,
    /// Files folded in earlier that are no longer in the source folder.
    pub missing: Vec<String>,
}

impl Plan {
    /// The generation new files are folded into.
    pub fn previous(&self) -> Option<&Generation> {
        if self.reprocess {
            None
        } else {
            self.current.as_ref()
        }
    }
}

/// The state token the published output at `out` names, if it has one.
pub fn published_token(out: &Path) -> Option<String> {
    let text = ccc_ingest::open::read_regular_to_string(&out.join("_run.json"), 64 << 20).ok()?;
    let report: serde_json::Value = serde_json::from_str(&text).ok()?;
    report
        .get("incremental")?
        .get(TOKEN_FIELD)?
        .as_str()
        .map(str::to_string)
}

/// A source file this run folds in.
#[derive(Debug, Clone)]
pub struct NewFile {
    /// The file.
    pub file: SourceFile,
    /// XXH3-128 of its content.
    pub hash: String,
    /// Its modification time, nanoseconds since the epoch.
    pub modified_ns: i64,
}

fn modified_ns(path: &Path) -> Result<i64, IncrementalError> {
    let modified = std::fs::metadata(path)
        .and_then(|m| m.modified())
        .map_err(error::io_err(path))?;
    Ok(modified
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)))
}

/// Decides what a run does: finds the generation the output at `out` was published from
/// (none for a state never published: then everything is folded from scratch; a state
/// published to another output is an error unless `reprocess`), hashes the source files
/// and sorts them into new, already folded and changed (an error unless `reprocess`).
/// Nothing is removed here: leftovers go after the next commit.
pub fn plan(
    state: &StateDir,
    out: &Path,
    files: Vec<SourceFile>,
    formats: &[String],
    reprocess: bool,
    rehash: bool,
) -> Result<Plan, IncrementalError> {
    let current = match published_token(out) {
        None => None,
        // With --reprocess nothing is folded into it: a damaged generation is no obstacle.
        Some(token) if reprocess => state.find(&token).ok().flatten(),
        Some(token) => match state.find(&token)? {
            Some(generation) => Some(generation),
            None => {
                return Err(IncrementalError::StateMismatch {
                    out: out.to_path_buf(),
                    state: state.path().to_path_buf(),
                    token,
                })
            }
        },
    };
    if current.is_none() && !reprocess && state.committed_token().is_some() {
        return Err(IncrementalError::StateOfAnotherOutput {
            out: out.to_path_buf(),
            state: state.path().to_path_buf(),
        });
    }
    if let Some(g) = current.as_ref().filter(|_| !reprocess) {
        if g.manifest.output_formats != formats {
            return Err(IncrementalError::FormatsChanged {
                was: g.manifest.output_formats.join(","),
                now: formats.join(","),
            });
        }
    }
    let generation = state.last_generation_number()? + 1;
    let mut plan = Plan {
        current,
        reprocess,
        generation,
        new_files: Vec::new(),
        reverified: Vec::new(),
        already_folded: Vec::new(),
        missing: Vec::new(),
    };
    let manifest = plan.previous().map(|g| g.manifest.clone());
    let manifest = manifest.as_ref();
    let folded: std::collections::HashMap<&str, &FoldedFile> = manifest
        .map(|m| m.files.iter().map(|f| (f.name.as_str(), f)).collect())
        .unwrap_or_default();
    // A folded file with the same size and modification time is not read again (as make
    // and git decide); any other file is hashed. `rehash` hashes every file.
    let checked: Vec<(i64, Option<String>)> = files
        .par_iter()
        .map(|f| {
            let modified = modified_ns(&f.path)?;
            let unchanged = folded
                .get(f.name.as_str())
                .is_some_and(|old| !rehash && old.size == f.size && old.modified_ns == modified);
            let hash = if unchanged {
                None
            } else {
                Some(hash_file(&f.path).map_err(error::io_err(&f.path))?)
            };
            Ok((modified, hash))
        })
        .collect::<Result<_, IncrementalError>>()?;
    for (file, (modified, hash)) in files.iter().zip(checked) {
        let Some(hash) = hash else {
            plan.already_folded.push(file.name.clone());
            continue;
        };
        match folded.get(file.name.as_str()) {
            None => plan.new_files.push(NewFile {
                file: file.clone(),
                hash,
                modified_ns: modified,
            }),
            Some(folded) if folded.size == file.size && folded.xxh3_128 == hash => {
                plan.already_folded.push(file.name.clone());
                if folded.modified_ns != modified {
                    plan.reverified.push((file.name.clone(), modified));
                }
            }
            Some(folded) => {
                return Err(IncrementalError::ChangedFile {
                    name: file.name.clone(),
                    generation: folded.generation,
                    old_size: folded.size,
                    old_hash: folded.xxh3_128.clone(),
                    new_size: file.size,
                    new_hash: hash,
                })
            }
        }
    }
    if let Some(m) = manifest {
        let present: BTreeSet<&str> = files.iter().map(|f| f.name.as_str()).collect();
        plan.missing = m
            .files
            .iter()
            .filter(|f| !present.contains(f.name.as_str()))
            .map(|f| f.name.clone())
            .collect();
    }
    Ok(plan)
}

/// The manifest of the generation this run writes.
pub fn next_manifest(
    plan: &Plan,
    folded: &Folded,
    formats: &[String],
    started_at: &str,
) -> Manifest {
    let mut m = plan
        .previous()
        .map(|g| g.manifest.clone())
        .unwrap_or_default();
    m.format_version = manifest::STATE_FORMAT_VERSION;
    m.generation = plan.generation;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    m.token = format!("{}-{nanos:x}-{:x}", plan.generation, std::process::id());
    m.output_formats = formats.to_vec();
    m.stages = folded.manifest_stages.clone();
    m.cities = folded.manifest_cities.clone();
    m.order_shards = folded
        .shards
        .iter()
        .enumerate()
        .map(|(k, shard)| match shard {
            ShardPlan::Keep(kept) => kept.clone(),
            ShardPlan::Write { first_id, range } => OrderShard {
                first_id: *first_id,
                rows: range.len() as u64,
                file: format!(
                    "orders-{:06}-{k:05}.{}",
                    plan.generation,
                    state_file::EXTENSION
                ),
            },
        })
        .collect();
    m.files.extend(plan.new_files.iter().map(|new| FoldedFile {
        name: new.file.name.clone(),
        size: new.file.size,
        xxh3_128: new.hash.clone(),
        modified_ns: new.modified_ns,
        generation: plan.generation,
    }));
    for (name, modified) in &plan.reverified {
        if let Some(file) = m.files.iter_mut().find(|f| &f.name == name) {
            file.modified_ns = *modified;
        }
    }
    for part in &folded.rewritten {
        m.parts.remove(part);
    }
    let mut newest = m.watermark_micros;
    for (part, state) in &folded.state_parts {
        m.parts.insert(
            *part,
            PartStats {
                rows: state.rows,
                messages: state.messages,
                delta_rows: state.delta_rows(),
            },
        );
        if let Some(last) = state.newest {
            newest = Some(newest.map_or(last, |n| n.max(last)));
        }
    }
    m.watermark_micros = newest;
    m.watermark = newest.map(ccc_ingest::timestamp::format_rfc3339_micros);
    let c = &folded.counts;
    m.totals.messages_read += c.messages_read;
    m.totals.messages_quarantined += c.messages_quarantined;
    m.totals.orders_read += c.orders_read;
    m.totals.orders_quarantined += c.orders_quarantined;
    m.totals.messages_waiting = folded
        .waiting
        .iter()
        .map(|r| (r.state.courier_messages + r.state.customer_messages) as u64)
        .sum();
    m.runs.push(RunEntry {
        generation: plan.generation,
        started_at: started_at.to_string(),
        files: plan.new_files.len() as u64,
    });
    m
}

/// Writes the new generation as `into/gen-N`: rewritten parts, links to unchanged ones,
/// the waiting conversations, the order book, and the manifest last. `into` is the state
/// folder, or a staged run's `_state/` (see [`StateDir::adopt`]).
pub fn write_state(
    into: &Path,
    plan: &Plan,
    folded: &Folded,
    manifest: &Manifest,
) -> Result<Generation, IncrementalError> {
    let writer = GenerationWriter::begin_in(into, plan.generation)?;
    if let Some(previous) = plan.previous() {
        kept_parts(manifest, folded)
            .par_iter()
            .try_for_each(|&part| writer.keep_part(previous, part))?;
    }
    let (parts, rest) = rayon::join(
        || {
            folded
                .state_parts
                .par_iter()
                .try_for_each(|(&part, state)| {
                    writer.write_part(
                        plan.previous(),
                        part,
                        &state.write,
                        &folded.stage_codes,
                        &folded.city_codes,
                    )
                })
        },
        || {
            writer.write_waiting(&folded.waiting, &folded.stage_codes, &folded.city_codes)?;
            folded
                .shards
                .par_iter()
                .zip(manifest.order_shards.par_iter())
                .try_for_each(|(shard, named)| match (shard, plan.previous()) {
                    (ShardPlan::Keep(_), Some(previous)) => {
                        writer.keep_order_shard(previous, &named.file)
                    }
                    (ShardPlan::Keep(_), None) => unreachable!("a kept shard has a previous run"),
                    (ShardPlan::Write { range, .. }, _) => writer.write_order_shard(
                        &named.file,
                        &folded.orders,
                        range.clone(),
                        &folded.city_codes,
                    ),
                })
        },
    );
    parts?;
    rest?;
    writer.finish(manifest)
}

/// Published parts that this run leaves as they are (`manifest` is the new generation's).
pub fn kept_parts(manifest: &Manifest, folded: &Folded) -> Vec<Part> {
    manifest
        .parts
        .keys()
        .filter(|p| !folded.rewritten.contains(p))
        .copied()
        .collect()
}

/// What a run did to the parts of one `conversation_date`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DateParts {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// Parts written by this run.
    pub rewritten: u64,
    /// Parts linked as they were.
    pub kept: u64,
    /// Parts deleted: their last conversation moved to an earlier part.
    pub removed: u64,
}

impl DateParts {
    /// Its folder changed and stays: a part was written, or one deleted beside kept ones.
    pub fn rewritten_date(&self) -> bool {
        self.rewritten + self.kept > 0 && self.rewritten + self.removed > 0
    }

    /// Its folder is gone: every part it had was deleted.
    pub fn removed_date(&self) -> bool {
        self.removed > 0 && self.rewritten == 0 && self.kept == 0
    }

    /// Its folder is as it was.
    pub fn kept_date(&self) -> bool {
        self.rewritten == 0 && self.removed == 0
    }
}

/// Per date that had or has parts: how many this run rewrote, kept and removed.
pub fn parts_by_date(
    previous: Option<&Manifest>,
    next: &Manifest,
    folded: &Folded,
) -> Vec<DateParts> {
    let mut dates: BTreeMap<String, DateParts> = BTreeMap::new();
    let mut tally = |part: &Part, f: fn(&mut DateParts)| {
        let date = part.date();
        f(dates.entry(date.clone()).or_insert_with(|| DateParts {
            date,
            ..DateParts::default()
        }));
    };
    for part in next.parts.keys() {
        if folded.rewritten.contains(part) {
            tally(part, |d| d.rewritten += 1);
        } else {
            tally(part, |d| d.kept += 1);
        }
    }
    for part in &folded.rewritten {
        let was_published = previous.is_some_and(|m| m.parts.contains_key(part));
        if was_published && !next.parts.contains_key(part) {
            tally(part, |d| d.removed += 1);
        }
    }
    dates.into_values().collect()
}
