//! The state folder on disk. Each run writes a new generation folder, `gen-<N>/`, beside
//! the current one (unchanged part files are hard-linked, not copied) and never
//! modifies a generation in place. Which generation is current is decided by the
//! published output: its `_run.json` names the generation's token. The output is swapped
//! in one step after the new generation is complete, so a run killed at any point leaves
//! an output and a generation that belong together; other generations are leftovers and
//! are removed.
//!
//! ```text
//! STATE/gen-000007/manifest.json
//!                  orders/orders-000007-00000.arrow   (the order book, in id-range shards)
//!                  waiting.arrow
//!                  conversations/2024-02-01T13.arrow    (one per part of the output)
//!                  conversations/2024-02-01T13.delta.arrow    (its changes since, if any)
//! ```
//!
//! Every file but the manifest is an Arrow IPC file ([`super::state_file`]).

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::error::{io_err, unreadable, IncrementalError};
use super::manifest::{Manifest, STATE_FORMAT_VERSION};
use super::part_state::{PartWrite, StoredPart};
use super::rows::{
    append_orders, orders_chunk, orders_layout, state_chunk, state_layout, state_rows, ListCodes,
    OrdersState, StateRow,
};
use super::state_columns::check_batches;
use super::state_file::{read_state_file, write_state_file, EXTENSION};
use crate::dictionary::Dictionary;
use crate::durable::{
    link_or_copy, link_tree, remove_tree, sync_dir, write_synced, Durability, Syncer,
};
use crate::layout::Part;

const GENERATION_PREFIX: &str = "gen-";
const COMMITTED: &str = "committed";
const LOCK: &str = "lock";

/// The state folder taken by this process ([`StateDir::lock`]); released on drop.
#[derive(Debug)]
pub struct StateLock {
    path: PathBuf,
}

impl Drop for StateLock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
        crate::publish::cleanup::unregister(&self.path);
    }
}

/// The most text of one state file read (a manifest lists every source file folded).
const MAX_STATE_TEXT: u64 = 256 << 20;

/// Reads a state text file: a regular file (a FIFO in its place would block the run),
/// of a bounded size.
fn read_state_text(path: &Path) -> std::io::Result<String> {
    ccc_ingest::open::read_regular_to_string(path, MAX_STATE_TEXT)
}

fn process_is_alive(pid: i32) -> bool {
    if pid as u32 == std::process::id() {
        return true;
    }
    match rustix::process::Pid::from_raw(pid) {
        // Signal 0 asks whether the process exists; EPERM means it does, as someone else's.
        Some(pid) => !matches!(
            rustix::process::test_kill_process(pid),
            Err(rustix::io::Errno::SRCH)
        ),
        None => false,
    }
}

/// A state folder.
#[derive(Debug, Clone)]
pub struct StateDir {
    dir: PathBuf,
}

/// One complete generation of the state.
#[derive(Debug, Clone)]
pub struct Generation {
    /// Its folder.
    pub dir: PathBuf,
    /// Its manifest.
    pub manifest: Manifest,
}

