//! ccc as orchestrator steps, end to end with the real binary, always run from a
//! temporary folder that is not the repository (no `expectations/` beside it): the
//! built-in suites, and write (`run --stage`), audit (`validate --data STAGED`) and
//! publish (`publish --staged`) for full and incremental runs — their refusals, their
//! crash safety, and that the three steps give the bytes one `ccc run` gives.

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use sha2::{Digest, Sha256};
use support::{ccc, first_part, part_files, path_str, stderr, stdout, table_snapshot};

/// A temporary working folder with the sample sources copied in as `src/`.
struct Workspace {
    tmp: tempfile::TempDir,
}

impl Workspace {
    fn new() -> Workspace {
        let tmp = tempfile::tempdir().unwrap();
        let src = tmp.path().join("src");
        fs::create_dir(&src).unwrap();
        let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/source");
        for entry in fs::read_dir(sample).unwrap().flatten() {
            fs::copy(entry.path(), src.join(entry.file_name())).unwrap();
        }
        Workspace { tmp }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    /// `ccc ARGS`, run in the workspace folder.
    fn ccc(&self, args: &[&str]) -> Output {
        ccc()
            .current_dir(self.tmp.path())
            .args(args)
            .output()
            .expect("the ccc binary runs")
    }

    /// `ccc ARGS`, which must exit `code`.
    fn expect(&self, code: i32, args: &[&str]) -> Output {
        let output = self.ccc(args);
        assert_eq!(
            output.status.code(),
            Some(code),
            "ccc {}\nstdout:\n{}\nstderr:\n{}",
            args.join(" "),
            stdout(&output),
            stderr(&output)
        );
        output
    }

    /// `ccc run --source src --out OUT EXTRA…`, which must exit `code`.
    fn run(&self, code: i32, out: &str, extra: &[&str]) -> Output {
        let mut args = vec!["run", "--source", "src", "--out", out];
        args.extend_from_slice(extra);
        self.expect(code, &args)
    }

    /// The audit step on `folder`, which must pass.
    fn audit(&self, folder: &str) {
        self.expect(
            0,
            &["validate", "--suite", "output", "--data", folder, "--quiet"],
        );
    }

    /// `ccc ARGS`, which must exit `code` saying `why` on stderr.
    fn refused(&self, code: i32, args: &[&str], why: &str) {
        let output = self.expect(code, args);
        assert!(stderr(&output).contains(why), "{}", stderr(&output));
    }

    fn json(&self, relative: &str) -> serde_json::Value {
        serde_json::from_str(&fs::read_to_string(self.path(relative)).unwrap()).unwrap()
    }
}

fn sha256_of(path: &Path) -> String {
    Sha256::digest(fs::read(path).unwrap())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn shipped(name: &str) -> PathBuf {
    support::expectations_dir().join(name)
}

/// `_run.json` without what differs between two runs of the same job (timings, memory).
fn run_report_without_timings(out: &Path) -> serde_json::Value {
    let mut report: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("_run.json")).unwrap()).unwrap();
    let report_fields = report.as_object_mut().unwrap();
    report_fields.remove("timings");
    report_fields.remove("memory");
    report
}

/// The table, quarantine and run report (timings and memory aside) of an output.
fn published(out: &Path) -> (Vec<(PathBuf, Vec<u8>)>, serde_json::Value) {
    let files = table_snapshot(out)
        .into_iter()
        .filter(|(p, _)| !p.ends_with("_audit.json"))
        .collect();
    (files, run_report_without_timings(out))
}

#[test]
fn every_command_works_from_a_folder_without_expectations_using_the_built_in_suites() {
    let w = Workspace::new();
    assert!(!w.path("expectations").exists());
    let run = w.run(0, "out", &["--report", "json", "--report-file", "run.json"]);
    assert!(stdout(&run).contains("published"), "{}", stdout(&run));
    let report = w.json("out/_run.json");
    for (side, file) in [("source", "source.yaml"), ("output", "output.yaml")] {
        let origin = &report["checks"][side]["origin"];
        assert_eq!(origin["source"], format!("built-in {file}"), "{report:#}");
        assert_eq!(origin["sha256"], sha256_of(&shipped(file)));
    }
    let suites = w.json("run.json");
    assert_eq!(suites[0]["origin"]["source"], "built-in source.yaml");
    assert_eq!(suites[1]["origin"]["source"], "built-in output.yaml");

    w.expect(0, &["validate", "--suite", "source", "--source", "src"]);
    let validated = w.expect(
        0,
        &[
            "validate",
            "--suite",
            "output",
            "--data",
            "out",
            "--report",
            "json",
            "--report-file",
            "output.json",
        ],
    );
    assert!(stdout(&validated).contains("PASSED"));
    let result = w.json("output.json");
    assert_eq!(result["origin"]["source"], "built-in output.yaml");
    assert_eq!(
        result["origin"]["sha256"],
        sha256_of(&shipped("output.yaml"))
    );
    // Validating a published output only reads it.
    assert!(!w.path("out/_audit.json").exists());
}

