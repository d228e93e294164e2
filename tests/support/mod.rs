//! Helpers shared by the end-to-end tests: running the real `ccc` binary in a temp
//! folder and reading what it wrote. Writing one set of records as sources in every
//! format, reading the output table back as text and showing differences are in
//! [`sources`], [`output`] and [`diff`], with their own RFC 3339 code ([`rfc3339`]).
#![allow(dead_code)]

pub mod diff;
pub mod output;
pub mod rfc3339;
pub mod sources;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

/// The binary under test.
pub fn ccc() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ccc"))
}

/// Starts `command` with its test hook set to pause at `point` and returns once it has
/// (its first line on stderr says so), so the test can inspect or kill it there.
pub fn spawn_paused(command: &mut Command, point: &str) -> Child {
    let mut child = command
        .env("CCC_TEST_PAUSE_AT", point)
        .stderr(Stdio::piped())
        .spawn()
        .expect("the ccc binary starts");
    let mut line = String::new();
    BufReader::new(child.stderr.take().expect("stderr is piped"))
        .read_line(&mut line)
        .expect("the paused run writes a line");
    assert_eq!(line.trim(), format!("paused at {point}"));
    child
}

/// Runs `ccc` with arguments and returns its output.
pub fn run_ccc(args: &[&str]) -> Output {
    ccc().args(args).output().expect("the ccc binary runs")
}

/// `ccc run --checks off --quiet` from `source` to `out`.
pub fn run_job(source: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "run",
        "--checks",
        "off",
        "--quiet",
        "--source",
        path_str(source),
        "--out",
        path_str(out),
    ];
    args.extend_from_slice(extra);
    run_ccc(&args)
}

/// A path as `&str` (temp paths are UTF-8).
pub fn path_str(p: &Path) -> &str {
    p.to_str().expect("UTF-8 temp path")
}

/// stderr as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Every file under `dir`, relative path → bytes, sorted by path.
pub fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("readable dir") {
            let p = entry.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).expect("under dir").to_path_buf();
                out.push((rel, std::fs::read(&p).expect("readable file")));
            }
        }
    }
    out.sort();
    out
}

/// The output table's files (Parquet and CSV parts), without the run report whose
/// timings change from run to run.
pub fn table_snapshot(out: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    snapshot(out)
        .into_iter()
        .filter(|(p, _)| !p.ends_with("_run.json"))
        .collect()
}

/// All CSV parts as `date,row` lines, sorted by date then `order_id`.
pub fn table_csv(out: &Path) -> Vec<String> {
    let root = out.join("csv/customer_courier_conversations");
    let mut lines = Vec::new();
    for dir in sorted_entries(&root) {
        let date = dir
            .file_name()
            .unwrap()
            .to_string_lossy()
            .trim_start_matches("conversation_date=")
            .to_string();
        // The date's rows in order_id order, whichever hourly part holds them.
        let mut rows: Vec<(i64, String)> = Vec::new();
        for part in part_files(&dir) {
            let text = std::fs::read_to_string(&part).expect("csv part");
            for line in text.lines().skip(1) {
                let id = line.split(',').next().and_then(|v| v.parse().ok());
                rows.push((id.expect("an order_id first"), format!("{date},{line}")));
            }
        }
        rows.sort();
        lines.extend(rows.into_iter().map(|(_, line)| line));
    }
    lines
}

/// The part files of one date folder of the output table (`part-HH.parquet`, one per hour
/// that has conversations), in hour order.
pub fn part_files(date_dir: &Path) -> Vec<PathBuf> {
    sorted_entries(date_dir)
}

/// The first part file of the table's first date in `OUT/<kind>` (`parquet` or `csv`).
pub fn first_part(out: &Path, kind: &str) -> PathBuf {
    let table = out.join(kind).join("customer_courier_conversations");
    part_files(&sorted_entries(&table)[0]).remove(0)
}

/// What a folder holds, by path, sorted.
fn sorted_entries(dir: &Path) -> Vec<PathBuf> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    entries
}

/// A tiny valid source folder: two orders, three messages.
pub fn write_small_sources(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join("customer_courier_chat_messages.json"),
        r#"[
  {"senderAppType": "Customer iOS", "customerId": 1, "fromId": 1, "toId": 2, "chatStartedByMessage": true,
   "orderId": 10, "orderStage": "ACCEPTED", "courierId": 2, "messageSentTime": "2024-02-01T10:00:00Z"},
  {"senderAppType": "Courier Android", "customerId": 1, "fromId": 2, "toId": 1, "chatStartedByMessage": false,
   "orderId": 10, "orderStage": "PICKED_UP", "courierId": 2, "messageSentTime": "2024-02-01T10:00:30Z"},
  {"senderAppType": "Courier iOS", "customerId": 3, "fromId": 4, "toId": 3, "chatStartedByMessage": true,
   "orderId": 11, "orderStage": "ON_ROUTE", "courierId": 4, "messageSentTime": "2024-02-02T09:00:00Z"}
]
"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("orders.json"),
        r#"[{"orderId": 10, "cityCode": "BCN"}, {"orderId": 11, "cityCode": "MAD"}]"#,
    )
    .unwrap();
}

/// What ccc left beside an output in `parent`: its hidden `.<out>.ccc-…` entries other
/// than the output's lock file, which stays on purpose (see docs/reliability.md).
pub fn leftovers_beside(parent: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(parent)
        .expect("readable dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".ccc-") && !n.ends_with(".ccc-lock"))
        .collect();
    names.sort();
    names
}

/// Runs `command` with a deadline: a run that has not ended by then is killed and the
/// test fails saying it hung.
pub fn output_within(command: &mut Command, seconds: u64) -> Output {
    let child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the ccc binary starts");
    let id = child.id();
    let (done, wait) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(child.wait_with_output());
    });
    match wait.recv_timeout(std::time::Duration::from_secs(seconds)) {
        Ok(output) => output.expect("the ccc binary runs"),
        Err(_) => {
            let _ = Command::new("kill").args(["-9", &id.to_string()]).status();
            panic!("ccc did not finish within {seconds} s: {command:?}");
        }
    }
}

/// The shipped suites' folder, for runs from a temporary folder.
pub fn expectations_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../expectations")
}

/// A committed hostile input under `tests/hostile/`.
pub fn hostile_input(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/hostile")
        .join(relative)
}

/// stdout as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