impl StateDir {
    /// Opens (and creates if needed) a state folder.
    pub fn open(dir: &Path) -> Result<StateDir, IncrementalError> {
        fs::create_dir_all(dir).map_err(io_err(dir))?;
        Ok(StateDir {
            dir: dir.to_path_buf(),
        })
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Takes the state folder for this process until the lock is dropped: two runs on one
    /// state would write the same generation. A lock left by a killed run (its process is
    /// gone) is taken over.
    pub fn lock(&self) -> Result<StateLock, IncrementalError> {
        let path = self.dir.join(LOCK);
        for _ in 0..2 {
            match fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut file) => {
                    use std::io::Write;
                    write!(file, "{}", std::process::id()).map_err(io_err(&path))?;
                    crate::publish::cleanup::register(&path);
                    return Ok(StateLock { path });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let holder = read_state_text(&path)
                        .ok()
                        .and_then(|t| t.trim().parse::<i32>().ok());
                    if let Some(pid) = holder.filter(|&pid| process_is_alive(pid)) {
                        return Err(IncrementalError::Locked {
                            state: self.dir.clone(),
                            pid,
                        });
                    }
                    // The run that took it is gone: its lock is stale.
                    let _ = fs::remove_file(&path);
                }
                Err(e) => return Err(io_err(&path)(e)),
            }
        }
        Err(IncrementalError::Locked {
            state: self.dir.clone(),
            pid: 0,
        })
    }

    /// Generation numbers and folders present, complete or not, ascending.
    fn generations(&self) -> Result<Vec<(u64, PathBuf)>, IncrementalError> {
        let mut found = Vec::new();
        for entry in fs::read_dir(&self.dir)
            .map_err(io_err(&self.dir))?
            .flatten()
        {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(n) = name
                .strip_prefix(GENERATION_PREFIX)
                .and_then(|n| n.parse().ok())
            {
                found.push((n, entry.path()));
            }
        }
        found.sort();
        Ok(found)
    }

    /// The highest generation number present (kept or leftover); leftovers are removed
    /// only after a run commits, so a new generation never reuses a folder name.
    pub fn last_generation_number(&self) -> Result<u64, IncrementalError> {
        Ok(self.generations()?.last().map_or(0, |(n, _)| *n))
    }

    /// The generation whose token is `token` (the one the published output names).
    pub fn find(&self, token: &str) -> Result<Option<Generation>, IncrementalError> {
        for (_, dir) in self.generations()?.into_iter().rev() {
            let path = dir.join("manifest.json");
            let text = match read_state_text(&path) {
                Ok(text) => text,
                // An unfinished generation of a killed run.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(unreadable(&path)(e)),
            };
            let manifest: Manifest = serde_json::from_str(&text).map_err(unreadable(&path))?;
            if manifest.token == token {
                if manifest.format_version != STATE_FORMAT_VERSION {
                    return Err(IncrementalError::Corrupt {
                        path,
                        message: format!(
                            "state format version {} (this ccc writes {STATE_FORMAT_VERSION}); \
                             rebuild it with --reprocess",
                            manifest.format_version
                        ),
                    });
                }
                return Ok(Some(Generation { dir, manifest }));
            }
        }
        Ok(None)
    }

    /// The token of the last generation an output was published from, recorded after the
    /// output swap (`committed`); none for a state that has never been published.
    pub fn committed_token(&self) -> Option<String> {
        read_state_text(&self.dir.join(COMMITTED))
            .ok()
            .map(|t| t.trim().to_string())
    }

    /// Records that the output now names `generation`. Only consulted when an output names
    /// no generation: it tells a state that was never published (start over) from one
    /// that belongs to another output (refuse).
    pub fn record_committed(&self, generation: &Generation) -> Result<(), IncrementalError> {
        let tmp = self.dir.join(".tmp-committed");
        write_synced(&tmp, format!("{}\n", generation.manifest.token).as_bytes())
            .map_err(io_err(&tmp))?;
        let path = self.dir.join(COMMITTED);
        fs::rename(&tmp, &path).map_err(io_err(&path))?;
        sync_dir(&self.dir);
        Ok(())
    }

    /// Removes every generation but `keep`, and unfinished ones: leftovers of earlier
    /// runs, killed or completed.
    pub fn remove_others(&self, keep: Option<u64>) -> Result<(), IncrementalError> {
        for (n, dir) in self.generations()? {
            if Some(n) != keep {
                remove_tree(&dir).map_err(io_err(&dir))?;
            }
        }
        for entry in fs::read_dir(&self.dir)
            .map_err(io_err(&self.dir))?
            .flatten()
        {
            if entry.file_name().to_string_lossy().starts_with(".tmp-") {
                let _ = fs::remove_dir_all(entry.path());
            }
        }
        Ok(())
    }

    /// Starts writing generation `generation` into this state folder.
    pub fn begin(&self, generation: u64) -> Result<GenerationWriter, IncrementalError> {
        GenerationWriter::begin_in(&self.dir, generation)
    }

    /// Makes a generation written elsewhere (a staged run's `_state/gen-N`) one of this
    /// state's: its files are linked (copied across file systems) into a temporary folder
    /// that is renamed into place, so a kill leaves a whole generation or none. It is not
    /// current until the output naming it is published. A leftover folder of the same
    /// number (a killed run's, never current) is replaced.
    pub fn adopt(&self, staged: &Path) -> Result<Generation, IncrementalError> {
        let path = staged.join("manifest.json");
        let text = read_state_text(&path).map_err(unreadable(&path))?;
        let manifest: Manifest = serde_json::from_str(&text).map_err(unreadable(&path))?;
        let name = generation_name(manifest.generation);
        let dir = self.dir.join(&name);
        let tmp = self.dir.join(format!(".tmp-{name}"));
        for old in [&tmp, &dir] {
            if old.exists() {
                fs::remove_dir_all(old).map_err(io_err(old))?;
            }
        }
        link_tree(staged, &tmp).map_err(io_err(&tmp))?;
        for sub in [tmp.join("conversations"), tmp.join("orders"), tmp.clone()] {
            sync_dir(&sub);
        }
        crate::fault::point("state-before-rename");
        fs::rename(&tmp, &dir).map_err(io_err(&dir))?;
        sync_dir(&self.dir);
        Ok(Generation { dir, manifest })
    }
}