#[test]
fn the_first_run_without_sources_fails_naming_the_default_folder() {
    let w = Workspace::new();
    w.refused(3, &["run", "--quiet"], "data/source");
}

#[test]
fn written_out_suites_can_be_customised_and_override_the_built_in_ones() {
    let w = Workspace::new();
    let wrote = w.expect(0, &["expectations", "--write", "mine"]);
    assert!(
        stdout(&wrote).contains("mine/source.yaml"),
        "{}",
        stdout(&wrote)
    );
    for name in ["source.yaml", "output.yaml"] {
        assert_eq!(
            fs::read(w.path("mine").join(name)).unwrap(),
            fs::read(shipped(name)).unwrap()
        );
    }
    // A second write does not overwrite a user's suites without --force.
    w.refused(2, &["expectations", "--write", "mine"], "--force");

    // A stricter output suite: more conversations than the sample has.
    let output = w.path("mine/output.yaml");
    let text = fs::read_to_string(&output).unwrap();
    let strict = format!(
        "{text}      - id: at-least-a-million-rows\n        expectation: expect_table_row_count_to_be_between\n        min_value: 1000000\n"
    );
    fs::write(&output, &strict).unwrap();
    w.expect(0, &["expectations", "--write", "mine", "--force"]);
    assert_eq!(
        fs::read(&output).unwrap(),
        fs::read(shipped("output.yaml")).unwrap()
    );
    fs::write(&output, &strict).unwrap();
    let failed = w.run(1, "out", &["--expectations", "mine"]);
    assert!(
        stdout(&failed).contains("at-least-a-million-rows"),
        "{}",
        stdout(&failed)
    );
    assert!(!w.path("out").exists());
    let warned = w.run(
        0,
        "out",
        &["--expectations", "mine", "--checks", "warn", "--quiet"],
    );
    assert!(warned.status.success());
    let origin = &w.json("out/_run.json")["checks"]["output"]["origin"];
    assert_eq!(origin["source"], "mine/output.yaml");
    assert_eq!(origin["sha256"], sha256_of(&output));

    // Schema checks and located errors still apply to a suite folder.
    fs::write(w.path("mine/source.yaml"), "suite: s\ntables:\n  orders:\n    expectations:\n      - expectation: expect_no_such_thing\n").unwrap();
    let bad = w.run(2, "out", &["--expectations", "mine"]);
    assert!(
        stderr(&bad).contains("mine/source.yaml:5"),
        "{}",
        stderr(&bad)
    );
}

#[test]
fn a_staged_output_is_invisible_until_an_audited_publish_and_matches_one_run() {
    let w = Workspace::new();
    w.run(0, "one", &["--quiet"]);

    let staged = w.run(0, "out", &["--stage", "staged"]);
    assert!(stdout(&staged).contains("staged"), "{}", stdout(&staged));
    assert!(!w.path("out").exists(), "a staged run publishes nothing");
    let record = w.json("staged/_stage.json");
    assert_eq!(record["out"], path_str(&w.path("out")));
    assert!(record["incremental"].is_null());

    w.refused(
        2,
        &["publish", "--staged", "staged", "--out", "out"],
        "has no audit",
    );
    assert!(!w.path("out").exists());

    w.audit("staged");
    let audit = w.json("staged/_audit.json");
    assert_eq!(audit["success"], true);
    assert_eq!(audit["origin"]["source"], "built-in output.yaml");
    assert_eq!(
        audit["origin"]["sha256"],
        sha256_of(&shipped("output.yaml"))
    );
    assert_eq!(audit["statistics"]["failed_errors"], 0);

    let done = w.expect(0, &["publish", "--staged", "staged", "--out", "out"]);
    assert!(
        stdout(&done).contains("audited by suite output"),
        "{}",
        stdout(&done)
    );
    assert!(!w.path("staged").exists(), "the staged folder is spent");
    assert_eq!(published(&w.path("out")).0, published(&w.path("one")).0);
    let (mut one, mut three) = (
        run_report_without_timings(&w.path("one")),
        run_report_without_timings(&w.path("out")),
    );
    one.as_object_mut().unwrap().remove("out");
    three.as_object_mut().unwrap().remove("out");
    assert_eq!(one, three);
    assert!(
        w.path("out/_audit.json").exists(),
        "the audit is published with it"
    );
    assert_eq!(
        support::leftovers_beside(w.tmp.path()),
        Vec::<String>::new()
    );
}

