//! `--memory-limit`: a run that spills its per-order states to disk gives the same bytes
//! as one that does not, whatever the limit and thread count; a limit it cannot keep is
//! exit 3 saying so; and no spill file outlives its run — after success, after a
//! failure, and after a kill (the next run removes it).

mod support;

use std::path::Path;
use std::process::Command;

use serde_json::Value;
use support::*;

/// 3,000 generated orders in three NDJSON files, 3% of the records bad.
fn sources(dir: &Path) {
    let out = run_ccc(&[
        "generate",
        "--orders",
        "3000",
        "--files",
        "3",
        "--seed",
        "11",
        "--dirty",
        "0.03",
        "--format",
        "ndjson",
        "--out",
        path_str(dir),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
}

/// `ccc run --checks warn` with `extra`, and its `_run.json`.
fn run_warn(source: &Path, out: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["--checks", "warn"];
    args.extend_from_slice(extra);
    let done = run_job_with(source, out, &args);
    assert!(done.status.success(), "{}", stderr(&done));
    serde_json::from_slice(&std::fs::read(out.join("_run.json")).unwrap()).unwrap()
}

/// `ccc run --quiet` from `source` to `out` with `extra`.
fn run_job_with(source: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    let args = [
        "run",
        "--quiet",
        "--source",
        path_str(source),
        "--out",
        path_str(out),
    ];
    run_ccc(&[&args[..], extra].concat())
}

/// Every file of an output but the run report (which names the run's own folder,
/// timings and memory).
fn files_but_report(out: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    snapshot(out)
        .into_iter()
        .filter(|(path, _)| path != Path::new("_run.json"))
        .collect()
}

#[test]
fn a_run_that_spills_writes_the_same_bytes_as_one_that_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source");
    sources(&source);
    let whole = dir.path().join("whole");
    let report = run_warn(&source, &whole, &[]);
    assert_eq!(report["memory"]["spill"]["ranges"], 1);
    assert_eq!(report["memory"]["spill"]["bytes"], 0);
    let expected = files_but_report(&whole);
    let conversations = report["conversations"].as_u64().unwrap();
    assert!(conversations > 2500, "{conversations}");
    assert!(
        expected.len() > 10,
        "the table, its CSV copy and the quarantine"
    );

    for (limit, threads) in [("600K", "2"), ("520K", "1"), ("490K", "2")] {
        let out = dir.path().join(format!("spilled-{limit}-{threads}"));
        let report = run_warn(
            &source,
            &out,
            &["--memory-limit", limit, "--threads", threads],
        );
        let spill = &report["memory"]["spill"];
        assert!(spill["ranges"].as_u64().unwrap() > 1, "{limit}: {spill}");
        assert!(
            spill["messages"].as_u64().unwrap() > 1000,
            "{limit}: {spill}"
        );
        assert_eq!(report["conversations"], conversations);
        assert!(
            files_but_report(&out) == expected,
            "{limit} on {threads} threads gave other bytes"
        );
        assert_eq!(leftovers_beside(dir.path()), Vec::<String>::new());
    }
}

#[test]
fn a_limit_below_what_cannot_spill_is_exit_3_and_publishes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source");
    sources(&source);
    let out = dir.path().join("out");
    run_warn(&source, &out, &[]);
    let before = snapshot(&out);
    let failed = run_job_with(
        &source,
        &out,
        &["--checks", "warn", "--memory-limit", "100K"],
    );
    assert_eq!(failed.status.code(), Some(3), "{}", stderr(&failed));
    let text = stderr(&failed);
    assert!(
        text.contains("the memory limit of 102400 bytes cannot hold this run")
            && text.contains("2938 orders and their table need about 470080 bytes")
            && text.contains("raise --memory-limit"),
        "{text}"
    );
    assert!(snapshot(&out) == before, "the previous output is whole");
    assert_eq!(leftovers_beside(dir.path()), Vec::<String>::new());
}

#[test]
fn a_run_that_spilled_and_then_failed_its_checks_leaves_no_spill_file() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source");
    sources(&source);
    let out = dir.path().join("out");
    let failed = run_job_with(
        &source,
        &out,
        &["--checks", "enforce", "--memory-limit", "500K"],
    );
    assert_eq!(failed.status.code(), Some(1), "{}", stderr(&failed));
    assert!(!out.exists(), "nothing published");
    assert_eq!(leftovers_beside(dir.path()), Vec::<String>::new());
}

#[test]
fn the_run_after_a_killed_one_removes_its_spill_files() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source");
    sources(&source);
    let out = dir.path().join("out");
    let mut command = ccc();
    command.args([
        "run",
        "--quiet",
        "--checks",
        "warn",
        "--memory-limit",
        "500K",
        "--source",
        path_str(&source),
        "--out",
        path_str(&out),
    ]);
    let mut child = spawn_paused(&mut command, "transform-after-spill");
    let spill = dir.path().join(format!(".out.ccc-spill-{}", child.id()));
    let files = std::fs::read_dir(&spill).unwrap().count();
    assert!(files > 1, "one spill file per range beyond the first");
    let killed = Command::new("kill")
        .args(["-KILL", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    child.wait().unwrap();
    assert!(spill.exists(), "a kill leaves the spill folder");

    let report = run_warn(&source, &out, &[]);
    assert_eq!(report["memory"]["spill"]["ranges"], 1);
    assert_eq!(leftovers_beside(dir.path()), Vec::<String>::new());
}