/// The conversations still waiting for their order.
const WAITING_FILE: &str = "waiting.arrow";

/// The folder name of generation `n`.
fn generation_name(n: u64) -> String {
    format!("{GENERATION_PREFIX}{n:06}")
}

fn corrupt(path: &Path) -> impl FnOnce(String) -> IncrementalError + '_ {
    move |message| IncrementalError::Corrupt {
        path: path.to_path_buf(),
        message,
    }
}

/// Where the state of the conversations of one part lives in a generation folder: its
/// base file.
fn part_file(dir: &Path, part: Part) -> PathBuf {
    dir.join("conversations")
        .join(format!("{part}.{EXTENSION}"))
}

/// The delta file beside a part's base ([`super::part_state`]).
fn delta_file(dir: &Path, part: Part) -> PathBuf {
    dir.join("conversations")
        .join(format!("{part}.delta.{EXTENSION}"))
}

impl Generation {
    /// Some shards of the order book (by index, ascending), as one sorted book whose
    /// cities are coded in `cities`.
    pub fn read_order_shards(
        &self,
        shards: &BTreeSet<usize>,
        cities: &Dictionary,
        codes: &ListCodes,
    ) -> Result<OrdersState, IncrementalError> {
        // Each shard is read, converted and checked on its own; the pieces are then joined
        // in id order.
        let pieces: Vec<(PathBuf, OrdersState)> = shards
            .par_iter()
            .map(|&k| {
                let path = self
                    .dir
                    .join("orders")
                    .join(&self.manifest.order_shards[k].file);
                let batches = read_state_file(&path, orders_layout())?;
                let mut piece = OrdersState::default();
                append_orders(&mut piece, &batches, codes).map_err(corrupt(&path))?;
                self.check_parts(&piece).map_err(corrupt(&path))?;
                Ok((path, piece))
            })
            .collect::<Result<_, IncrementalError>>()?;
        let rows = pieces.iter().map(|(_, piece)| piece.len()).sum();
        let mut orders = OrdersState {
            ids: Vec::with_capacity(rows),
            city: Vec::with_capacity(rows),
            conflicting: Vec::with_capacity(rows),
            part: Vec::with_capacity(rows),
            cities: cities.clone(),
        };
        for (path, piece) in pieces {
            if let (Some(last), Some(first)) = (orders.ids.last(), piece.ids.first()) {
                if first <= last {
                    return Err(corrupt(&path)(
                        "record 0: order ids are not ascending".to_string(),
                    ));
                }
            }
            orders.extend(&piece);
        }
        Ok(orders)
    }