#[test]
fn publish_refuses_a_failed_or_stale_audit_and_another_outputs_stage() {
    let w = Workspace::new();
    w.run(0, "out", &["--quiet"]);
    let before = published(&w.path("out"));
    w.run(0, "out", &["--stage", "staged", "--quiet"]);

    // A failing audit suite: recorded, and publish refuses with exit 1.
    let strict = w.path("strict.yaml");
    fs::write(
        &strict,
        "suite: strict\ntables:\n  customer_courier_conversations:\n    expectations:\n      - id: a-million-rows\n        expectation: expect_table_row_count_to_be_between\n        min_value: 1000000\n",
    )
    .unwrap();
    w.expect(
        1,
        &[
            "validate",
            "--suite",
            path_str(&strict),
            "--data",
            "staged",
            "--quiet",
        ],
    );
    assert_eq!(w.json("staged/_audit.json")["success"], false);
    w.refused(
        1,
        &["publish", "--staged", "staged", "--out", "out"],
        "audit of staged failed",
    );

    // A passed audit, then a staged file changes: stale, exit 2.
    w.audit("staged");
    let part = first_part(&w.path("staged"), "csv");
    let mut text = fs::read_to_string(&part).unwrap();
    text.push('\n');
    fs::write(&part, text).unwrap();
    w.refused(
        2,
        &["publish", "--staged", "staged", "--out", "out"],
        "changed since their audit",
    );

    // Staged for another output.
    w.audit("staged");
    w.refused(
        2,
        &["publish", "--staged", "staged", "--out", "elsewhere"],
        "was staged for",
    );
    assert_eq!(
        published(&w.path("out")),
        before,
        "every refusal left the output as it was"
    );

    // Not a staged output at all.
    fs::create_dir(w.path("junk")).unwrap();
    fs::write(w.path("junk/notes.txt"), "x").unwrap();
    w.refused(
        2,
        &["publish", "--staged", "junk", "--out", "out", "--no-audit"],
        "is not a staged output",
    );

    // A folder published over itself would be lost with it.
    w.refused(
        2,
        &["publish", "--staged", "out", "--out", "out", "--no-audit"],
        "inside one another",
    );
    assert_eq!(published(&w.path("out")), before);

    // --no-audit publishes the changed folder anyway.
    fs::write(&part, "changed").unwrap();
    w.expect(
        0,
        &[
            "publish",
            "--staged",
            "staged",
            "--out",
            "out",
            "--no-audit",
            "--quiet",
        ],
    );
    assert_eq!(
        fs::read_to_string(first_part(&w.path("out"), "csv")).unwrap(),
        "changed"
    );
}

/// Generates sources with late messages in two batches of files, `gen/…_0001.*` and
/// `gen/…_0002.*`, for incremental runs.
fn two_batches(w: &Workspace) {
    w.expect(
        0,
        &[
            "generate", "--orders", "400", "--files", "2", "--late", "0.2", "--format", "ndjson",
            "--out", "gen",
        ],
    );
}

/// Copies batch `n` of the generated files into `dir`.
fn add_batch(w: &Workspace, n: u32, dir: &str) {
    fs::create_dir_all(w.path(dir)).unwrap();
    for entry in fs::read_dir(w.path("gen")).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.contains(&format!("_{n:04}.")) {
            fs::copy(entry.path(), w.path(dir).join(&name)).unwrap();
        }
    }
}

