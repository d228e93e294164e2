//! Each way a hostile or damaged input once broke ccc (issue 11), as a regression test:
//! panics, allocations an input decided, hangs, silently skipped files, a run that
//! published and then failed, a wrong exit code. Every case checks the exit code, the
//! message (file and position) and that the previous output is untouched.

mod support;

use std::fs;
use std::path::{Path, PathBuf};

use support::*;

/// A folder with a previous good output in `out` and a source folder `src` to spoil.
struct Case {
    tmp: tempfile::TempDir,
}

impl Case {
    fn new() -> Case {
        let case = Case {
            tmp: tempfile::tempdir().unwrap(),
        };
        write_small_sources(&case.path("good"));
        let first = run_job(&case.path("good"), &case.out(), &[]);
        assert!(first.status.success(), "{}", stderr(&first));
        write_small_sources(&case.src());
        case
    }

    fn path(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    fn src(&self) -> PathBuf {
        self.path("src")
    }

    fn out(&self) -> PathBuf {
        self.path("out")
    }

    /// `ccc ARGS` with the shipped suites, from the case's folder, killed if it hangs.
    fn ccc(&self, args: &[&str]) -> std::process::Output {
        self.ccc_with(&expectations_dir(), args)
    }

    /// `ccc ARGS --expectations EXP`, from the case's folder, killed if it hangs.
    fn ccc_with(&self, expectations: &Path, args: &[&str]) -> std::process::Output {
        let mut command = ccc();
        command
            .current_dir(self.tmp.path())
            .args(args)
            .args(["--expectations", path_str(expectations)]);
        output_within(&mut command, 60)
    }

    /// A new empty folder in the case's folder.
    fn folder(&self, name: &str) -> PathBuf {
        let dir = self.path(name);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// `ccc run` from `src` into `out` with extra arguments.
    fn run(&self, extra: &[&str]) -> std::process::Output {
        let (src, out) = (self.src(), self.out());
        let mut args = vec![
            "run",
            "-q",
            "--source",
            path_str(&src),
            "--out",
            path_str(&out),
        ];
        args.extend_from_slice(extra);
        self.ccc(&args)
    }

    /// Asserts the exit code, that stderr holds each needle and no panic, and that the
    /// previous output and its surroundings are as they were.
    fn fails(&self, output: &std::process::Output, code: i32, needles: &[&str]) -> String {
        let err = stderr(output);
        assert_eq!(output.status.code(), Some(code), "stderr:\n{err}");
        for needle in needles {
            assert!(
                err.contains(needle),
                "expected {needle:?} in stderr:\n{err}"
            );
        }
        assert!(!err.contains("panicked"), "{err}");
        self.untouched();
        err
    }

    fn untouched(&self) {
        let good = self.path("good");
        let expected = self.path("expected");
        if !expected.exists() {
            assert!(run_job(&good, &expected, &[]).status.success());
        }
        assert_eq!(table_snapshot(&self.out()), table_snapshot(&expected));
        assert_eq!(leftovers_beside(self.tmp.path()), Vec::<String>::new());
    }

    /// Replaces the messages of `src` with a committed hostile Parquet file, and the
    /// orders with `orders`.
    fn parquet_messages(&self, hostile: &str, orders: &Path) {
        let src = self.src();
        fs::remove_dir_all(&src).unwrap();
        fs::create_dir_all(&src).unwrap();
        fs::copy(
            hostile_input(&format!("parquet/{hostile}")),
            src.join("customer_courier_chat_messages.parquet"),
        )
        .unwrap();
        fs::copy(orders, src.join(orders.file_name().unwrap())).unwrap();
    }
}

fn orders_10_and_11(dir: &Path) -> PathBuf {
    let path = dir.join("orders.json");
    fs::write(
        &path,
        r#"[{"orderId": 10, "cityCode": "BCN"}, {"orderId": 11, "cityCode": "MAD"}]"#,
    )
    .unwrap();
    path
}

#[test]
fn timestamps_outside_years_1_to_9999_fail_the_source_suite_instead_of_panicking() {
    let case = Case::new();
    let orders = orders_10_and_11(case.tmp.path());
    case.parquet_messages("timestamps_out_of_range.parquet", &orders);
    let enforced = case.run(&[]);
    case.fails(&enforced, 1, &["source suite failed"]);
    let out = stdout(&case.ccc(&[
        "validate",
        "--suite",
        "source",
        "--source",
        path_str(&case.src()),
    ]));
    let line = out
        .lines()
        .find(|l| l.contains("messages-messageSentTime-timestamp"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(line.contains("FAIL") && line.contains(" 2 "), "{line}");

    // Going on anyway: the two values are null, quarantined with their reason and the
    // expectation they broke, and order 10 keeps its one usable message.
    let warned = case.run(&["--checks", "warn"]);
    assert_eq!(warned.status.code(), Some(0), "{}", stderr(&warned));
    let quarantine = fs::read_to_string(
        case.out()
            .join("quarantine/customer_courier_chat_messages.csv"),
    )
    .unwrap();
    for raw in ["9223372036854775807", "9000000000000000000"] {
        assert!(
            quarantine.contains(&format!(
                ",{raw},messageSentTime is a timestamp outside the years 0001-9999 \
                 [expectations: messages-messageSentTime-timestamp],customer_courier_chat_messages.parquet,"
            )),
            "{quarantine}"
        );
    }
    assert_eq!(
        table_csv(&case.out()),
        vec!["2024-02-01,10,BCN,,2024-02-01T10:00:00Z,0,1,customer,2024-02-01T10:00:00Z,,2024-02-01T10:00:00Z,ACCEPTED"]
    );
}

#[test]
fn timestamps_outside_the_range_in_an_incremental_run_are_quarantined() {
    let case = Case::new();
    let orders = orders_10_and_11(case.tmp.path());
    case.parquet_messages("timestamps_out_of_range.parquet", &orders);
    let state = case.path("state");
    let out = case.run(&[
        "--checks",
        "warn",
        "--incremental",
        "--state",
        path_str(&state),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(table_csv(&case.out()).len(), 1);
}

#[test]
fn damaged_parquet_files_are_input_errors_naming_the_file() {
    for hostile in [
        "footer_names_a_missing_column.parquet",
        "zeroed_definition_levels.parquet",
        "overlong_uleb128.parquet",
        "damaged_arrow_schema.parquet",
    ] {
        let case = Case::new();
        case.parquet_messages(hostile, &hostile_input("parquet/orders.parquet"));
        let out = case.run(&["--checks", "off"]);
        let err = case.fails(
            &out,
            3,
            &["customer_courier_chat_messages.parquet: not a readable Parquet file"],
        );
        assert!(
            err.len() < 2_000,
            "{hostile}: a short message, not a dump:\n{err}"
        );
    }
}

#[test]
fn a_suite_error_past_column_65535_is_reported_without_its_line() {
    let case = Case::new();
    let exp = case.folder("exp");
    fs::copy(
        expectations_dir().join("output.yaml"),
        exp.join("output.yaml"),
    )
    .unwrap();
    let shipped = fs::read_to_string(expectations_dir().join("source.yaml")).unwrap();
    // A flow mapping on one line, with an unknown key 70,000 characters in.
    let long = format!(
        "{shipped}\n# {}\nextra: {{{}: 1, bad key: [}}\n",
        "x".repeat(10),
        "k".repeat(70_000)
    );
    fs::write(exp.join("source.yaml"), long).unwrap();
    let src = case.src();
    let out = case.ccc_with(
        &exp,
        &["validate", "--suite", "source", "--source", path_str(&src)],
    );
    let err = case.fails(&out, 2, &["source.yaml:"]);
    assert!(
        err.len() < 5_000,
        "the 70,000-character line is not echoed:\n{err}"
    );
}

#[test]
fn a_suite_nested_deeper_than_64_levels_is_refused_before_parsing() {
    let case = Case::new();
    let exp = case.folder("exp");
    let deep = format!("suite: {}1{}\n", "[".repeat(100_000), "]".repeat(100_000));
    fs::write(exp.join("deep.yaml"), deep).unwrap();
    let out = case.ccc(&[
        "validate",
        "--suite",
        path_str(&exp.join("deep.yaml")),
        "--source",
        path_str(&case.src()),
    ]);
    case.fails(
        &out,
        2,
        &["deep.yaml:1:71: the suite nests deeper than 64 levels"],
    );
}

#[test]
fn threads_above_256_are_bad_usage() {
    let case = Case::new();
    for n in ["0", "257", "4096", "100000"] {
        let out = case.ccc(&[
            "--threads",
            n,
            "validate",
            "--suite",
            "source",
            "--source",
            "src",
        ]);
        case.fails(
            &out,
            2,
            &[&format!("--threads must be between 1 and 256, not {n}")],
        );
    }
}

#[test]
fn a_csv_header_past_the_record_limit_is_refused_with_a_short_message() {
    let case = Case::new();
    let src = case.src();
    fs::remove_file(src.join("orders.json")).unwrap();
    let mut header = b"orderId,cityCode,".to_vec();
    header.extend(std::iter::repeat_n(b'h', 3 << 20));
    fs::write(src.join("orders.csv"), &header).unwrap();
    let out = case.run(&["--max-record-bytes", "1MiB"]);
    let err = case.fails(
        &out,
        3,
        &["orders.csv:1: a record longer than 1048576 bytes starts here"],
    );
    assert!(err.len() < 2_000, "{err}");
}

#[test]
fn a_failing_value_of_megabytes_is_shown_as_its_start_and_length() {
    let case = Case::new();
    let src = case.src();
    let huge = "Q".repeat(4 << 20);
    let text = fs::read_to_string(src.join("customer_courier_chat_messages.json"))
        .unwrap()
        .replacen("Customer iOS", &huge, 1);
    fs::write(src.join("customer_courier_chat_messages.json"), text).unwrap();
    let reports = case.path("reports");
    fs::create_dir_all(&reports).unwrap();
    let (json, md) = (reports.join("r.json"), reports.join("r.md"));
    let out = case.ccc(&[
        "validate",
        "--suite",
        "source",
        "--source",
        path_str(&src),
        "--report",
        "json",
        "--report-file",
        path_str(&json),
        "--report",
        "markdown",
        "--report-file",
        path_str(&md),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let human = stdout(&out);
    assert!(
        human.contains(&format!("{}…\" (4194304 bytes)", "Q".repeat(20))),
        "{human}"
    );
    assert!(human.len() < 40_000, "{} bytes of report", human.len());
    assert!(fs::metadata(&md).unwrap().len() < 40_000);
    let report: serde_json::Value = serde_json::from_slice(&fs::read(&json).unwrap()).unwrap();
    let example = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "messages-senderAppType-in-set")
        .map(|r| r["partial_unexpected"][0].clone())
        .unwrap();
    assert_eq!(example["value_length"], 4 << 20);
    assert_eq!(example["value"], format!("{}…", "Q".repeat(120)));
}

/// Makes a FIFO at `path`.
fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn fifos_where_files_are_expected_are_refused_by_name() {
    // A source file.
    let case = Case::new();
    let fifo = case.src().join("orders_2.json");
    mkfifo(&fifo);
    let err = case.fails(&case.run(&[]), 3, &["orders_2.json", "a FIFO"]);
    assert!(err.contains("where ccc expects a regular file"), "{err}");
    fs::remove_file(&fifo).unwrap();

    // A suite.
    let exp = case.folder("exp");
    mkfifo(&exp.join("source.yaml"));
    let src = case.src();
    case.fails(
        &case.ccc_with(
            &exp,
            &["validate", "--suite", "source", "--source", path_str(&src)],
        ),
        2,
        &["source.yaml", "not a regular file"],
    );

    // A published part file.
    let data = case.path("published");
    copy_tree(&case.out(), &data);
    let part = first_part(&data, "parquet");
    fs::remove_file(&part).unwrap();
    mkfifo(&part);
    let out = case.ccc(&["validate", "--suite", "output", "--data", path_str(&data)]);
    let name = part.file_name().unwrap().to_string_lossy().into_owned();
    case.fails(&out, 3, &[&name, "a FIFO"]);

    // A state file.
    let state = case.path("state");
    let first = case.run(&[
        "--checks",
        "off",
        "--incremental",
        "--state",
        path_str(&state),
    ]);
    assert!(first.status.success(), "{}", stderr(&first));
    let manifest = find_file(&state, "manifest.json");
    fs::remove_file(&manifest).unwrap();
    mkfifo(&manifest);
    let before = snapshot(&case.out());
    let out = case.run(&[
        "--checks",
        "off",
        "--incremental",
        "--state",
        path_str(&state),
    ]);
    let err = stderr(&out);
    assert!(matches!(out.status.code(), Some(2 | 3)), "{err}");
    assert!(err.contains("manifest.json"), "{err}");
    assert_eq!(snapshot(&case.out()), before);
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn find_file(dir: &Path, name: &str) -> PathBuf {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).unwrap().flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().is_some_and(|n| n == name) {
                return p;
            }
        }
    }
    panic!("no {name} under {}", dir.display());
}

#[test]
fn a_symlinked_source_file_is_read_and_a_broken_one_is_named() {
    let case = Case::new();
    let src = case.src();
    let landed = case.path("landing");
    fs::create_dir_all(&landed).unwrap();
    let more = r#"[{"senderAppType": "Courier iOS", "customerId": 3, "fromId": 4, "toId": 3, "chatStartedByMessage": false,
  "orderId": 11, "orderStage": "DELIVERED", "courierId": 4, "messageSentTime": "2024-02-02T09:30:00Z"}]"#;
    fs::write(landed.join("batch.json"), more).unwrap();
    std::os::unix::fs::symlink(
        landed.join("batch.json"),
        src.join("customer_courier_chat_messages_2.json"),
    )
    .unwrap();
    let out = case.run(&["--checks", "off"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let rows = table_csv(&case.out());
    assert!(
        rows.iter().any(|r| r.starts_with("2024-02-02,11,MAD,")
            && r.contains(",2,0,courier,")
            && r.ends_with("DELIVERED")),
        "the linked file's message is in the table: {rows:?}"
    );

    let case = Case::new();
    std::os::unix::fs::symlink(
        case.path("nowhere.json"),
        case.src().join("customer_courier_chat_messages_2.json"),
    )
    .unwrap();
    case.fails(
        &case.run(&[]),
        3,
        &["customer_courier_chat_messages_2.json"],
    );
}

#[test]
fn an_unwritable_report_file_stops_the_run_before_anything_is_published() {
    let case = Case::new();
    // Different sources, so a publish would show.
    let src = case.src();
    let text = fs::read_to_string(src.join("orders.json"))
        .unwrap()
        .replace("BCN", "LIS");
    fs::write(src.join("orders.json"), text).unwrap();
    let folder = case.path("a-folder");
    fs::create_dir_all(&folder).unwrap();
    let missing = case.path("missing/report.json");
    for (target, why) in [
        (&folder, "it is a folder"),
        (&missing, "its folder does not exist"),
    ] {
        let out = case.run(&["--report", "json", "--report-file", path_str(target)]);
        case.fails(&out, 3, &["cannot write", why]);
        assert!(!case.path("missing").exists(), "no folder is created");
    }
}

#[test]
fn a_run_report_without_its_counts_is_an_input_error_naming_it() {
    let case = Case::new();
    let data = case.path("published");
    copy_tree(&case.out(), &data);
    let report_path = data.join("_run.json");
    let mut report: serde_json::Value =
        serde_json::from_slice(&fs::read(&report_path).unwrap()).unwrap();
    report["messages"]
        .as_object_mut()
        .unwrap()
        .remove("aggregated");
    fs::write(&report_path, serde_json::to_vec(&report).unwrap()).unwrap();
    let out = case.ccc(&["validate", "--suite", "output", "--data", path_str(&data)]);
    case.fails(
        &out,
        3,
        &["_run.json: `messages.aggregated` is missing or not a count"],
    );
    report["messages"]["aggregated"] = serde_json::json!("three");
    fs::write(&report_path, serde_json::to_vec(&report).unwrap()).unwrap();
    let out = case.ccc(&["validate", "--suite", "output", "--data", path_str(&data)]);
    case.fails(
        &out,
        3,
        &["`messages.aggregated` is missing or not a count"],
    );
    fs::write(&report_path, "{ not json").unwrap();
    let out = case.ccc(&["validate", "--suite", "output", "--data", path_str(&data)]);
    case.fails(&out, 3, &["_run.json: not valid JSON"]);
}

/// Every input a fuzzer found (tests/hostile/fuzz/<target>/), through the real binary.
fn fuzz_findings(target: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(hostile_input(&format!("fuzz/{target}")))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no findings for {target}");
    files
}

#[test]
fn source_files_the_fuzzers_found_are_clear_input_errors() {
    for (target, ext) in [("parquet", "parquet"), ("json_array", "json")] {
        for finding in fuzz_findings(target) {
            for table in ["customer_courier_chat_messages", "orders"] {
                let case = Case::new();
                let name = format!("{table}.{ext}");
                let src = case.src();
                fs::remove_file(src.join(format!("{table}.json"))).unwrap();
                fs::copy(&finding, src.join(&name)).unwrap();
                let out = case.run(&["--checks", "warn"]);
                let err = stderr(&out);
                let shown = finding.display();
                assert!(!err.contains("panicked"), "{shown} as {name}: {err}");
                match out.status.code() {
                    Some(0) => {}
                    Some(3) => assert!(err.contains(&name), "{shown} as {name}: {err}"),
                    code => panic!("{shown} as {name}: exit {code:?}\n{err}"),
                }
                if out.status.code() != Some(0) {
                    case.untouched();
                }
            }
        }
    }
}

#[test]
fn published_files_and_suites_the_fuzzers_found_are_clear_errors() {
    let case = Case::new();
    for finding in fuzz_findings("published_output") {
        let data = case.path("published");
        let _ = fs::remove_dir_all(&data);
        copy_tree(&case.out(), &data);
        let part = first_part(&data, "parquet");
        fs::copy(&finding, &part).unwrap();
        let out = case.ccc(&["validate", "--suite", "output", "--data", path_str(&data)]);
        let name = part.file_name().unwrap().to_string_lossy().into_owned();
        case.fails(&out, 3, &[&name]);
    }
    for finding in fuzz_findings("suite") {
        let out = case.ccc(&[
            "validate",
            "--suite",
            path_str(&finding),
            "--source",
            path_str(&case.src()),
        ]);
        case.fails(&out, 2, &[finding.file_name().unwrap().to_str().unwrap()]);
    }
}