    /// Each order's conversation is in a part this generation holds; any other part is
    /// damage (read on, it would send the fold after a file that is not there).
    fn check_parts(&self, orders: &OrdersState) -> Result<(), String> {
        // Neighbouring orders mostly share a part: each run of one part is looked up once.
        let mut known = None;
        match orders.part.iter().flatten().find(|&&p| {
            let unknown = known != Some(p) && !self.manifest.parts.contains_key(&p);
            known = Some(p);
            unknown
        }) {
            Some(part) => Err(format!(
                "an order's conversation is in part {part}, which this state does not hold"
            )),
            None => Ok(()),
        }
    }

    /// The base file of a part's state.
    pub fn part_path(&self, part: Part) -> PathBuf {
        part_file(&self.dir, part)
    }

    /// True when the manifest says the part's state has a delta file beside its base.
    fn has_delta(&self, part: Part) -> bool {
        self.manifest
            .parts
            .get(&part)
            .is_some_and(|stats| stats.delta_rows > 0)
    }

    /// Conversations of orders not known yet.
    pub fn read_waiting(
        &self,
        stages: &ListCodes,
        cities: &ListCodes,
    ) -> Result<Vec<StateRow>, IncrementalError> {
        let path = self.dir.join(WAITING_FILE);
        state_rows(&read_state_file(&path, state_layout())?, stages, cities).map_err(corrupt(&path))
    }

    /// The state of the conversations of one published part: its base file, and its delta
    /// when the manifest lists one.
    pub fn read_part(
        &self,
        part: Part,
        stages: &ListCodes,
        cities: &ListCodes,
    ) -> Result<StoredPart, IncrementalError> {
        let base_path = part_file(&self.dir, part);
        let base = check_batches(
            &read_state_file(&base_path, state_layout())?,
            stages,
            cities,
        )
        .map_err(corrupt(&base_path))?;
        let delta = if self.has_delta(part) {
            let path = delta_file(&self.dir, part);
            state_rows(&read_state_file(&path, state_layout())?, stages, cities)
                .map_err(corrupt(&path))?
        } else {
            Vec::new()
        };
        StoredPart::new(base, delta).map_err(corrupt(&base_path))
    }
}

/// A generation being written; invisible (a `.tmp-` folder) until [`GenerationWriter::finish`].
#[derive(Debug)]
pub struct GenerationWriter {
    tmp: PathBuf,
    dir: PathBuf,
    /// Flushes the files written while the next ones are encoded.
    syncer: Syncer,
}

impl GenerationWriter {
    /// Starts writing generation `generation` as `parent/gen-N` (the state folder, or a
    /// staged run's `_state/`), in a temporary folder beside it until [`Self::finish`].
    pub fn begin_in(parent: &Path, generation: u64) -> Result<GenerationWriter, IncrementalError> {
        let name = generation_name(generation);
        let tmp = parent.join(format!(".tmp-{name}"));
        if tmp.exists() {
            fs::remove_dir_all(&tmp).map_err(io_err(&tmp))?;
        }
        fs::create_dir_all(tmp.join("conversations")).map_err(io_err(&tmp))?;
        fs::create_dir_all(tmp.join("orders")).map_err(io_err(&tmp))?;
        Ok(GenerationWriter {
            dir: parent.join(name),
            tmp,
            syncer: Syncer::start(),
        })
    }