/// `ccc run --incremental` from `source` into `out` with state `state`, plus `extra`,
/// which must succeed.
fn incremental(w: &Workspace, source: &str, out: &str, state: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "run",
        "--incremental",
        "--state",
        state,
        "--source",
        source,
        "--out",
        out,
    ];
    args.extend_from_slice(extra);
    w.expect(0, &args)
}

fn incremental_stage(w: &Workspace, source: &str, out: &str, state: &str, stage: &str) {
    incremental(w, source, out, state, &["--stage", stage, "--quiet"]);
}

#[test]
fn incremental_three_steps_give_the_bytes_of_one_run_and_commit_the_state_with_the_output() {
    let w = Workspace::new();
    two_batches(&w);
    for (n, first) in [(1, true), (2, false)] {
        add_batch(&w, n, "src_one");
        add_batch(&w, n, "src_three");
        incremental(&w, "src_one", "one", "state_one", &["--quiet"]);
        let state_before: Vec<String> = listing(&w.path("state_three"));
        incremental_stage(&w, "src_three", "three", "state_three", "staged");
        assert_eq!(
            listing(&w.path("state_three")),
            state_before,
            "staging leaves the state"
        );
        let record = w.json("staged/_stage.json");
        assert_eq!(record["incremental"]["base_token"].is_null(), first);
        assert_eq!(
            record["incremental"]["generation"],
            format!("_state/gen-00000{n}")
        );
        w.audit("staged");
        let done = w.expect(0, &["publish", "--staged", "staged", "--out", "three"]);
        assert!(
            stdout(&done).contains(&format!("state generation {n}")),
            "{}",
            stdout(&done)
        );
        assert_eq!(published(&w.path("three")).0, published(&w.path("one")).0);
        assert_eq!(
            listing(&w.path("state_three")),
            listing(&w.path("state_one"))
        );
    }
    // Nothing new: staged as it is, and publishing it changes nothing.
    incremental_stage(&w, "src_three", "three", "state_three", "staged");
    w.audit("staged");
    w.expect(
        0,
        &["publish", "--staged", "staged", "--out", "three", "--quiet"],
    );
    assert_eq!(published(&w.path("three")).0, published(&w.path("one")).0);
    // The next one-command run builds on what the steps published.
    add_batch(&w, 1, "src_extra");
    incremental(&w, "src_three", "three", "state_three", &["--quiet"]);
}

#[test]
fn a_stage_built_on_a_state_published_over_since_is_refused_as_stale() {
    let w = Workspace::new();
    two_batches(&w);
    add_batch(&w, 1, "src");
    incremental(&w, "src", "out", "state", &["--quiet"]);
    add_batch(&w, 2, "src");
    incremental_stage(&w, "src", "out", "state", "first");
    incremental_stage(&w, "src", "out", "state", "second");
    for stage in ["first", "second"] {
        w.audit(stage);
    }
    w.expect(
        0,
        &["publish", "--staged", "first", "--out", "out", "--quiet"],
    );
    let after_first = published(&w.path("out"));
    w.refused(
        2,
        &["publish", "--staged", "second", "--out", "out"],
        "is stale",
    );
    assert_eq!(published(&w.path("out")), after_first);
}

#[test]
fn a_stage_record_naming_a_generation_outside_the_stage_is_refused() {
    let w = Workspace::new();
    two_batches(&w);
    add_batch(&w, 1, "src");
    incremental_stage(&w, "src", "out", "state", "staged");
    let path = w.path("staged/_stage.json");
    let mut record = w.json("staged/_stage.json");
    record["incremental"]["generation"] = serde_json::json!("../../elsewhere");
    fs::write(&path, record.to_string()).unwrap();
    w.refused(
        3,
        &[
            "publish",
            "--staged",
            "staged",
            "--out",
            "out",
            "--no-audit",
        ],
        "is not a folder of _state/",
    );
    assert!(!w.path("out").exists());
}

/// Relative paths of the files below `dir` (empty if it does not exist), lock aside.
fn listing(dir: &Path) -> Vec<String> {
    if !dir.exists() {
        return Vec::new();
    }
    let mut names: Vec<String> = support::snapshot(dir)
        .into_iter()
        .map(|(p, _)| p.display().to_string())
        .filter(|p| p != "lock")
        .collect();
    names.sort();
    names
}

