//! Incremental runs (`ccc run --incremental --state DIR`) publish the same table, byte for
//! byte, as one full run over all the files — whatever the batches, their order, late
//! messages, orders arriving after their messages, or a kill in the middle of a run.

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use proptest::prelude::*;
use serde_json::{json, Value};
use support::*;

fn expectations_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../expectations")
}

/// One chat message as an NDJSON line that passes the source suite.
fn message(order_id: i64, time: &str, courier: bool, stage: &str) -> String {
    let (app, from) = if courier {
        ("Courier Android", 5001)
    } else {
        ("Customer iOS", 17000001)
    };
    format!(
        r#"{{"senderAppType":"{app}","customerId":17000001,"fromId":{from},"toId":1,"chatStartedByMessage":false,"orderId":{order_id},"orderStage":"{stage}","courierId":5001,"messageSentTime":"{time}"}}"#
    )
}

fn order(order_id: i64, city: &str) -> String {
    format!(r#"{{"orderId":{order_id},"cityCode":"{city}"}}"#)
}

fn write_lines(dir: &Path, name: &str, lines: &[String]) {
    fs::create_dir_all(dir).unwrap();
    fs::write(dir.join(name), lines.join("\n") + "\n").unwrap();
}

/// A temp folder with `src/`, `out/`, `state/` and `full/` (a full run's output).
struct Job {
    _tmp: tempfile::TempDir,
    root: PathBuf,
}

impl Job {
    fn new() -> Job {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().to_path_buf();
        fs::create_dir_all(root.join("src")).unwrap();
        Job { _tmp: tmp, root }
    }
    fn src(&self) -> PathBuf {
        self.root.join("src")
    }
    fn out(&self) -> PathBuf {
        self.root.join("out")
    }
    fn state(&self) -> PathBuf {
        self.root.join("state")
    }
    fn add(&self, name: &str, lines: &[String]) {
        write_lines(&self.src(), name, lines);
    }
    /// Order 1 in BCN, and one customer message for it at `time`.
    fn one_order(&self, time: &str) {
        self.add(
            "customer_courier_chat_messages_1.ndjson",
            &[message(1, time, false, "ACCEPTED")],
        );
        self.add("orders_1.ndjson", &[order(1, "BCN")]);
    }
    /// `ccc run --incremental` with the default checks (enforce).
    fn incremental(&self, extra: &[&str]) -> Output {
        let (state, src, out) = (self.state(), self.src(), self.out());
        let expectations = expectations_dir();
        let mut args = vec![
            "run",
            "--incremental",
            "--quiet",
            "--expectations",
            path_str(&expectations),
            "--state",
            path_str(&state),
            "--source",
            path_str(&src),
            "--out",
            path_str(&out),
        ];
        args.extend_from_slice(extra);
        run_ccc(&args)
    }
    /// The incremental command without checks, to be run with a test hook set.
    fn command(&self) -> std::process::Command {
        let mut command = ccc();
        command
            .args([
                "run",
                "--incremental",
                "--quiet",
                "--checks",
                "off",
                "--state",
            ])
            .arg(self.state())
            .arg("--source")
            .arg(self.src())
            .arg("--out")
            .arg(self.out());
        command
    }
    /// The incremental command started, and paused by its test hook just before the swap.
    fn paused_before_swap(&self) -> std::process::Child {
        spawn_paused(&mut self.command(), "publish-before-swap")
    }
    fn incremental_ok(&self) -> Value {
        let o = self.incremental(&[]);
        assert!(o.status.success(), "{}", stderr(&o));
        self.report()
    }
    fn report(&self) -> Value {
        serde_json::from_str(&fs::read_to_string(self.out().join("_run.json")).unwrap()).unwrap()
    }
    /// A full run over the same source folder equals the incremental output, byte for byte.
    fn assert_equals_full_run(&self) {
        let full = self.root.join("full");
        let _ = fs::remove_dir_all(&full);
        let o = run_ccc(&[
            "run",
            "--quiet",
            "--expectations",
            path_str(&expectations_dir()),
            "--source",
            path_str(&self.src()),
            "--out",
            path_str(&full),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let tables = |out: &Path| {
            table_snapshot(out)
                .into_iter()
                .filter(|(p, _)| !p.starts_with("quarantine"))
                .collect::<Vec<_>>()
        };
        let (incremental, full_files) = (tables(&self.out()), tables(&full));
        assert_eq!(
            incremental.iter().map(|(p, _)| p).collect::<Vec<_>>(),
            full_files.iter().map(|(p, _)| p).collect::<Vec<_>>(),
            "the same partition files"
        );
        assert!(
            incremental == full_files,
            "{:?}\n!=\n{:?}",
            table_csv(&self.out()),
            table_csv(&full)
        );
    }
}

/// The CSV row of an order, as `date,order_id,...`.
fn row_of(out: &Path, order_id: i64) -> Option<String> {
    table_csv(out)
        .into_iter()
        .find(|l| l.split(',').nth(1) == Some(&order_id.to_string()))
}

/// The generation folders in the state folder, sorted.
fn generations(job: &Job) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(job.state())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("gen-"))
        .collect();
    names.sort();
    names
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_late_first_message_moves_the_conversation_to_an_earlier_date() {
    let job = Job::new();
    job.add(
        "customer_courier_chat_messages_1.ndjson",
        &[
            message(1, "2024-02-02T10:00:00Z", false, "ACCEPTED"),
            message(1, "2024-02-02T10:05:00Z", true, "ACCEPTED"),
            message(2, "2024-02-02T11:00:00Z", false, "ACCEPTED"),
        ],
    );
    job.add("orders_1.ndjson", &[order(1, "BCN"), order(2, "LIS")]);
    job.incremental_ok();
    assert!(row_of(&job.out(), 1)
        .unwrap()
        .starts_with("2024-02-02,1,BCN,"));

    job.add(
        "customer_courier_chat_messages_2.ndjson",
        &[message(1, "2024-02-01T23:50:00Z", true, "ACCEPTED")],
    );
    let report = job.incremental_ok();
    let row = row_of(&job.out(), 1).unwrap();
    assert!(
        row.starts_with("2024-02-01,1,BCN,2024-02-01T23:50:00Z,2024-02-02T10:00:00Z,2,1,courier,2024-02-01T23:50:00Z,36600,"),
        "{row}"
    );
    let old_partition = table_csv(&job.out())
        .into_iter()
        .filter(|l| l.starts_with("2024-02-02,"))
        .collect::<Vec<_>>();
    assert_eq!(old_partition.len(), 1, "only order 2 is left on 2024-02-02");
    let i = &report["incremental"];
    assert_eq!(
        strings(&i["partitions_rewritten"]),
        ["2024-02-01", "2024-02-02"]
    );
    // Order 1's part (10:00 on Feb 2) is deleted; order 2's (11:00) stays as it was.
    assert_eq!(
        i["parts_by_date"],
        json!([
            {"date": "2024-02-01", "rewritten": 1, "kept": 0, "removed": 0},
            {"date": "2024-02-02", "rewritten": 0, "kept": 1, "removed": 1}
        ])
    );
    let feb_2 = job
        .out()
        .join("csv/customer_courier_conversations/conversation_date=2024-02-02");
    assert_eq!(part_files(&feb_2), [feb_2.join("part-11.csv")]);
    assert_eq!(i["changes"]["conversations_moved"], 1);
    assert_eq!(i["late"]["messages"], 1);
    assert_eq!(i["late"]["watermark"], "2024-02-02T11:00:00Z");
    assert_eq!(i["late"]["worst_lateness_seconds"], 11 * 3600 + 10 * 60);
    assert_eq!(i["late"]["worst"]["order_id"], 1);
    job.assert_equals_full_run();
}

#[test]
fn a_conversation_whose_only_partition_empties_removes_the_partition() {
    let job = Job::new();
    job.one_order("2024-02-02T10:00:00Z");
    job.incremental_ok();
    job.add(
        "customer_courier_chat_messages_2.ndjson",
        &[message(1, "2024-02-01T10:00:00Z", true, "ACCEPTED")],
    );
    let report = job.incremental_ok();
    assert_eq!(
        strings(&report["incremental"]["partitions_removed"]),
        ["2024-02-02"]
    );
    assert!(!job
        .out()
        .join("parquet/customer_courier_conversations/conversation_date=2024-02-02")
        .exists());
    job.assert_equals_full_run();
}

#[test]
fn a_late_last_message_changes_the_last_stage_and_other_dates_are_kept() {
    let job = Job::new();
    job.add(
        "customer_courier_chat_messages_1.ndjson",
        &[
            message(1, "2024-02-03T10:00:00Z", false, "ACCEPTED"),
            message(1, "2024-02-03T10:01:00Z", true, "PICKED_UP"),
            message(2, "2024-02-03T13:00:00Z", false, "ACCEPTED"),
            message(3, "2024-02-01T09:00:00Z", false, "ACCEPTED"),
        ],
    );
    job.add(
        "orders_1.ndjson",
        &[order(1, "BCN"), order(2, "LIS"), order(3, "MAD")],
    );
    job.incremental_ok();
    let table = job.out().join("parquet/customer_courier_conversations");
    // Order 3's date, and order 2's hour of order 1's date: neither changes below.
    let kept = [
        table.join("conversation_date=2024-02-01/part-09.parquet"),
        table.join("conversation_date=2024-02-03/part-13.parquet"),
    ];
    let kept_bytes: Vec<Vec<u8>> = kept.iter().map(|k| fs::read(k).unwrap()).collect();
    #[cfg(unix)]
    let inode = |path: &Path| std::os::unix::fs::MetadataExt::ino(&fs::metadata(path).unwrap());
    #[cfg(unix)]
    let kept_inodes: Vec<u64> = kept.iter().map(|k| inode(k)).collect();
    assert!(row_of(&job.out(), 1).unwrap().ends_with(",PICKED_UP"));

    job.add(
        "customer_courier_chat_messages_2.ndjson",
        &[message(1, "2024-02-03T12:00:00Z", true, "DELIVERED")],
    );
    let metrics = job.root.join("run.prom");
    let o = job.incremental(&["--metrics-file", path_str(&metrics)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let report = job.report();
    let prom = fs::read_to_string(&metrics).unwrap();
    for line in [
        "ccc_output_parts_total{command=\"run\",action=\"rewritten\"} 1",
        "ccc_output_parts_total{command=\"run\",action=\"kept\"} 2",
        "ccc_output_parts_total{command=\"run\",action=\"removed\"} 0",
    ] {
        assert!(prom.lines().any(|l| l == line), "{line} not in\n{prom}");
    }
    let row = row_of(&job.out(), 1).unwrap();
    assert!(row.ends_with(",2024-02-03T12:00:00Z,DELIVERED"), "{row}");
    let i = &report["incremental"];
    assert_eq!(strings(&i["partitions_rewritten"]), ["2024-02-03"]);
    assert_eq!(i["partitions_kept"], 1);
    // Only order 1's part (10:00 on Feb 3) is written; order 2's part beside it is kept.
    assert_eq!(
        (&i["parts_rewritten"], &i["parts_kept"], &i["parts_removed"]),
        (&json!(1), &json!(2), &json!(0))
    );
    assert_eq!(
        i["parts_by_date"],
        json!([
            {"date": "2024-02-01", "rewritten": 0, "kept": 1, "removed": 0},
            {"date": "2024-02-03", "rewritten": 1, "kept": 1, "removed": 0}
        ])
    );
    assert_eq!(i["late"]["messages"], 1, "12:00 is older than 13:00");
    assert_eq!(i["late"]["worst_lateness_seconds"], 3600);
    for (k, bytes) in kept.iter().zip(&kept_bytes) {
        assert_eq!(&fs::read(k).unwrap(), bytes, "{}", k.display());
    }
    #[cfg(unix)]
    assert_eq!(
        kept.iter().map(|k| inode(k)).collect::<Vec<_>>(),
        kept_inodes,
        "unchanged parts are linked, not rewritten"
    );
    job.assert_equals_full_run();
}

#[test]
fn an_order_arriving_two_runs_after_its_messages_publishes_them_then() {
    let job = Job::new();
    job.add(
        "customer_courier_chat_messages_1.ndjson",
        &[
            message(7, "2024-02-01T08:00:00Z", false, "ACCEPTED"),
            message(7, "2024-02-01T08:02:00Z", true, "ACCEPTED"),
        ],
    );
    let report = job.incremental_ok();
    let w = &report["incremental"]["waiting"];
    assert_eq!(
        (w["orders"].as_u64(), w["messages"].as_u64()),
        (Some(1), Some(2))
    );
    assert_eq!(table_csv(&job.out()), Vec::<String>::new());
    assert_eq!(report["reconciled"], true);

    job.add(
        "customer_courier_chat_messages_2.ndjson",
        &[message(8, "2024-02-01T09:00:00Z", false, "ACCEPTED")],
    );
    job.add("orders_2.ndjson", &[order(8, "LIS")]);
    let report = job.incremental_ok();
    let w = &report["incremental"]["waiting"];
    assert_eq!(w["orders"], 1);
    assert_eq!(w["oldest_order_id"], 7);
    assert_eq!(w["oldest_since_run"], 1);
    assert_eq!(w["oldest_runs_waited"], 2);
    assert!(row_of(&job.out(), 7).is_none());

    job.add("orders_3.ndjson", &[order(7, "BCN")]);
    let report = job.incremental_ok();
    let i = &report["incremental"];
    assert_eq!(i["changes"]["conversations_released"], 1);
    assert_eq!(i["waiting"]["orders"], 0);
    assert_eq!(strings(&i["files_new"]), ["orders_3.ndjson"]);
    assert!(row_of(&job.out(), 7)
        .unwrap()
        .starts_with("2024-02-01,7,BCN,2024-02-01T08:02:00Z,2024-02-01T08:00:00Z,1,1,customer,"));
    assert_eq!(i["totals"]["messages_read"], 3);
    assert_eq!(i["totals"]["messages_waiting"], 0);
    job.assert_equals_full_run();
}

#[test]
fn a_redelivered_file_is_skipped() {
    let job = Job::new();
    let lines = [message(1, "2024-02-01T08:00:00Z", false, "ACCEPTED")];
    job.add("customer_courier_chat_messages_1.ndjson", &lines);
    job.add("orders_1.ndjson", &[order(1, "BCN")]);
    job.incremental_ok();
    let before = snapshot(&job.out());
    let state_before = snapshot(&job.state());

    // Delivered again: same name, same bytes, a new modification time.
    std::thread::sleep(std::time::Duration::from_millis(20));
    job.add("customer_courier_chat_messages_1.ndjson", &lines);
    let o = job.incremental(&[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(snapshot(&job.out()), before, "nothing is published");
    assert_eq!(
        snapshot(&job.state()),
        state_before,
        "the state is untouched"
    );

    // With a new file beside it, only the new file is read.
    job.add(
        "customer_courier_chat_messages_2.ndjson",
        &[message(1, "2024-02-01T08:03:00Z", true, "ACCEPTED")],
    );
    let report = job.incremental_ok();
    let i = &report["incremental"];
    assert_eq!(
        strings(&i["files_new"]),
        ["customer_courier_chat_messages_2.ndjson"]
    );
    assert_eq!(i["files_already_folded"], 2);
    assert_eq!(report["messages"]["read"], 1);
    assert!(row_of(&job.out(), 1).unwrap().contains(",1,1,customer,"));
    job.assert_equals_full_run();
}

#[test]
fn a_changed_file_is_an_error_unless_reprocessed() {
    let job = Job::new();
    job.one_order("2024-02-01T08:00:00Z");
    job.incremental_ok();
    let (before, state_before) = (snapshot(&job.out()), snapshot(&job.state()));

    // Same size, other content: only the hash can tell.
    job.add(
        "customer_courier_chat_messages_1.ndjson",
        &[message(1, "2024-02-01T09:00:00Z", false, "ACCEPTED")],
    );
    let o = job.incremental(&[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("customer_courier_chat_messages_1.ndjson was folded in by run 1"),
        "{err}"
    );
    assert!(err.contains("has changed since"), "{err}");
    assert!(err.contains("--reprocess"), "{err}");
    assert_eq!(snapshot(&job.out()), before);
    assert_eq!(snapshot(&job.state()), state_before);

    let o = job.incremental(&["--reprocess"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let report = job.report();
    assert_eq!(report["incremental"]["reprocessed"], true);
    assert_eq!(report["incremental"]["generation"], 2);
    assert!(row_of(&job.out(), 1)
        .unwrap()
        .contains(",2024-02-01T09:00:00Z,"));
    job.assert_equals_full_run();
    assert_eq!(generations(&job), ["gen-000002"]);
}

#[test]
fn rehash_finds_a_change_that_kept_size_and_modification_time() {
    let job = Job::new();
    let name = "customer_courier_chat_messages_1.ndjson";
    job.add(
        name,
        &[message(1, "2024-02-01T08:00:00Z", false, "ACCEPTED")],
    );
    job.add("orders_1.ndjson", &[order(1, "BCN")]);
    job.incremental_ok();
    let path = job.src().join(name);
    let modified = fs::metadata(&path).unwrap().modified().unwrap();
    job.add(
        name,
        &[message(1, "2024-02-01T09:00:00Z", false, "ACCEPTED")],
    );
    fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(modified)
        .unwrap();

    // Same size, same time: taken as folded, as make or git would.
    let o = job.incremental(&[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(row_of(&job.out(), 1)
        .unwrap()
        .contains(",2024-02-01T08:00:00Z,"));
    // --rehash reads every file's content.
    let o = job.incremental(&["--rehash"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("has changed since"), "{}", stderr(&o));
}

#[test]
fn max_lateness_turns_very_late_messages_into_a_warning_not_a_loss() {
    let job = Job::new();
    job.add(
        "customer_courier_chat_messages_1.ndjson",
        &[message(1, "2024-02-02T12:00:00Z", false, "ACCEPTED")],
    );
    job.add("orders_1.ndjson", &[order(1, "BCN"), order(2, "BCN")]);
    job.incremental_ok();
    job.add(
        "customer_courier_chat_messages_2.ndjson",
        &[
            message(2, "2024-02-02T09:00:00Z", false, "ACCEPTED"),
            message(2, "2024-02-02T11:30:00Z", true, "ACCEPTED"),
        ],
    );
    let o = job.incremental(&["--max-lateness", "1h"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let late = &job.report()["incremental"]["late"];
    assert_eq!(late["messages"], 2);
    assert_eq!(late["max_lateness_seconds"], 3600);
    assert_eq!(late["beyond_max_lateness"], 1);
    assert_eq!(
        late["beyond_examples"][0]["record"], 1,
        "records count from 1"
    );
    assert_eq!(
        late["beyond_examples"][0]["file"],
        "customer_courier_chat_messages_2.ndjson"
    );
    let warnings = strings(&job.report()["incremental"]["warnings"]);
    assert!(
        warnings[0].starts_with("1 messages arrived more than 3600 s behind the watermark"),
        "{warnings:?}"
    );
    assert!(row_of(&job.out(), 2).unwrap().contains(",1,1,customer,"));

    let bad = job.incremental(&["--max-lateness", "soon"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("is not a duration"),
        "{}",
        stderr(&bad)
    );
}

#[test]
fn usage_and_state_errors_exit_2_and_publish_nothing() {
    let job = Job::new();
    let o = run_ccc(&["run", "--incremental", "--source", path_str(&job.src())]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--state"), "{}", stderr(&o));

    job.one_order("2024-02-01T08:00:00Z");
    job.incremental_ok();
    let before = snapshot(&job.out());
    fs::remove_dir_all(job.state()).unwrap();
    let o = job.incremental(&[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("which is not in"), "{}", stderr(&o));
    assert_eq!(snapshot(&job.out()), before);

    let o = job.incremental(&["--format", "parquet"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(job.incremental(&["--reprocess"]).status.success());
    let o = job.incremental(&["--format", "parquet"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("the state was published as parquet,csv, this run asks for parquet"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_state_is_not_silently_restarted_for_another_output() {
    let job = Job::new();
    job.one_order("2024-02-01T08:00:00Z");
    job.incremental_ok();
    let state_before = snapshot(&job.state());
    let other = job.root.join("other-out");
    let o = run_ccc(&[
        "run",
        "--incremental",
        "--quiet",
        "--checks",
        "off",
        "--state",
        path_str(&job.state()),
        "--source",
        path_str(&job.src()),
        "--out",
        path_str(&other),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("has no incremental run report"),
        "{}",
        stderr(&o)
    );
    assert!(!other.exists());
    assert_eq!(
        snapshot(&job.state()),
        state_before,
        "the state is untouched"
    );

    // A full run over the output drops its link to the state: --reprocess starts over.
    assert!(run_job(&job.src(), &job.out(), &[]).status.success());
    assert_eq!(job.incremental(&[]).status.code(), Some(2));
    assert!(job.incremental(&["--reprocess"]).status.success());
    job.assert_equals_full_run();
}

#[test]
fn reprocess_rebuilds_over_a_damaged_state() {
    let job = Job::new();
    job.one_order("2024-02-01T08:00:00Z");
    job.incremental_ok();
    fs::write(job.state().join("gen-000001/manifest.json"), "{ not json").unwrap();
    let o = job.incremental(&[]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("is damaged"), "{}", stderr(&o));
    assert!(job.incremental(&["--reprocess"]).status.success());
    assert_eq!(generations(&job), ["gen-000002"]);
    job.assert_equals_full_run();
}

#[test]
fn a_city_conflicting_with_an_earlier_run_fails_enforce_and_warns_otherwise() {
    let job = Job::new();
    job.add(
        "customer_courier_chat_messages_1.ndjson",
        &[message(1, "2024-02-01T08:00:00Z", false, "ACCEPTED")],
    );
    job.add("orders_1.ndjson", &[order(1, "MAD")]);
    job.incremental_ok();
    let before = snapshot(&job.out());
    job.add("orders_2.ndjson", &[order(1, "BCN")]);
    let o = job.incremental(&[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("1 orders got a cityCode in the new files that differs"),
        "{}",
        stderr(&o)
    );
    assert_eq!(snapshot(&job.out()), before);

    let o = job.incremental(&["--checks", "warn"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("warning: 1 orders got a cityCode"),
        "{}",
        stderr(&o)
    );
    assert!(row_of(&job.out(), 1)
        .unwrap()
        .starts_with("2024-02-01,1,BCN,"));
}

#[test]
fn the_output_suite_passes_on_an_incremental_output() {
    let job = Job::new();
    job.add(
        "customer_courier_chat_messages_1.ndjson",
        &[
            message(1, "2024-02-01T08:00:00Z", false, "ACCEPTED"),
            message(9, "2024-02-01T08:00:00Z", false, "ACCEPTED"),
        ],
    );
    job.add("orders_1.ndjson", &[order(1, "BCN")]);
    job.incremental_ok();
    job.add(
        "customer_courier_chat_messages_2.ndjson",
        &[message(2, "2024-02-02T08:00:00Z", true, "ACCEPTED")],
    );
    job.add("orders_2.ndjson", &[order(2, "LIS")]);
    job.incremental_ok();
    let o = run_ccc(&[
        "validate",
        "--suite",
        "output",
        "--quiet",
        "--expectations",
        path_str(&expectations_dir()),
        "--data",
        path_str(&job.out()),
    ]);
    assert!(
        o.status.success(),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        stderr(&o)
    );
}

/// Where a run can be killed, in the order a run reaches them.
const KILL_POINTS: [&str; 5] = [
    "state-before-rename",
    "publish-mid-write",
    "publish-before-swap",
    "publish-after-swap",
    "state-before-cleanup",
];

#[test]
fn a_run_killed_anywhere_leaves_state_and_output_together() {
    for (i, point) in KILL_POINTS.iter().enumerate() {
        let job = Job::new();
        job.one_order("2024-02-02T10:00:00Z");
        job.incremental_ok();
        let old = table_snapshot(&job.out());
        job.add(
            "customer_courier_chat_messages_2.ndjson",
            &[
                message(1, "2024-02-01T10:00:00Z", true, "ACCEPTED"),
                message(2, "2024-02-03T10:00:00Z", true, "ACCEPTED"),
            ],
        );
        job.add("orders_2.ndjson", &[order(2, "LIS")]);
        let killed = job
            .command()
            .env("CCC_TEST_ABORT_AT", point)
            .output()
            .unwrap();
        assert!(!killed.status.success(), "{point}: the hook aborts");
        let swapped = i >= 3;
        let now = table_snapshot(&job.out());
        assert_eq!(now == old, !swapped, "{point}: old output until the swap");

        // The next run picks up where the killed one stopped: nothing lost, nothing twice.
        let report = job.incremental_ok();
        // After the swap the killed run's output stands and the next run has nothing new;
        // before it, the next run folds the same files into a generation of a new number.
        let i = &report["incremental"];
        assert_eq!(strings(&i["files_new"]).len(), 2, "{point}");
        // Before the swap the killed run may or may not have finished its generation (the
        // state and the output are written side by side); either way it is not used.
        let generation = i["generation"].as_u64().unwrap();
        if swapped {
            assert_eq!(generation, 2, "{point}");
        } else {
            assert!((2..=3).contains(&generation), "{point}: {generation}");
        }
        assert_eq!(i["totals"]["messages_read"], 3, "{point}");
        job.assert_equals_full_run();
        assert_eq!(generations(&job).len(), 1, "{point}: leftovers are removed");
    }
}

#[test]
fn sigkill_before_the_swap_keeps_the_previous_state_and_output() {
    let job = Job::new();
    job.one_order("2024-02-02T10:00:00Z");
    job.incremental_ok();
    let old = snapshot(&job.out());
    job.add(
        "customer_courier_chat_messages_2.ndjson",
        &[message(1, "2024-02-01T10:00:00Z", true, "ACCEPTED")],
    );
    let mut child = job.paused_before_swap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(snapshot(&job.out()), old);
    assert_eq!(
        generations(&job),
        ["gen-000001", "gen-000002"],
        "the new generation is left over"
    );
    let report = job.incremental_ok();
    assert_eq!(strings(&report["incremental"]["files_new"]).len(), 1);
    job.assert_equals_full_run();
}

#[test]
fn a_second_run_on_a_busy_state_is_refused_and_a_killed_runs_lock_is_taken_over() {
    let job = Job::new();
    job.one_order("2024-02-02T10:00:00Z");
    let mut first = job.paused_before_swap();
    let second = job.incremental(&[]);
    assert_eq!(second.status.code(), Some(2), "{}", stderr(&second));
    assert!(
        stderr(&second).contains(&format!(
            "another ccc run (process {}) is using",
            first.id()
        )),
        "{}",
        stderr(&second)
    );
    first.kill().unwrap();
    first.wait().unwrap();
    job.incremental_ok();
    job.assert_equals_full_run();
    assert!(!job.state().join("lock").exists(), "released at the end");
}

/// Generated data with late messages and late orders, once per test binary.
fn generated(format: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("incremental-generated");
    let dir = root.join(format);
    if !dir.exists() {
        // Test processes may race here: each writes its own copy, the first rename wins.
        let tmp = root.join(format!(".{format}-{}", std::process::id()));
        let o = run_ccc(&[
            "generate",
            "--orders",
            "400",
            "--files",
            "5",
            "--late",
            "0.25",
            "--seed",
            "7",
            "--format",
            format,
            "--out",
            path_str(&tmp),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        if fs::rename(&tmp, &dir).is_err() {
            fs::remove_dir_all(&tmp).unwrap();
        }
    }
    dir
}

fn source_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('_'))
        .collect();
    files.sort();
    files
}

/// The part files of the newest state generation whose names end with `suffix`, and the
/// parts its manifest says have a delta.
fn delta_files_and_manifest(job: &Job) -> (Vec<String>, Vec<String>) {
    let newest = job.state().join(generations(job).last().unwrap());
    let mut files: Vec<String> = fs::read_dir(newest.join("conversations"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter_map(|n| n.strip_suffix(".delta.arrow").map(str::to_string))
        .collect();
    files.sort();
    let manifest: Value =
        serde_json::from_str(&fs::read_to_string(newest.join("manifest.json")).unwrap()).unwrap();
    let listed: Vec<String> = manifest["parts"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, stats)| stats["delta_rows"].as_u64().unwrap_or(0) > 0)
        .map(|(part, _)| part.clone())
        .collect();
    (files, listed)
}

#[test]
fn thin_changes_to_every_part_are_written_as_deltas_and_read_back_exactly() {
    let data = tempfile::tempdir().unwrap();
    let o = run_ccc(&[
        "generate",
        "--orders",
        "6000",
        "--files",
        "12",
        "--late",
        "0.02",
        "--seed",
        "11",
        "--format",
        "parquet",
        "--out",
        path_str(data.path()),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let job = Job::new();
    let add = |k: usize| {
        for table in ["customer_courier_chat_messages", "orders"] {
            let name = format!("{table}_{k:04}.parquet");
            fs::hard_link(data.path().join(&name), job.src().join(&name)).unwrap();
        }
    };
    (1..=9).for_each(add);
    job.incremental_ok();
    assert_eq!(
        delta_files_and_manifest(&job),
        (vec![], vec![]),
        "a first run writes bases"
    );
    let mut moved = 0;
    for k in 10..=12 {
        add(k);
        let report = job.incremental_ok();
        moved += report["incremental"]["changes"]["conversations_moved"]
            .as_u64()
            .unwrap();
        let (files, listed) = delta_files_and_manifest(&job);
        assert!(
            !files.is_empty(),
            "run {k}: late messages in every hour leave deltas"
        );
        assert_eq!(
            files, listed,
            "run {k}: the manifest lists exactly the delta files"
        );
    }
    assert!(
        moved > 0,
        "some conversation moved out of a part (a tombstone)"
    );
    job.assert_equals_full_run();
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    /// Generated late data cut into random batches applied in random order: the published
    /// table equals one full run over all the files, byte for byte, after the last batch.
    #[test]
    fn incremental_runs_equal_one_full_run(
        parquet in any::<bool>(),
        keys in proptest::collection::vec(any::<u64>(), 10),
        cuts in proptest::collection::vec(proptest::bool::weighted(0.35), 10),
    ) {
        let data = generated(if parquet { "parquet" } else { "ndjson" });
        let mut files = source_files(&data);
        prop_assert_eq!(files.len(), 10);
        let mut keyed: Vec<(u64, PathBuf)> = keys.into_iter().zip(files.drain(..)).collect();
        keyed.sort();
        let job = Job::new();
        let mut runs = 0;
        for (i, (_, file)) in keyed.iter().enumerate() {
            fs::hard_link(file, job.src().join(file.file_name().unwrap())).unwrap();
            if cuts[i] || i + 1 == keyed.len() {
                let o = job.incremental(&["--checks", "off"]);
                prop_assert!(o.status.success(), "{}", stderr(&o));
                runs += 1;
            }
        }
        prop_assert!(runs >= 1);
        let report = job.report();
        prop_assert_eq!(&report["incremental"]["totals"]["messages_waiting"], 0);
        job.assert_equals_full_run();
    }
}