    /// Writes the state of one part's conversations (rows sorted by order id): whole, or as
    /// the previous generation's base with a new delta beside it.
    pub fn write_part(
        &self,
        previous: Option<&Generation>,
        part: Part,
        write: &PartWrite,
        stages: &ListCodes,
        cities: &ListCodes,
    ) -> Result<(), IncrementalError> {
        match (write, previous) {
            (PartWrite::Delta(delta), Some(previous)) => {
                let from = part_file(&previous.dir, part);
                let to = part_file(&self.tmp, part);
                link_or_copy(&from, &to).map_err(io_err(&to))?;
                if delta.is_empty() {
                    return Ok(());
                }
                write_state_file(
                    &delta_file(&self.tmp, part),
                    state_layout(),
                    state_chunk(delta, stages, cities),
                    self.durability(),
                )
            }
            (PartWrite::Delta(_), None) => {
                unreachable!("a part written as a delta has a base in the previous generation")
            }
            (PartWrite::Base(rows), _) => write_state_file(
                &part_file(&self.tmp, part),
                state_layout(),
                state_chunk(rows, stages, cities),
                self.durability(),
            ),
        }
    }

    /// Links an unchanged part's state (its base, and its delta if it has one) from the
    /// previous generation.
    pub fn keep_part(&self, previous: &Generation, part: Part) -> Result<(), IncrementalError> {
        let mut files = vec![part_file as fn(&Path, Part) -> PathBuf];
        if previous.has_delta(part) {
            files.push(delta_file);
        }
        for file in files {
            let (from, to) = (file(&previous.dir, part), file(&self.tmp, part));
            link_or_copy(&from, &to).map_err(io_err(&to))?;
        }
        Ok(())
    }

    /// Writes the conversations still waiting for their order.
    pub fn write_waiting(
        &self,
        rows: &[StateRow],
        stages: &ListCodes,
        cities: &ListCodes,
    ) -> Result<(), IncrementalError> {
        write_state_file(
            &self.tmp.join(WAITING_FILE),
            state_layout(),
            state_chunk(rows, stages, cities),
            self.durability(),
        )
    }

    /// Writes one shard of the order book: `orders[range]`.
    pub fn write_order_shard(
        &self,
        file: &str,
        orders: &OrdersState,
        range: std::ops::Range<usize>,
        cities: &ListCodes,
    ) -> Result<(), IncrementalError> {
        write_state_file(
            &self.tmp.join("orders").join(file),
            orders_layout(),
            orders_chunk(orders, range, cities),
            self.durability(),
        )
    }

    /// Links an unchanged shard of the order book from the previous generation.
    pub fn keep_order_shard(
        &self,
        previous: &Generation,
        file: &str,
    ) -> Result<(), IncrementalError> {
        let from = previous.dir.join("orders").join(file);
        let to = self.tmp.join("orders").join(file);
        link_or_copy(&from, &to).map_err(io_err(&to))
    }

    fn durability(&self) -> Durability<'_> {
        Durability::SyncedBy(&self.syncer)
    }

    /// Waits until every file written is on disk, writes the manifest last, syncs, and
    /// moves the folder to its final name.
    pub fn finish(self, manifest: &Manifest) -> Result<Generation, IncrementalError> {
        let GenerationWriter { tmp, dir, syncer } = self;
        syncer
            .finish()
            .map_err(|(path, source)| io_err(&path)(source))?;
        let path = tmp.join("manifest.json");
        let mut text = serde_json::to_string_pretty(manifest).expect("a manifest serializes");
        text.push('\n');
        write_synced(&path, text.as_bytes()).map_err(io_err(&path))?;
        for folder in [tmp.join("conversations"), tmp.join("orders"), tmp.clone()] {
            sync_dir(&folder);
        }
        crate::fault::point("state-before-rename");
        fs::rename(&tmp, &dir).map_err(io_err(&dir))?;
        if let Some(parent) = dir.parent() {
            sync_dir(parent);
        }
        Ok(Generation {
            dir,
            manifest: manifest.clone(),
        })
    }
}