#[test]
fn a_publish_killed_before_or_after_its_swap_leaves_output_and_state_together() {
    for point in [
        "publish-before-swap",
        "state-before-rename",
        "publish-after-swap",
        "state-before-cleanup",
    ] {
        let w = Workspace::new();
        two_batches(&w);
        add_batch(&w, 1, "src");
        incremental(&w, "src", "out", "state", &["--quiet"]);
        let old = published(&w.path("out"));
        add_batch(&w, 2, "src");
        incremental_stage(&w, "src", "out", "state", "staged");
        w.audit("staged");
        let killed = ccc()
            .current_dir(w.tmp.path())
            .env("CCC_TEST_ABORT_AT", point)
            .args(["publish", "--staged", "staged", "--out", "out"])
            .output()
            .unwrap();
        assert_eq!(
            killed.status.code(),
            None,
            "{point}: the publish was killed"
        );
        let swapped = published(&w.path("out")) != old;
        assert_eq!(
            swapped,
            point.ends_with("after-swap") || point == "state-before-cleanup",
            "{point}"
        );
        // Whichever it holds, the output names a state generation that exists: the next
        // incremental run goes on from it without --reprocess.
        if !swapped {
            // Killed before the swap: the staged folder is whole, and publishing again works.
            w.expect(
                0,
                &["publish", "--staged", "staged", "--out", "out", "--quiet"],
            );
        }
        let next = incremental(&w, "src", "out", "state", &[]);
        assert!(
            stdout(&next).contains("nothing new"),
            "{point}: {}",
            stdout(&next)
        );
    }
}

#[test]
fn another_programs_folder_in_cccs_layout_is_audited_and_published() {
    // A folder written without ccc's records: the table as another engine would lay it
    // out (here copied from a ccc output, renamed as Spark names parts, with its
    // _SUCCESS marker), and no _run.json.
    let w = Workspace::new();
    w.run(0, "one", &["--quiet"]);
    let table = "parquet/customer_courier_conversations";
    for entry in fs::read_dir(w.path("one").join(table)).unwrap().flatten() {
        let to = w.path("spark").join(table).join(entry.file_name());
        fs::create_dir_all(&to).unwrap();
        for (i, part) in part_files(&entry.path()).iter().enumerate() {
            fs::copy(part, to.join(format!("part-{i:05}-c000.snappy.parquet"))).unwrap();
        }
    }
    fs::write(w.path("spark").join(table).join("_SUCCESS"), "").unwrap();
    w.expect(2, &["publish", "--staged", "spark", "--out", "out"]);
    w.audit("spark");
    assert!(w.path("spark/_audit.json").exists());
    w.expect(
        0,
        &["publish", "--staged", "spark", "--out", "out", "--quiet"],
    );
    assert!(!w.path("spark").exists());
    let parts = |out: &str| -> Vec<Vec<u8>> {
        let mut files: Vec<(PathBuf, Vec<u8>)> = support::snapshot(&w.path(out).join(table));
        files.retain(|(p, _)| p.extension().is_some_and(|e| e == "parquet"));
        files.into_iter().map(|(_, bytes)| bytes).collect()
    };
    assert_eq!(parts("out"), parts("one"));
    assert!(w.path("out").join(table).join("_SUCCESS").exists());
    w.audit("out");
}

#[test]
fn a_closed_stdout_ends_the_output_quietly_with_the_commands_exit_code() {
    let w = Workspace::new();
    w.run(0, "out", &["--quiet"]);
    for (args, code) in [
        (vec!["validate", "--suite", "output", "--data", "out"], 0),
        (vec!["run", "--source", "src", "--out", "out"], 0),
    ] {
        let mut child = ccc()
            .current_dir(w.tmp.path())
            .args(&args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let output = child.wait_with_output().unwrap();
        assert_eq!(
            output.status.code(),
            Some(code),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(!stderr(&output).contains("panicked"), "{}", stderr(&output));
    }
}

#[test]
fn the_binary_is_a_position_independent_executable() {
    // ELF e_type at offset 16: 3 (ET_DYN) for a PIE, 2 (ET_EXEC) for a fixed address.
    let bytes = fs::read(env!("CARGO_BIN_EXE_ccc")).unwrap();
    if bytes.starts_with(b"\x7fELF") {
        assert_eq!(u16::from_le_bytes([bytes[16], bytes[17]]), 3);
    }
}
