//! Shared plumbing of the fuzz targets in `fuzz_targets/`: one scratch folder per process
//! on tmpfs, and the two reads every source target does of its bytes.
//!
//! The readers take paths (text files are memory-mapped), so each input is written to a
//! file named as `discover` expects (`customer_courier_chat_messages_1.json`,
//! `orders_1.json`, ...) in a folder under `/dev/shm` made once per process and removed at
//! exit. Folders left behind by a process that crashed (libFuzzer aborts) are removed by
//! the next process that starts.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use arrow2::array::Array;
use ccc_ingest::schema::{COURIER_ID, CUSTOMER_ID, ORDER_ID, TO_ID};
use ccc_ingest::{
    Batch, FieldProblem, FileContents, Format, IngestError, ReadOptions, Sources, Table,
    TableLayout,
};

const PREFIX: &str = "ccc-fuzz-";

static DIR: OnceLock<PathBuf> = OnceLock::new();

/// The folder this process writes its inputs to (created on first use).
pub fn scratch() -> &'static Path {
    DIR.get_or_init(|| {
        let base = if Path::new("/dev/shm").is_dir() {
            PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        };
        sweep_dead(&base);
        let dir = base.join(format!("{PREFIX}{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create the scratch folder");
        // SAFETY: registering a plain `extern "C" fn` with no captured state.
        unsafe { libc::atexit(remove_scratch) };
        dir
    })
}

extern "C" fn remove_scratch() {
    if let Some(dir) = DIR.get() {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// Removes `ccc-fuzz-<pid>` folders of processes that no longer run.
fn sweep_dead(base: &Path) {
    let Ok(entries) = std::fs::read_dir(base) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix(PREFIX)
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// A folder of the scratch folder (created on first use; each input overwrites the same files).
pub fn subdir(rel: &str) -> PathBuf {
    let dir = scratch().join(rel);
    std::fs::create_dir_all(&dir).expect("create a scratch subfolder");
    dir
}

/// Writes `data` to `dir/name`, replacing what was there.
pub fn put(dir: &Path, name: &str, data: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, data).expect("write the fuzz input");
    path
}

/// The columns `ccc run` reads for presence only, plus the orders' key: what the second
/// read of every source target leaves unread where it can.
fn presence_columns() -> Vec<(Table, String)> {
    let mut cols: Vec<(Table, String)> = [CUSTOMER_ID, TO_ID, COURIER_ID]
        .iter()
        .map(|c| (Table::ChatMessages, c.to_string()))
        .collect();
    cols.push((Table::Orders, ORDER_ID.to_string()));
    cols
}

/// One source format's target: `data` as both a messages file and an orders file, read
/// twice through `read_sources` — once as `ccc` reads by default, once in 64-byte chunks
/// with presence-only columns (then read back with `with_unread_columns`) — and the two
/// reads compared: chunking and leaving columns unread must not change what is read, nor
/// whether the file can be read at all.
pub fn fuzz_source(data: &[u8], format: Format) {
    let dir = subdir(format.extension());
    let ext = format.extension();
    put(
        &dir,
        &format!("customer_courier_chat_messages_1.{ext}"),
        data,
    );
    put(&dir, &format!("orders_1.{ext}"), data);
    let files = ccc_ingest::discover(&dir).expect("both files are there");
    assert_eq!(files.len(), 2);

    let full = ccc_ingest::read_sources(files.clone(), &ReadOptions::default(), &|_| {});
    let lean_options = ReadOptions {
        chunk_bytes: 64,
        presence_only: presence_columns(),
        text_presence_only: true,
        ..ReadOptions::default()
    };
    // Columns left unread are read back as the quarantine reads them. A damaged page in
    // such a column is found only now (the first read never decoded it), so a failure
    // here makes the lean read a failure, which `compare` then holds against the default
    // read: the default read must have failed too.
    let lean = ccc_ingest::read_sources(files, &lean_options, &|_| {}).and_then(|mut s| {
        let files = s.files.clone();
        for table in [&mut s.messages, &mut s.orders] {
            for batch in &mut table.batches {
                *batch = ccc_ingest::with_unread_columns(&files, batch)?;
            }
        }
        Ok(s)
    });
    compare(&full, &lean);
}

/// What a table read gives, row by row, for comparing two reads that were batched
/// differently: every column concatenated, the (file, record, line) of each row, the
/// problems in (file, record, column) order.
#[derive(Debug, PartialEq)]
struct Flat {
    columns: Vec<Box<dyn Array>>,
    rows: Vec<(u32, u64, Option<u64>)>,
    problems: Vec<FieldProblem>,
}

fn flatten(layout: TableLayout, batches: &[Batch], problems: &[FieldProblem]) -> Flat {
    let mut columns = Vec::with_capacity(layout.columns.len());
    for (c, (_, field_type)) in layout.columns.iter().enumerate() {
        let arrays: Vec<&dyn Array> = batches
            .iter()
            .filter(|b| !b.is_empty())
            .map(|b| b.chunk.arrays()[c].as_ref())
            .collect();
        columns.push(if arrays.is_empty() {
            arrow2::array::new_empty_array(field_type.data_type())
        } else {
            arrow2::compute::concatenate::concatenate(&arrays).expect("same types")
        });
    }
    let rows = batches
        .iter()
        .flat_map(|b| (0..b.len()).map(move |i| (b.file, b.first_record + i as u64, b.line(i))))
        .collect();
    let mut problems = problems.to_vec();
    problems.sort_by(|a, b| {
        (a.file, a.record, a.column, &a.raw).cmp(&(b.file, b.record, b.column, &b.raw))
    });
    Flat {
        columns,
        rows,
        problems,
    }
}

fn same_or_panic(what: &str, a: Flat, b: Flat) {
    assert!(
        a == b,
        "{what}: the default read and the chunked (presence-only) read differ\n default: {a:?}\n chunked: {b:?}"
    );
}

fn same_outcome<A, B, E: std::fmt::Display>(a: &Result<A, E>, b: &Result<B, E>) {
    if a.is_ok() != b.is_ok() {
        panic!(
            "one read failed and the other did not\n default: {:?}\n chunked: {:?}",
            a.as_ref().err().map(|e| e.to_string()),
            b.as_ref().err().map(|e| e.to_string())
        );
    }
}

fn compare(full: &Result<Sources, IngestError>, lean: &Result<Sources, IngestError>) {
    same_outcome(full, lean);
    if let (Ok(a), Ok(b)) = (full, lean) {
        for (x, y) in [(&a.orders, &b.orders), (&a.messages, &b.messages)] {
            let layout = x.table.layout();
            same_or_panic(
                x.table.name(),
                flatten(layout, &x.batches, &x.problems),
                flatten(layout, &y.batches, &y.problems),
            );
        }
    }
}

/// Two reads of one file in one layout (whole, and in small chunks) give the same rows,
/// line numbers and problems, or both fail.
pub fn compare_contents(
    layout: TableLayout,
    whole: &Result<FileContents, IngestError>,
    cut: &Result<FileContents, IngestError>,
) {
    same_outcome(whole, cut);
    if let (Ok((ba, pa)), Ok((bb, pb))) = (whole, cut) {
        same_or_panic(
            layout.name,
            flatten(layout, ba, pa),
            flatten(layout, bb, pb),
        );
    }
}
