//! Hostile inputs: a bounded property-based fuzz of the real binary.
//!
//! Small valid sources (made by `ccc generate` and by hand, in every format), the shipped
//! suites, a published output folder and an incremental state folder are damaged — bit
//! flips, overwritten and zeroed bytes, truncation, splices, values replaced by extreme ones
//! (integers past 64 bits, timestamps at and past chrono's range, deep nesting, long strings,
//! invalid UTF-8), Parquet footers and pages damaged, Parquet columns of unusual types holding
//! extreme values — and `ccc run` / `ccc validate` run on them. Whatever the input, the binary
//! must
//!
//! - finish within 20 s, not be killed by a signal and not panic;
//! - exit with one of its codes, 0 to 3, and name the damaged file when it exits 3 (unless
//!   the same command exits 3 on the intact input too: see `output_baselines`);
//! - when it fails, crashes or is killed (and always, for `ccc validate`), leave the previous
//!   output byte for byte as it was; when it exits by itself, leave no `*ccc-staging*`
//!   folder beside it.
//!
//! Every child runs under a 4 GiB address-space limit, so an allocation blow-up is a failed
//! case (killed by SIGABRT), not a machine-wide OOM.
//!
//! Reproducing a failure: the panic message gives the seed, the file, each mutation as it was
//! applied (byte offsets), the command and the stderr; the input the binary saw is saved
//! under `target/hostile-failures/<test>/<hash>/` (`src/`, `expectations/`, `out/` or
//! `state/`, plus `case.txt`), ready to be turned into a regression test. proptest also
//! keeps the failing case's seed in `target/hostile-failures/<test>.proptest-regressions` and
//! replays it first next time.
//!
//! Knobs: `PROPTEST_CASES=N` (cases per test), `PROPTEST_RNG_SEED=N` (a fixed seed), and
//! `CCC_HOSTILE_SURVEY=1`, which does not stop at the first failure but saves every failing
//! case and lists the distinct failures at the end (to triage a batch of bugs at once).
//! A case that takes more than 3 s prints `slow case: …`, and `CCC_HOSTILE_VERBOSE=1` prints
//! every case's exit and first line of stderr (both shown with `--no-capture`).

mod support;

use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::fs::{self, File};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use arrow2::array::{
    Array, BooleanArray, MutableDictionaryArray, MutableUtf8Array, PrimitiveArray, TryExtend,
    Utf8Array,
};
use arrow2::chunk::Chunk;
use arrow2::datatypes::{DataType, Field, Schema, TimeUnit};
use arrow2::io::parquet::write::{
    transverse, CompressionOptions, Encoding, FileWriter, RowGroupIterator, Version, WriteOptions,
};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{select, Index};
use proptest::test_runner::{Config, FileFailurePersistence, TestCaseError, TestError, TestRunner};

use support::*;

/// How long one `ccc` process may take on a few kilobytes of input (debug build).
const TIMEOUT: Duration = Duration::from_secs(20);
/// The address-space limit of every child: far above what a few kilobytes need, far below
/// what would take the machine down.
const ADDRESS_SPACE_LIMIT: u64 = 4 << 30;
/// `--threads` of every child (the limit above counts every thread's stack and arena).
const THREADS: &str = "2";

const MESSAGES: &str = "customer_courier_chat_messages";
const ORDERS: &str = "orders";

// ---------------------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------------------

#[test]
fn json_sources_survive_mutation() {
    let seeds = Seeds::json();
    fuzz(
        "json",
        64,
        (seeds.pick(), vec(text_mutation(), 1..=3), invocation()),
        |((seed, file), muts, inv), save| {
            let (seed, target) = seeds.resolve(*seed, file);
            mutated_source_case("json", seed, &target, muts, inv, save)
        },
    );
}

#[test]
fn ndjson_sources_survive_mutation() {
    let seeds = Seeds::ndjson();
    fuzz(
        "ndjson",
        48,
        (seeds.pick(), vec(text_mutation(), 1..=3), invocation()),
        |((seed, file), muts, inv), save| {
            let (seed, target) = seeds.resolve(*seed, file);
            mutated_source_case("ndjson", seed, &target, muts, inv, save)
        },
    );
}

#[test]
fn csv_sources_survive_mutation() {
    let seeds = Seeds::csv();
    fuzz(
        "csv",
        64,
        (seeds.pick(), vec(text_mutation(), 1..=3), invocation()),
        |((seed, file), muts, inv), save| {
            let (seed, target) = seeds.resolve(*seed, file);
            mutated_source_case("csv", seed, &target, muts, inv, save)
        },
    );
}

#[test]
fn parquet_sources_survive_damaged_bytes() {
    let seeds = Seeds::parquet();
    fuzz(
        "parquet",
        160,
        (seeds.pick(), vec(parquet_mutation(), 1..=2), invocation()),
        |((seed, file), muts, inv), save| {
            let (seed, target) = seeds.resolve(*seed, file);
            mutated_source_case("parquet", seed, &target, muts, inv, save)
        },
    );
}

#[test]
fn parquet_columns_of_any_type_with_extreme_values() {
    let root = tempfile::tempdir().unwrap();
    let good = plain_parquet_seed(root.path(), "plain", CompressionOptions::Uncompressed);
    let target = format!("{MESSAGES}.parquet");
    fuzz(
        "parquet-typed",
        96,
        (messages_spec(), invocation()),
        |(spec, inv), save| {
            let Some(bytes) = spec.to_parquet() else {
                return Ok(()); // a combination arrow2 cannot write: nothing to test
            };
            let description = format!("the messages file replaced by {spec:?}");
            source_case(
                "parquet-typed",
                &good,
                &target,
                &bytes,
                &description,
                inv,
                save,
            )
        },
    );
}

#[test]
fn suites_survive_mutation() {
    let root = tempfile::tempdir().unwrap();
    let seed = generated(
        root.path(),
        "generated-dirty-6",
        "json",
        &["--orders", "6", "--seed", "21", "--dirty", "0.3"],
    );
    fuzz(
        "suite",
        48,
        (
            prop_oneof![Just("source.yaml"), Just("output.yaml")],
            vec(yaml_mutation(), 1..=3),
            suite_invocation(),
        ),
        |(suite, muts, inv), save| suite_case(&seed, suite, muts, inv, save),
    );
}

#[test]
fn damaged_published_output_is_read_or_replaced_cleanly() {
    let root = tempfile::tempdir().unwrap();
    let seed = generated(
        root.path(),
        "generated-dirty-6",
        "json",
        &["--orders", "6", "--seed", "31", "--dirty", "0.3"],
    );
    let template = root.path().join("published");
    publish_good(root.path(), &seed.dir, &template, None, Formats::Default);
    let files: Vec<PathBuf> = snapshot(&template).into_iter().map(|(p, _)| p).collect();
    let baselines = output_baselines(&seed, &template);
    fuzz(
        "output-folder",
        32,
        (
            any::<Index>(),
            vec(parquet_mutation(), 1..=2),
            output_invocation(),
        ),
        |(file, muts, inv), save| {
            let target = &files[file.index(files.len())];
            let baseline = baselines
                .iter()
                .find(|(key, _)| *key == format!("{inv:?}"))
                .and_then(|(_, code)| *code);
            output_folder_case(&seed, &template, target, muts, inv, baseline, save)
        },
    );
}

#[test]
fn damaged_incremental_state_is_refused_or_rebuilt_cleanly() {
    let root = tempfile::tempdir().unwrap();
    let seed = generated(
        root.path(),
        "generated-dirty-6",
        "json",
        &["--orders", "6", "--seed", "41", "--dirty", "0.2"],
    );
    // The state's files are the same in every case: the good run is deterministic.
    let probe = root.path().join("probe");
    fs::create_dir_all(&probe).unwrap();
    publish_good(
        &probe,
        &seed.dir,
        &probe.join("out"),
        Some(probe.join("state").as_path()),
        Formats::Default,
    );
    let files: Vec<PathBuf> = snapshot(&probe.join("state"))
        .into_iter()
        .map(|(p, _)| p)
        .collect();
    fuzz(
        "state",
        32,
        (
            any::<Index>(),
            vec(parquet_mutation(), 1..=2),
            state_invocation(),
        ),
        |(file, muts, inv), save| {
            let target = &files[file.index(files.len())];
            state_case(&seed, target, muts, inv, save)
        },
    );
}

// ---------------------------------------------------------------------------------------
// Driving proptest
// ---------------------------------------------------------------------------------------

/// Where failing inputs are saved: `target/hostile-failures/`.
fn failures_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("CARGO_TARGET_TMPDIR is target/tmp")
        .join("hostile-failures")
}

fn expectations_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../expectations")
}

fn config(test: &str, cases: u32) -> Config {
    let mut config = Config::default(); // honours PROPTEST_* variables
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = cases;
    }
    if std::env::var_os("PROPTEST_MAX_SHRINK_ITERS").is_none() {
        config.max_shrink_iters = 48;
    }
    if std::env::var_os("PROPTEST_MAX_SHRINK_TIME").is_none() {
        config.max_shrink_time = 30_000;
    }
    fs::create_dir_all(failures_dir()).unwrap();
    let regressions = failures_dir().join(format!("{test}.proptest-regressions"));
    let regressions: &'static str = Box::leak(
        regressions
            .to_str()
            .expect("UTF-8 target path")
            .to_owned()
            .into_boxed_str(),
    );
    config.failure_persistence = Some(Box::new(FileFailurePersistence::Direct(regressions)));
    config
}

/// Runs `case` on `cases` values of `strategy`. A case returns `Err(report)` when the binary
/// misbehaved; with `save` it also saves its input under `target/hostile-failures/`.
fn fuzz<S>(
    test: &'static str,
    cases: u32,
    strategy: S,
    case: impl Fn(&S::Value, bool) -> Result<(), String>,
) where
    S: Strategy,
    S::Value: std::fmt::Debug,
{
    let started = Instant::now();
    let mut runner = TestRunner::new(config(test, cases));
    if std::env::var_os("CCC_HOSTILE_SURVEY").is_some() {
        let found: RefCell<Vec<(String, String)>> = RefCell::new(Vec::new());
        let result = runner.run(&strategy, |value| {
            if let Err(report) = case(&value, true) {
                found.borrow_mut().push((signature(&report), report));
            }
            Ok(())
        });
        if let Err(e) = result {
            panic!("{test}: {e}");
        }
        let found = found.into_inner();
        eprintln!(
            "{test}: {} failing cases in {:.1?}",
            found.len(),
            started.elapsed()
        );
        if !found.is_empty() {
            let mut distinct: Vec<(String, usize, String)> = Vec::new();
            for (sig, report) in found {
                match distinct.iter_mut().find(|(s, _, _)| *s == sig) {
                    Some(entry) => entry.1 += 1,
                    None => distinct.push((sig, 1, report)),
                }
            }
            let mut text = String::new();
            for (sig, count, report) in &distinct {
                let _ = writeln!(text, "=== {count}× {sig}\n{report}\n");
            }
            panic!("{test}: {} distinct failures\n\n{text}", distinct.len());
        }
        return;
    }
    match runner.run(&strategy, |value| {
        case(&value, false).map_err(TestCaseError::fail)
    }) {
        Ok(()) => eprintln!("{test}: passed in {:.1?}", started.elapsed()),
        Err(TestError::Fail(_, value)) => {
            let report = match case(&value, true) {
                Err(report) => report,
                Ok(()) => "(the minimal case passed when run again: flaky?)".to_string(),
            };
            panic!("{test}: a hostile input broke ccc\nminimal input: {value:?}\n\n{report}");
        }
        Err(e) => panic!("{test}: {e}"),
    }
}

/// A short, stable name of a failure, to group a survey's failures: what went wrong and
/// where the binary panicked (or the first line of its error).
fn signature(report: &str) -> String {
    let problems = report
        .lines()
        .filter_map(|l| l.strip_prefix("PROBLEM: "))
        .map(|p| {
            let p = p.split([':', '(']).next().unwrap_or(p).trim();
            p.chars()
                .map(|c| if c.is_ascii_digit() { '#' } else { c })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join(" + ");
    let stderr = report
        .split_once("--- stderr")
        .and_then(|(_, rest)| rest.split_once('\n'))
        .map_or("", |(_, text)| text);
    let place = match stderr.lines().find_map(|l| l.split_once("panicked at ")) {
        Some((_, place)) => format!("panicked at {place}"),
        None if stderr.contains("memory allocation of") => "memory allocation failed".into(),
        None => stderr
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
            .chars()
            .map(|c| if c.is_ascii_digit() { '#' } else { c })
            .take(120)
            .collect(),
    };
    format!("{problems} | {place}")
}

// ---------------------------------------------------------------------------------------
// Running the binary
// ---------------------------------------------------------------------------------------

#[derive(Debug)]
enum Ending {
    Exited(i32),
    Signal(i32),
    TimedOut,
}

struct Outcome {
    command: String,
    ending: Ending,
    stderr: String,
    elapsed: Duration,
}

/// Runs `ccc --threads 2 ARGS` in `dir` with a deadline and an address-space limit;
/// stdout and stderr go to files under `dir/logs`.
fn run_guarded(dir: &Path, args: &[OsString]) -> Outcome {
    let logs = dir.join("logs");
    fs::create_dir_all(&logs).unwrap();
    let stderr_path = logs.join("stderr");
    let mut command = ccc();
    command
        .arg("--threads")
        .arg(THREADS)
        .args(args)
        .current_dir(dir)
        .env_remove("CCC_TEST_PAUSE_AT")
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .stdout(File::create(logs.join("stdout")).unwrap())
        .stderr(File::create(&stderr_path).unwrap());
    limit_address_space(&mut command);
    let shown = format!(
        "ccc --threads {THREADS} {}",
        args.iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    );
    let started = Instant::now();
    let mut child = command.spawn().expect("the ccc binary starts");
    let mut pause = Duration::from_millis(1);
    let ending = loop {
        if let Some(status) = child.try_wait().expect("wait for ccc") {
            break match status.code() {
                Some(code) => Ending::Exited(code),
                None => {
                    use std::os::unix::process::ExitStatusExt;
                    Ending::Signal(status.signal().unwrap_or(-1))
                }
            };
        }
        if started.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            break Ending::TimedOut;
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(20));
    };
    let elapsed = started.elapsed();
    let stderr = String::from_utf8_lossy(&fs::read(&stderr_path).unwrap_or_default()).into_owned();
    Outcome {
        command: shown,
        ending,
        stderr,
        elapsed,
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn limit_address_space(command: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: the hook runs in the forked child before exec; it only calls setrlimit, which
    // is async-signal-safe, and allocates nothing.
    unsafe {
        command.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: ADDRESS_SPACE_LIMIT as libc::rlim_t,
                rlim_max: ADDRESS_SPACE_LIMIT as libc::rlim_t,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn limit_address_space(_command: &mut Command) {}

fn os(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Vec<OsString> {
    args.iter().map(|a| a.as_ref().to_os_string()).collect()
}

/// Publishes a good output from `source` to `out` (`ccc run --checks off --quiet`, and
/// incremental with `state`), as the previous output a hostile run must not damage.
fn publish_good(dir: &Path, source: &Path, out: &Path, state: Option<&Path>, formats: Formats) {
    let mut args = os(&[
        &"run",
        &"--checks",
        &"off",
        &"--quiet",
        &"--source",
        &source,
        &"--out",
        &out,
        &"--expectations",
        &expectations_dir(),
    ]);
    if let Some(state) = state {
        args.extend(os(&[&"--incremental", &"--state", &state]));
    }
    args.extend(formats.args());
    let outcome = run_guarded(dir, &args);
    assert!(
        matches!(outcome.ending, Ending::Exited(0)),
        "the good run fails: {}\n{:?}\n{}",
        outcome.command,
        outcome.ending,
        outcome.stderr
    );
}

/// Says so on stderr when one case took long (the test's time budget is a few seconds per
/// test), so a slow input is visible before it becomes a timeout.
fn note_slow(outcome: &Outcome, what: &str) {
    if std::env::var_os("CCC_HOSTILE_VERBOSE").is_some() {
        let first = outcome.stderr.lines().find(|l| !l.trim().is_empty());
        eprintln!(
            "case: {:?} in {:.0?}: {}\n  {}",
            outcome.ending,
            outcome.elapsed,
            outcome.command,
            first.unwrap_or("").chars().take(160).collect::<String>()
        );
    }
    if outcome.elapsed > Duration::from_secs(3) {
        eprintln!(
            "slow case: {:?} after {:.1?}\n{what}\ncommand: {}\n",
            outcome.ending, outcome.elapsed, outcome.command
        );
    }
}

/// Every file under a folder, relative path → bytes (`support::snapshot`).
type Snapshot = [(PathBuf, Vec<u8>)];

/// What a hostile run did wrong, if anything. `culprit` is the damaged file's name (when
/// an exit 3 must name it); `previous` the output folder and its snapshot before the run,
/// which must survive a failure, a crash or a kill (and any run when `read_only`).
fn judge(
    outcome: &Outcome,
    culprit: Option<&str>,
    previous: Option<(&Path, &Snapshot)>,
    read_only: bool,
) -> Vec<String> {
    let mut problems = Vec::new();
    let code = match outcome.ending {
        Ending::TimedOut => {
            problems.push(format!("did not finish within {TIMEOUT:?} (killed)"));
            None
        }
        Ending::Signal(signal) => {
            problems.push(format!("killed by signal {signal}"));
            None
        }
        Ending::Exited(code) => Some(code),
    };
    if let Some(code) = code {
        if !(0..=3).contains(&code) {
            problems.push(format!("exit code {code} is none of 0, 1, 2, 3"));
        }
        if let Some(culprit) = culprit.filter(|c| code == 3 && !outcome.stderr.contains(c)) {
            problems.push(format!("exit 3 without naming the damaged file {culprit}"));
        }
    }
    if outcome.stderr.contains("panicked") {
        problems.push("panicked".to_string());
    }
    if let Some((out, before)) = previous {
        if code != Some(0) || read_only {
            if !out.is_dir() {
                problems.push("the previous output folder is gone".to_string());
            } else if snapshot(out) != before {
                problems.push("the previous output changed".to_string());
            }
        }
        // A process that was killed (by us, or by an abort) cannot clean up; the next run
        // does. One that exited must not leave its staging folder behind.
        let parent = out.parent().unwrap();
        let leftovers: Vec<String> = fs::read_dir(parent)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains("ccc-staging"))
            .collect();
        if code.is_some() && !leftovers.is_empty() {
            problems.push(format!(
                "staging folder left beside the output: {leftovers:?}"
            ));
        }
    }
    problems
}

/// The report of a failed case; with `save`, its inputs are copied to
/// `target/hostile-failures/<test>/<hash>/` and the report names that folder.
fn failure_report(
    test: &str,
    what: &str,
    outcome: &Outcome,
    problems: &[String],
    inputs: &[(&str, &Path)],
    key: &[u8],
    save: bool,
) -> String {
    let mut report = String::new();
    for p in problems {
        let _ = writeln!(report, "PROBLEM: {p}");
    }
    let _ = writeln!(report, "{what}");
    let _ = writeln!(
        report,
        "command: {}\nending: {:?} after {:.2?}",
        outcome.command, outcome.ending, outcome.elapsed
    );
    if save {
        let mut hasher = DefaultHasher::new();
        test.hash(&mut hasher);
        what.hash(&mut hasher);
        key.hash(&mut hasher);
        let dest = failures_dir()
            .join(test)
            .join(format!("{:016x}", hasher.finish()));
        let _ = fs::remove_dir_all(&dest);
        fs::create_dir_all(&dest).unwrap();
        for (name, dir) in inputs {
            if dir.exists() {
                copy_tree(dir, &dest.join(name));
            }
        }
        fs::write(dest.join("stderr.txt"), &outcome.stderr).unwrap();
        fs::write(dest.join("case.txt"), &report).unwrap();
        let _ = writeln!(report, "saved: {}", dest.display());
    }
    // The panic message (and the line after it), wherever it is in a long stderr.
    let lines: Vec<&str> = outcome.stderr.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        if line.contains("panicked at") || line.contains("memory allocation of") {
            let next = lines.get(i + 1).unwrap_or(&"");
            let _ = writeln!(report, "panic: {line} {next}");
        }
    }
    let tail: String = {
        let chars: Vec<char> = outcome.stderr.chars().collect();
        let from = chars.len().saturating_sub(3000);
        chars[from..].iter().collect()
    };
    let _ = writeln!(report, "--- stderr (last 3000 characters)\n{tail}");
    report
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap().flatten() {
        let path = entry.path();
        let dest = to.join(entry.file_name());
        if path.is_dir() {
            copy_tree(&path, &dest);
        } else {
            fs::copy(&path, &dest).unwrap();
        }
    }
}

// ---------------------------------------------------------------------------------------
// Cases
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy)]
enum Checks {
    Default,
    Enforce,
    Warn,
    Off,
}

impl Checks {
    fn args(self) -> Vec<OsString> {
        match self {
            Checks::Default => vec![],
            Checks::Enforce => os(&[&"--checks", &"enforce"]),
            Checks::Warn => os(&[&"--checks", &"warn"]),
            Checks::Off => os(&[&"--checks", &"off"]),
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Formats {
    Default,
    Parquet,
    Csv,
    Both,
}

impl Formats {
    fn args(self) -> Vec<OsString> {
        match self {
            Formats::Default => vec![],
            Formats::Parquet => os(&[&"--format", &"parquet"]),
            Formats::Csv => os(&[&"--format", &"csv"]),
            Formats::Both => os(&[&"--format", &"parquet,csv"]),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Incremental {
    /// A plain run.
    No,
    /// An incremental run after a good one, the damaged file added under a new name.
    NewFile,
    /// `--incremental --reprocess` after a good one, the file damaged in place.
    Reprocess,
}

#[derive(Debug, Clone)]
enum Invocation {
    Run {
        checks: Checks,
        formats: Formats,
        incremental: Incremental,
        /// `--quiet`; without it the run prints its summary tables.
        quiet: bool,
    },
    ValidateSource,
}

fn checks() -> impl Strategy<Value = Checks> {
    prop_oneof![
        Just(Checks::Default),
        Just(Checks::Enforce),
        Just(Checks::Warn),
        Just(Checks::Off)
    ]
}

fn formats() -> impl Strategy<Value = Formats> {
    prop_oneof![
        3 => Just(Formats::Default),
        1 => Just(Formats::Parquet),
        1 => Just(Formats::Csv),
        1 => Just(Formats::Both),
    ]
}

fn invocation() -> impl Strategy<Value = Invocation> {
    prop_oneof![
        6 => (checks(), formats(), prop::bool::weighted(0.7)).prop_map(
            |(checks, formats, quiet)| Invocation::Run {
                checks,
                formats,
                incremental: Incremental::No,
                quiet,
            }
        ),
        2 => (
            checks(),
            formats(),
            prop_oneof![Just(Incremental::NewFile), Just(Incremental::Reprocess)]
        )
            .prop_map(|(checks, formats, incremental)| Invocation::Run {
                checks,
                formats,
                incremental,
                quiet: true,
            }),
        2 => Just(Invocation::ValidateSource),
    ]
}

/// `orders.json` → `orders_hostile.json`: still a file of the table, under a new name.
fn renamed(name: &str) -> String {
    match name.rsplit_once('.') {
        Some((stem, ext)) => format!("{stem}_hostile.{ext}"),
        None => format!("{name}_hostile"),
    }
}

fn mutated_source_case(
    test: &str,
    seed: &Seed,
    target: &str,
    muts: &[Mutation],
    inv: &Invocation,
    save: bool,
) -> Result<(), String> {
    let original = fs::read(seed.dir.join(target)).unwrap();
    let (bytes, applied) = apply_all(&original, Kind::of(target), muts);
    let what = format!(
        "seed: {} ({})\nfile: {target} ({} bytes → {} bytes)\nmutations:\n  {}",
        seed.name,
        seed.dir.display(),
        original.len(),
        bytes.len(),
        applied.join("\n  ")
    );
    source_case(test, seed, target, &bytes, &what, inv, save)
}

/// Copies `seed` into a fresh folder with `target` replaced by `bytes` (or added under a
/// new name, for an incremental run), publishes a good output from the seed, runs `inv` and
/// judges what it did.
fn source_case(
    test: &str,
    seed: &Seed,
    target: &str,
    bytes: &[u8],
    what: &str,
    inv: &Invocation,
    save: bool,
) -> Result<(), String> {
    let case = tempfile::tempdir().unwrap();
    let root = case.path();
    let src = root.join("src");
    let out = root.join("out");
    let state = root.join("state");
    fs::create_dir_all(&src).unwrap();
    for f in &seed.files {
        fs::copy(seed.dir.join(f), src.join(f)).unwrap();
    }
    let (incremental, formats) = match inv {
        Invocation::Run {
            incremental,
            formats,
            ..
        } => (*incremental, *formats),
        Invocation::ValidateSource => (Incremental::No, Formats::Default),
    };
    let culprit = if incremental == Incremental::NewFile {
        renamed(target)
    } else {
        target.to_string()
    };
    fs::write(src.join(&culprit), bytes).unwrap();
    match incremental {
        Incremental::No => publish_good(root, &seed.dir, &out, None, Formats::Default),
        _ => publish_good(root, &seed.dir, &out, Some(state.as_path()), formats),
    }
    let before = snapshot(&out);
    let mut args;
    let read_only;
    match inv {
        Invocation::Run {
            checks,
            formats,
            quiet,
            ..
        } => {
            read_only = false;
            args = os(&[
                &"run",
                &"--source",
                &src,
                &"--out",
                &out,
                &"--expectations",
                &expectations_dir(),
            ]);
            if *quiet {
                args.push("--quiet".into());
            }
            args.extend(checks.args());
            args.extend(formats.args());
            match incremental {
                Incremental::No => {}
                Incremental::NewFile => args.extend(os(&[&"--incremental", &"--state", &state])),
                Incremental::Reprocess => {
                    args.extend(os(&[&"--incremental", &"--state", &state, &"--reprocess"]))
                }
            }
        }
        Invocation::ValidateSource => {
            read_only = true;
            args = os(&[
                &"validate",
                &"--suite",
                &"source",
                &"--source",
                &src,
                &"--expectations",
                &expectations_dir(),
            ]);
        }
    }
    let outcome = run_guarded(root, &args);
    note_slow(&outcome, what);
    let problems = judge(
        &outcome,
        Some(&culprit),
        Some((out.as_path(), before.as_slice())),
        read_only,
    );
    if problems.is_empty() {
        return Ok(());
    }
    Err(failure_report(
        test,
        what,
        &outcome,
        &problems,
        &[("src", &src)],
        bytes,
        save,
    ))
}

#[derive(Debug, Clone)]
enum SuiteInvocation {
    /// `ccc run --expectations DIR` on good sources.
    Run { checks: Checks },
    /// `ccc validate --suite source|output --expectations DIR`, on the sources or the output.
    ValidateByName { report: Option<&'static str> },
    /// `ccc validate --suite DIR/FILE`.
    ValidateFile { report: Option<&'static str> },
}

fn report_format() -> impl Strategy<Value = Option<&'static str>> {
    prop_oneof![
        2 => Just(None),
        1 => Just(Some("json")),
        1 => Just(Some("junit")),
        1 => Just(Some("markdown")),
    ]
}

fn suite_invocation() -> impl Strategy<Value = SuiteInvocation> {
    prop_oneof![
        2 => prop_oneof![Just(Checks::Default), Just(Checks::Warn), Just(Checks::Off)]
            .prop_map(|checks| SuiteInvocation::Run { checks }),
        1 => report_format().prop_map(|report| SuiteInvocation::ValidateByName { report }),
        1 => report_format().prop_map(|report| SuiteInvocation::ValidateFile { report }),
    ]
}

fn suite_case(
    seed: &Seed,
    suite: &str,
    muts: &[Mutation],
    inv: &SuiteInvocation,
    save: bool,
) -> Result<(), String> {
    let case = tempfile::tempdir().unwrap();
    let root = case.path();
    let exp = root.join("expectations");
    let out = root.join("out");
    copy_tree(&expectations_dir(), &exp);
    let original = fs::read(exp.join(suite)).unwrap();
    let (bytes, applied) = apply_all(&original, Kind::Yaml, muts);
    fs::write(exp.join(suite), &bytes).unwrap();
    publish_good(root, &seed.dir, &out, None, Formats::Default);
    let before = snapshot(&out);
    let table = if suite == "source.yaml" {
        "source"
    } else {
        "output"
    };
    let data_args = if table == "source" {
        os(&[&"--source", &seed.dir])
    } else {
        os(&[&"--data", &out])
    };
    let report_args = |report: &Option<&str>| match report {
        Some(format) => os(&[
            &"--report",
            format,
            &"--report-file",
            &root.join("logs").join("report.out"),
        ]),
        None => vec![],
    };
    let (args, read_only) = match inv {
        SuiteInvocation::Run { checks } => {
            let mut args = os(&[
                &"run",
                &"--quiet",
                &"--source",
                &seed.dir,
                &"--out",
                &out,
                &"--expectations",
                &exp,
            ]);
            args.extend(checks.args());
            (args, false)
        }
        SuiteInvocation::ValidateByName { report } => {
            let mut args = os(&[&"validate", &"--suite", &table, &"--expectations", &exp]);
            args.extend(data_args);
            args.extend(report_args(report));
            (args, true)
        }
        SuiteInvocation::ValidateFile { report } => {
            let mut args = os(&[&"validate", &"--suite", &exp.join(suite)]);
            args.extend(data_args);
            args.extend(report_args(report));
            (args, true)
        }
    };
    let what = format!(
        "suite: expectations/{suite} ({} bytes → {} bytes), sources: {}\nmutations:\n  {}",
        original.len(),
        bytes.len(),
        seed.name,
        applied.join("\n  ")
    );
    let outcome = run_guarded(root, &args);
    note_slow(&outcome, &what);
    let problems = judge(
        &outcome,
        Some(suite),
        Some((out.as_path(), before.as_slice())),
        read_only,
    );
    if problems.is_empty() {
        return Ok(());
    }
    Err(failure_report(
        "suite",
        &what,
        &outcome,
        &problems,
        &[("expectations", &exp)],
        &bytes,
        save,
    ))
}

#[derive(Debug, Clone)]
enum OutputInvocation {
    /// `ccc validate --suite output --data DIR`: the output folder, or one table folder.
    Validate { data: &'static str },
    /// `ccc run` from good sources, replacing the damaged output.
    RunOver,
}

const OUTPUT_INVOCATIONS: &[OutputInvocation] = &[
    OutputInvocation::Validate { data: "" },
    OutputInvocation::Validate {
        data: "parquet/customer_courier_conversations",
    },
    OutputInvocation::Validate {
        data: "csv/customer_courier_conversations",
    },
    OutputInvocation::RunOver,
];

fn output_invocation() -> impl Strategy<Value = OutputInvocation> {
    select(OUTPUT_INVOCATIONS)
}

/// The command of an output-folder case, and whether it must leave the folder alone.
fn output_args(inv: &OutputInvocation, out: &Path, seed: &Seed) -> (Vec<OsString>, bool) {
    match inv {
        OutputInvocation::Validate { data } => (
            os(&[
                &"validate",
                &"--suite",
                &"output",
                &"--data",
                &out.join(data),
                &"--expectations",
                &expectations_dir(),
            ]),
            true,
        ),
        OutputInvocation::RunOver => (
            os(&[
                &"run",
                &"--quiet",
                &"--source",
                &seed.dir,
                &"--out",
                &out,
                &"--expectations",
                &expectations_dir(),
            ]),
            false,
        ),
    }
}

/// The exit code of each output-folder command on the intact output.
fn output_baselines(seed: &Seed, template: &Path) -> Vec<(String, Option<i32>)> {
    OUTPUT_INVOCATIONS
        .iter()
        .map(|inv| {
            let case = tempfile::tempdir().unwrap();
            let out = case.path().join("out");
            copy_tree(template, &out);
            fs::write(case.path().join(".out.ccc-lock"), b"").unwrap();
            let (args, _) = output_args(inv, &out, seed);
            let outcome = run_guarded(case.path(), &args);
            let code = match outcome.ending {
                Ending::Exited(code) => Some(code),
                _ => None,
            };
            if code != Some(0) {
                eprintln!(
                    "note: on the intact output, {} ends with {:?}:\n{}",
                    outcome.command, outcome.ending, outcome.stderr
                );
            }
            (format!("{inv:?}"), code)
        })
        .collect()
}

fn output_folder_case(
    seed: &Seed,
    template: &Path,
    target: &Path,
    muts: &[Mutation],
    inv: &OutputInvocation,
    baseline_exit: Option<i32>,
    save: bool,
) -> Result<(), String> {
    let case = tempfile::tempdir().unwrap();
    let root = case.path();
    let out = root.join("out");
    copy_tree(template, &out);
    // As a published output has it: the lock file ccc keeps beside it (validating a
    // published output only reads it; a folder without one is a stage, audited in place).
    fs::write(root.join(".out.ccc-lock"), b"").unwrap();
    let name = target.file_name().unwrap().to_string_lossy().into_owned();
    let original = fs::read(out.join(target)).unwrap();
    let (bytes, applied) = apply_all(&original, Kind::of(&name), muts);
    fs::write(out.join(target), &bytes).unwrap();
    let before = snapshot(&out);
    let (args, read_only) = output_args(inv, &out, seed);
    let what = format!(
        "published output of {}: {} ({} bytes → {} bytes)\nmutations:\n  {}",
        seed.name,
        target.display(),
        original.len(),
        bytes.len(),
        applied.join("\n  ")
    );
    let outcome = run_guarded(root, &args);
    note_slow(&outcome, &what);
    // Exit 3 must name the damaged file unless the command exits 3 on the intact output too.
    let culprit = (baseline_exit != Some(3)).then_some(name.as_str());
    let problems = judge(
        &outcome,
        culprit,
        Some((out.as_path(), before.as_slice())),
        read_only,
    );
    if problems.is_empty() {
        return Ok(());
    }
    Err(failure_report(
        "output-folder",
        &what,
        &outcome,
        &problems,
        &[("out", &out)],
        &bytes,
        save,
    ))
}

#[derive(Debug, Clone)]
struct StateInvocation {
    checks: Checks,
    /// A new messages file to fold in (else nothing is new).
    new_file: bool,
    reprocess: bool,
}

fn state_invocation() -> impl Strategy<Value = StateInvocation> {
    (
        checks(),
        prop::bool::weighted(0.8),
        prop::bool::weighted(0.2),
    )
        .prop_map(|(checks, new_file, reprocess)| StateInvocation {
            checks,
            new_file,
            reprocess,
        })
}

fn state_case(
    seed: &Seed,
    target: &Path,
    muts: &[Mutation],
    inv: &StateInvocation,
    save: bool,
) -> Result<(), String> {
    let case = tempfile::tempdir().unwrap();
    let root = case.path();
    let src = root.join("src");
    let out = root.join("out");
    let state = root.join("state");
    fs::create_dir_all(&src).unwrap();
    for f in &seed.files {
        fs::copy(seed.dir.join(f), src.join(f)).unwrap();
    }
    publish_good(root, &src, &out, Some(state.as_path()), Formats::Default);
    if inv.new_file {
        let messages = seed
            .files
            .iter()
            .find(|f| f.starts_with(MESSAGES))
            .expect("a messages file");
        fs::copy(seed.dir.join(messages), src.join(renamed(messages))).unwrap();
    }
    let name = target.file_name().unwrap().to_string_lossy().into_owned();
    let original = fs::read(state.join(target)).unwrap();
    let (bytes, applied) = apply_all(&original, Kind::of(&name), muts);
    fs::write(state.join(target), &bytes).unwrap();
    let before = snapshot(&out);
    let mut args = os(&[
        &"run",
        &"--quiet",
        &"--incremental",
        &"--state",
        &state,
        &"--source",
        &src,
        &"--out",
        &out,
        &"--expectations",
        &expectations_dir(),
    ]);
    args.extend(inv.checks.args());
    if inv.reprocess {
        args.push("--reprocess".into());
    }
    let what = format!(
        "state of {}: {} ({} bytes → {} bytes)\nmutations:\n  {}",
        seed.name,
        target.display(),
        original.len(),
        bytes.len(),
        applied.join("\n  ")
    );
    let outcome = run_guarded(root, &args);
    note_slow(&outcome, &what);
    let problems = judge(
        &outcome,
        Some(&name),
        Some((out.as_path(), before.as_slice())),
        false,
    );
    if problems.is_empty() {
        return Ok(());
    }
    Err(failure_report(
        "state",
        &what,
        &outcome,
        &problems,
        &[("state", &state), ("src", &src), ("out", &out)],
        &bytes,
        save,
    ))
}

// ---------------------------------------------------------------------------------------
// Seeds
// ---------------------------------------------------------------------------------------

/// A small valid source folder (both tables).
struct Seed {
    name: String,
    dir: PathBuf,
    /// The tables' files in `dir`, sorted.
    files: Vec<String>,
}

fn table_files(dir: &Path) -> Vec<String> {
    let mut files: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(MESSAGES) || n.starts_with(ORDERS))
        .collect();
    files.sort();
    files
}

fn seed_at(dir: PathBuf, name: &str) -> Seed {
    let files = table_files(&dir);
    assert!(
        files.iter().any(|f| f.starts_with(MESSAGES))
            && files.iter().any(|f| f.starts_with(ORDERS)),
        "seed {name} has both tables: {files:?}"
    );
    Seed {
        name: name.to_string(),
        dir,
        files,
    }
}

/// `ccc generate --format FORMAT ARGS` into `root/name`.
fn generated(root: &Path, name: &str, format: &str, args: &[&str]) -> Seed {
    let dir = root.join(name);
    let mut all = vec!["generate", "--format", format, "--out", path_str(&dir)];
    all.extend_from_slice(args);
    let result = run_ccc(&all);
    assert!(result.status.success(), "{all:?}: {}", stderr(&result));
    seed_at(dir, name)
}

/// A copy of `from` whose files have the extension `ext`.
fn with_extension(root: &Path, name: &str, from: &Seed, ext: &str) -> Seed {
    let dir = root.join(name);
    fs::create_dir_all(&dir).unwrap();
    for f in &from.files {
        let stem = f.rsplit_once('.').map_or(f.as_str(), |(s, _)| s);
        fs::copy(from.dir.join(f), dir.join(format!("{stem}.{ext}"))).unwrap();
    }
    seed_at(dir, name)
}

struct Seeds {
    _root: tempfile::TempDir,
    list: Vec<Seed>,
}

impl Seeds {
    fn json() -> Seeds {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        let small = r.join("small");
        write_small_sources(&small);
        let ndjson = generated(r, "ndjson-3", "ndjson", &["--orders", "3", "--seed", "13"]);
        let list = vec![
            seed_at(small, "write_small_sources"),
            generated(r, "generated-4", "json", &["--orders", "4", "--seed", "11"]),
            generated(
                r,
                "generated-dirty-late-8x2",
                "json",
                &[
                    "--orders", "8", "--seed", "12", "--dirty", "0.3", "--late", "0.3", "--files",
                    "2",
                ],
            ),
            // A `.json` file that starts with `{`: concatenated objects.
            with_extension(r, "concatenated-objects", &ndjson, "json"),
        ];
        Seeds { _root: root, list }
    }

    fn ndjson() -> Seeds {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        let small = generated(
            r,
            "generated-4",
            "ndjson",
            &["--orders", "4", "--seed", "14"],
        );
        let jsonl = with_extension(r, "jsonl-4", &small, "jsonl");
        let list = vec![
            small,
            generated(
                r,
                "generated-dirty-late-8x2",
                "ndjson",
                &[
                    "--orders", "8", "--seed", "15", "--dirty", "0.3", "--late", "0.3", "--files",
                    "2",
                ],
            ),
            jsonl,
        ];
        Seeds { _root: root, list }
    }

    fn csv() -> Seeds {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        let quoted = r.join("quoted");
        fs::create_dir_all(&quoted).unwrap();
        fs::write(
            quoted.join(format!("{MESSAGES}.csv")),
            "senderAppType,customerId,fromId,toId,chatStartedByMessage,orderId,orderStage,courierId,messageSentTime\n\
             \"Customer iOS\",1,1,2,true,10,\"ACCEPTED\",2,2024-02-01T10:00:00Z\n\
             \"Courier Android\",1,2,1,false,10,\"PICKED\nUP\",2,\"2024-02-01T10:00:30Z\"\r\n\
             Courier iOS,3,4,3,TRUE,11,\"ON,ROUTE\",4,2024-02-02T09:00:00.5+01:00\n",
        )
        .unwrap();
        fs::write(
            quoted.join(format!("{ORDERS}.csv")),
            "cityCode,orderId\n\"BCN\",10\nMAD,\"11\"\n",
        )
        .unwrap();
        let list = vec![
            generated(r, "generated-4", "csv", &["--orders", "4", "--seed", "16"]),
            generated(
                r,
                "generated-dirty-late-8x2",
                "csv",
                &[
                    "--orders", "8", "--seed", "17", "--dirty", "0.3", "--late", "0.3", "--files",
                    "2",
                ],
            ),
            seed_at(quoted, "quoted-by-hand"),
        ];
        Seeds { _root: root, list }
    }

    fn parquet() -> Seeds {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        let list = vec![
            generated(
                r,
                "generated-4",
                "parquet",
                &["--orders", "4", "--seed", "18"],
            ),
            generated(
                r,
                "generated-dirty-late-8x2",
                "parquet",
                &[
                    "--orders", "8", "--seed", "19", "--dirty", "0.3", "--late", "0.3", "--files",
                    "2",
                ],
            ),
            // Uncompressed plain pages: damage reaches the values themselves.
            plain_parquet_seed(r, "plain-uncompressed", CompressionOptions::Uncompressed),
            plain_parquet_seed(r, "plain-zstd", CompressionOptions::Zstd(None)),
        ];
        Seeds { _root: root, list }
    }

    /// A strategy for (seed, file of that seed).
    fn pick(&self) -> impl Strategy<Value = (usize, Index)> {
        (0..self.list.len(), any::<Index>())
    }

    fn resolve(&self, seed: usize, file: &Index) -> (&Seed, String) {
        let seed = &self.list[seed];
        let target = seed.files[file.index(seed.files.len())].clone();
        (seed, target)
    }
}

// ---------------------------------------------------------------------------------------
// Mutations
// ---------------------------------------------------------------------------------------

/// How a file's bytes are read, for value-aware mutations.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Json,
    Csv,
    Yaml,
    Binary,
}

impl Kind {
    fn of(name: &str) -> Kind {
        match name.rsplit_once('.').map(|(_, e)| e) {
            Some("json" | "ndjson" | "jsonl") => Kind::Json,
            Some("csv") => Kind::Csv,
            Some("yaml" | "yml") => Kind::Yaml,
            _ => Kind::Binary,
        }
    }
}

/// Where in a file a byte-level mutation lands. Parquet: `PAR1`, pages, footer (Thrift
/// metadata), footer length + `PAR1`.
#[derive(Debug, Clone, Copy)]
enum Region {
    Anywhere,
    Pages,
    /// The first 48 bytes of one column chunk (as the footer tells): its first page header.
    PageHeader(Index),
    Footer,
    Tail,
}

#[derive(Debug, Clone)]
enum Mutation {
    FlipBit {
        region: Region,
        at: Index,
        bit: u8,
    },
    Overwrite {
        region: Region,
        at: Index,
        bytes: Vec<u8>,
    },
    Zero {
        region: Region,
        at: Index,
        len: usize,
    },
    /// Eight little-endian bytes of an extreme integer (a raw INT64 in a plain page).
    OverwriteI64 {
        region: Region,
        at: Index,
        value: i64,
    },
    Truncate {
        region: Region,
        at: Index,
    },
    /// A chunk copied and inserted elsewhere.
    Repeat {
        from: Index,
        len: usize,
        to: Index,
    },
    /// A chunk cut and inserted elsewhere.
    Move {
        from: Index,
        len: usize,
        to: Index,
    },
    Insert {
        at: Index,
        token: Token,
    },
    /// A value (JSON value after a key, CSV field, YAML scalar after `key:`) replaced.
    ReplaceValue {
        nth: Index,
        token: Token,
    },
    /// A billion-laughs alias bomb with `levels` levels put before the document.
    PrependAliasBomb {
        levels: u8,
    },
}

/// Text put into a file, described compactly (a 5 MiB string is `Long`, not its bytes).
#[derive(Debug, Clone)]
enum Token {
    /// `text` as is, or quoted the way the file's format quotes strings.
    Text {
        text: &'static str,
        quoted: bool,
    },
    Bytes(&'static [u8]),
    Nest {
        open: &'static str,
        close: &'static str,
        depth: usize,
        closed: bool,
    },
    Long {
        unit: &'static str,
        bytes: usize,
        quoted: bool,
    },
    Digits {
        len: usize,
        negative: bool,
    },
}

const NUMBERS: &[&str] = &[
    "0",
    "-0",
    "-1",
    "9000000000000000000",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "-9223372036854775809",
    "18446744073709551615",
    "18446744073709551616",
    "1e400",
    "-1e400",
    "1e-400",
    "1.5",
    "1E3",
    "9.223372036854776e18",
    "1e18",
    "+1",
    "01",
    "0x10",
    "NaN",
    "Infinity",
    "-Infinity",
];

const TIMESTAMPS: &[&str] = &[
    "9999-12-31T23:59:59-23:59",
    "0000-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59.999999Z",
    "0001-01-01T00:00:00Z",
    "0000-01-01T00:00:00Z",
    "+262143-12-31T23:59:59Z",
    "262143-12-31T23:59:59Z",
    "-262144-01-01T00:00:00Z",
    "1677-09-21T00:12:43.145224191Z",
    "2262-04-11T23:47:16.854775808Z",
    "294247-01-10T04:00:54.775807Z",
    "1969-12-31T23:59:59.999999Z",
    "1970-01-01T00:00:00Z",
    "2024-02-30T10:00:00Z",
    "2024-02-01T23:59:60Z",
    "2024-02-01T24:00:00Z",
    "2024-02-01T10:00:00.99999999999999999999Z",
    "2024-02-01T10:00:00+24:00",
    "2024-02-01T10:00:00-99:99",
    "2024-02-01t10:00:00z",
    "2024-02-01 10:00:00Z",
    "2024-02-01T10:00:00",
    "2024-02-01",
    "1706781600",
];

const STRINGS: &[&str] = &[
    "",
    " ",
    "\\u0000",
    "\\ud800",
    "\\udc00\\ud800",
    "\\\\",
    "\\\"",
    "Courier",
    "COURIER iOS",
    "courier\\tiOS",
    "Customer\\u2028Android",
    "Couriers iOS",
    "ACCEPTED",
    "BCN",
    "x,y",
    "line\\nbreak",
    "é",
    "𝄞",
];

const RAW: &[&str] = &[
    "null",
    "true",
    "false",
    "TRUE",
    "{}",
    "[]",
    "{\"orderId\": 1}",
    "[1, 2]",
    "\"",
    ",",
    "\n",
    "\r\n",
    "{",
    "}",
    ":",
    "]",
    "\\",
];

const BYTES: &[&[u8]] = &[
    b"\xff",
    b"\xfe\xff",
    b"\xc3",
    b"\xed\xa0\x80",
    b"\xef\xbb\xbf",
    b"\x00",
    b"\xc0\xaf",
    b"\xf4\x90\x80\x80",
];

const SUITE_TEXTS: &[&str] = &[
    "expect_column_values_to_not_be_null",
    "expect_column_values_to_match_regex",
    "expect_column_values_to_be_between",
    "expect_column_values_to_be_in_other_table",
    "expect_column_pair_values_a_to_be_greater_than_b",
    "expect_compound_columns_to_be_unique",
    "expect_table_row_count_to_be_between",
    "expect_table_columns_to_match_set",
    "expect_metric_values_to_reconcile",
    "expect_nothing",
    "orderId",
    "messageSentTime",
    "conversation_started_at",
    "no_such_column",
    "customer_courier_conversations",
    "orders",
    "string",
    "integer",
    "timestamp",
    "boolean",
    "error",
    "warn",
    "info",
    ".nan",
    ".inf",
    "-.inf",
    "~",
    "*l8",
    "*l4",
    "*undefined",
    "&a [*a]",
    "!!binary aGk=",
    "!custom x",
    "? [a]",
    "|",
    ">-",
    "'(a+)+$'",
    "'a{1000}{1000}{1000}'",
    "'[z-a]'",
    "'\\p{Greek'",
    "''",
    "']]><x>'",
    "'| a | b |'",
    "[]",
    "{}",
    "[1, 2, 3]",
    "{column: orderId}",
];

fn text_token() -> impl Strategy<Value = Token> {
    prop_oneof![
        3 => select(NUMBERS).prop_map(|text| Token::Text { text, quoted: false }),
        4 => (select(TIMESTAMPS), prop::bool::weighted(0.85))
            .prop_map(|(text, quoted)| Token::Text { text, quoted }),
        2 => (select(STRINGS), prop::bool::weighted(0.85))
            .prop_map(|(text, quoted)| Token::Text { text, quoted }),
        1 => select(RAW).prop_map(|text| Token::Text { text, quoted: false }),
        1 => select(BYTES).prop_map(Token::Bytes),
        1 => nest(),
        1 => long(),
        1 => digits(),
    ]
}

fn nest() -> impl Strategy<Value = Token> {
    (
        prop_oneof![Just(("[", "]")), Just(("{\"a\":", "}"))],
        select(vec![1usize, 64, 127, 128, 129, 1000, 100_000]),
        any::<bool>(),
    )
        .prop_map(|((open, close), depth, closed)| Token::Nest {
            open,
            close,
            depth,
            closed,
        })
}

fn long() -> impl Strategy<Value = Token> {
    (
        select(vec!["x", "é", "\\u00e9", "\\\"", ",", " "]),
        select(vec![4096usize, 65_536, 1 << 20, 5 << 20]),
        prop::bool::weighted(0.8),
    )
        .prop_map(|(unit, bytes, quoted)| Token::Long {
            unit,
            bytes,
            quoted,
        })
}

fn digits() -> impl Strategy<Value = Token> {
    (select(vec![20usize, 400, 10_000]), any::<bool>())
        .prop_map(|(len, negative)| Token::Digits { len, negative })
}

fn suite_token() -> impl Strategy<Value = Token> {
    prop_oneof![
        4 => (select(SUITE_TEXTS), prop::bool::weighted(0.1))
            .prop_map(|(text, quoted)| Token::Text { text, quoted }),
        2 => select(NUMBERS).prop_map(|text| Token::Text { text, quoted: false }),
        1 => (select(STRINGS), any::<bool>()).prop_map(|(text, quoted)| Token::Text { text, quoted }),
        1 => select(BYTES).prop_map(Token::Bytes),
        1 => nest(),
        1 => long(),
        1 => digits(),
    ]
}

fn small_len() -> impl Strategy<Value = usize> {
    prop_oneof![3 => 1usize..8, 1 => 8usize..33, 1 => 33usize..512]
}

fn byte_mutation(
    region: impl Strategy<Value = Region> + Clone + 'static,
) -> BoxedStrategy<Mutation> {
    prop_oneof![
        3 => (region.clone(), any::<Index>(), 0u8..8)
            .prop_map(|(region, at, bit)| Mutation::FlipBit { region, at, bit }),
        1 => (region.clone(), any::<Index>(), vec(any::<u8>(), 1..8))
            .prop_map(|(region, at, bytes)| Mutation::Overwrite { region, at, bytes }),
        2 => (region.clone(), any::<Index>(), small_len())
            .prop_map(|(region, at, len)| Mutation::Zero { region, at, len }),
        2 => (region, any::<Index>()).prop_map(|(region, at)| Mutation::Truncate { region, at }),
        1 => (any::<Index>(), 1usize..2048, any::<Index>())
            .prop_map(|(from, len, to)| Mutation::Repeat { from, len, to }),
        1 => (any::<Index>(), 1usize..2048, any::<Index>())
            .prop_map(|(from, len, to)| Mutation::Move { from, len, to }),
    ]
    .boxed()
}

fn text_mutation() -> BoxedStrategy<Mutation> {
    prop_oneof![
        4 => byte_mutation(Just(Region::Anywhere)),
        2 => (any::<Index>(), text_token()).prop_map(|(at, token)| Mutation::Insert { at, token }),
        6 => (any::<Index>(), text_token())
            .prop_map(|(nth, token)| Mutation::ReplaceValue { nth, token }),
    ]
    .boxed()
}

fn yaml_mutation() -> BoxedStrategy<Mutation> {
    prop_oneof![
        3 => byte_mutation(Just(Region::Anywhere)),
        1 => (any::<Index>(), suite_token()).prop_map(|(at, token)| Mutation::Insert { at, token }),
        6 => (any::<Index>(), suite_token())
            .prop_map(|(nth, token)| Mutation::ReplaceValue { nth, token }),
        1 => (3u8..10).prop_map(|levels| Mutation::PrependAliasBomb { levels }),
    ]
    .boxed()
}

/// Integers at and past the edges of what an instant can be: i64's ends, chrono's range
/// (years ±262143) in seconds, milliseconds and microseconds, and a few ordinary values.
const EXTREME_I64: &[i64] = &[
    i64::MIN,
    i64::MIN + 1,
    -8_334_601_315_200_000_001,
    -8_334_601_315_200_000_000,
    -8_334_601_315_200_001,
    -8_334_601_315_201,
    -62_167_219_200,
    -1,
    0,
    1_706_781_600,
    253_402_300_799,
    8_210_266_876_799,
    8_210_266_876_800,
    8_210_266_876_800_000,
    8_210_266_876_799_999_999,
    8_210_266_876_800_000_000,
    9_223_372_036_854,
    9_223_372_036_854_775,
    i64::MAX / 1000,
    i64::MAX,
];

fn parquet_mutation() -> BoxedStrategy<Mutation> {
    let region = prop_oneof![
        2 => Just(Region::Pages),
        2 => any::<Index>().prop_map(Region::PageHeader),
        4 => Just(Region::Footer),
        1 => Just(Region::Tail),
        1 => Just(Region::Anywhere),
    ];
    prop_oneof![
        6 => byte_mutation(region.clone()),
        2 => (region, any::<Index>(), select(EXTREME_I64))
            .prop_map(|(region, at, value)| Mutation::OverwriteI64 { region, at, value }),
        // A run of zeros over a page header's fields (its Thrift field headers, sizes,
        // statistics).
        3 => (any::<Index>(), any::<Index>(), 4usize..=24).prop_map(|(column, at, len)| {
            Mutation::Zero {
                region: Region::PageHeader(column),
                at,
                len,
            }
        }),
    ]
    .boxed()
}

impl Token {
    fn render(&self, kind: Kind) -> Vec<u8> {
        let quote = |s: &str| -> String {
            match kind {
                Kind::Json | Kind::Binary => format!("\"{s}\""),
                Kind::Csv => format!("\"{}\"", s.replace('"', "\"\"")),
                Kind::Yaml => format!("'{}'", s.replace('\'', "''")),
            }
        };
        match self {
            Token::Text { text, quoted } => {
                if *quoted {
                    quote(text).into_bytes()
                } else {
                    text.as_bytes().to_vec()
                }
            }
            Token::Bytes(b) => b.to_vec(),
            Token::Nest {
                open,
                close,
                depth,
                closed,
            } => {
                let mut s = open.repeat(*depth);
                if *closed {
                    s.push('1');
                    s.push_str(&close.repeat(*depth));
                }
                s.into_bytes()
            }
            Token::Long {
                unit,
                bytes,
                quoted,
            } => {
                let s = unit.repeat((bytes / unit.len()).max(1));
                if *quoted {
                    quote(&s).into_bytes()
                } else {
                    s.into_bytes()
                }
            }
            Token::Digits { len, negative } => {
                let mut s = if *negative {
                    "-".to_string()
                } else {
                    String::new()
                };
                s.push_str(&"9".repeat(*len));
                s.into_bytes()
            }
        }
    }
}

/// The `[start, end)` bytes `region` means in `data` (the whole file when it is not
/// Parquet, or its footer length is damaged).
fn region_span(data: &[u8], region: Region) -> (usize, usize) {
    let len = data.len();
    let parquet = len >= 12 && &data[len - 4..] == b"PAR1";
    match region {
        Region::Anywhere => (0, len),
        Region::Tail => (len.saturating_sub(8), len),
        Region::PageHeader(column) if parquet => {
            // The footer may be damaged by an earlier mutation: then parquet2 may fail (or
            // even panic), and the mutation lands anywhere in the pages instead.
            let chunks = std::panic::catch_unwind(|| {
                let meta = parquet2::read::read_metadata(&mut Cursor::new(data)).ok()?;
                let ranges: Vec<(u64, u64)> = meta
                    .row_groups
                    .iter()
                    .flat_map(|rg| rg.columns().iter().map(|c| c.byte_range()))
                    .collect();
                Some(ranges)
            });
            match chunks {
                Ok(Some(ranges)) if !ranges.is_empty() => {
                    let (start, chunk_len) = ranges[column.index(ranges.len())];
                    let start = (start as usize).min(len);
                    let end = start.saturating_add((chunk_len as usize).min(48)).min(len);
                    (start, end)
                }
                _ => region_span(data, Region::Pages),
            }
        }
        Region::Pages | Region::Footer if parquet => {
            let footer_len =
                u32::from_le_bytes(data[len - 8..len - 4].try_into().unwrap()) as usize;
            let footer_start = (len - 8).saturating_sub(footer_len).max(4);
            match region {
                Region::Footer => (footer_start, len - 8),
                _ => (4.min(footer_start), footer_start),
            }
        }
        _ => (0, len),
    }
}

/// A position in `region` of `data` (inclusive of the end when `inclusive`).
fn position(data: &[u8], region: Region, at: &Index, inclusive: bool) -> usize {
    let (mut start, mut end) = region_span(data, region);
    if start >= end {
        (start, end) = (0, data.len());
    }
    let n = end - start + usize::from(inclusive);
    if n == 0 {
        0
    } else {
        start + at.index(n)
    }
}

/// The end of the JSON string starting at `data[i] == '"'` (index after the closing quote).
fn json_string_end(data: &[u8], i: usize) -> usize {
    let mut j = i + 1;
    while j < data.len() {
        match data[j] {
            b'\\' => j += 2,
            b'"' => return j + 1,
            _ => j += 1,
        }
    }
    data.len()
}

/// Where each `{` or `[` outside strings ends (the index after its match; the end of the
/// data when it is never closed), found in one pass: a mutation can leave 100,000 objects
/// open, and scanning to the end from each of them took minutes.
fn bracket_ends(data: &[u8]) -> HashMap<usize, usize> {
    let mut ends = HashMap::new();
    let mut open = Vec::new();
    let mut j = 0;
    while j < data.len() {
        match data[j] {
            b'"' => {
                j = json_string_end(data, j);
                continue;
            }
            b'{' | b'[' => open.push(j),
            b'}' | b']' => {
                if let Some(start) = open.pop() {
                    ends.insert(start, j + 1);
                }
            }
            _ => {}
        }
        j += 1;
    }
    ends.extend(open.into_iter().map(|start| (start, data.len())));
    ends
}

/// The end of the JSON value starting at `i` (`brackets`: [`bracket_ends`] of `data`).
fn json_value_end(data: &[u8], i: usize, brackets: &HashMap<usize, usize>) -> usize {
    match data.get(i) {
        Some(b'"') => json_string_end(data, i),
        Some(b'{' | b'[') => brackets.get(&i).copied().unwrap_or(data.len()),
        _ => {
            let mut j = i;
            while j < data.len() && !b",}] \t\r\n".contains(&data[j]) {
                j += 1;
            }
            j
        }
    }
}

/// The spans of the values of a file that `ReplaceValue` can replace.
fn value_spans(data: &[u8], kind: Kind) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    match kind {
        Kind::Json => {
            let brackets = bracket_ends(data);
            let mut i = 0;
            while i < data.len() {
                if data[i] != b'"' {
                    i += 1;
                    continue;
                }
                let end = json_string_end(data, i);
                let mut j = end;
                while j < data.len() && data[j].is_ascii_whitespace() {
                    j += 1;
                }
                if data.get(j) == Some(&b':') {
                    j += 1;
                    while j < data.len() && data[j].is_ascii_whitespace() {
                        j += 1;
                    }
                    spans.push((j, json_value_end(data, j, &brackets)));
                    i = j;
                } else {
                    i = end;
                }
            }
        }
        Kind::Csv => {
            let mut line_start = 0;
            for line in data.split(|b| *b == b'\n') {
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                let mut field_start = line_start;
                for field in line.split(|b| *b == b',') {
                    spans.push((field_start, field_start + field.len()));
                    field_start += field.len() + 1;
                }
                line_start +=
                    line.len() + 1 + usize::from(data.get(line_start + line.len()) == Some(&b'\r'));
            }
        }
        Kind::Yaml => {
            let mut line_start = 0;
            for line in data.split(|b| *b == b'\n') {
                let trimmed = line.iter().position(|b| !b.is_ascii_whitespace());
                let comment = trimmed.is_some_and(|t| line[t] == b'#');
                if !comment {
                    if let Some(colon) = line.windows(2).position(|w| w == b": ") {
                        let end = line.len() - usize::from(line.ends_with(b"\r"));
                        spans.push((line_start + colon + 2, line_start + end.max(colon + 2)));
                    }
                }
                line_start += line.len() + 1;
            }
        }
        Kind::Binary => {}
    }
    spans
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Applies the mutations in order; returns the bytes and what each did, concretely.
fn apply_all(original: &[u8], kind: Kind, muts: &[Mutation]) -> (Vec<u8>, Vec<String>) {
    let mut data = original.to_vec();
    let applied = muts.iter().map(|m| apply(&mut data, kind, m)).collect();
    (data, applied)
}

fn apply(data: &mut Vec<u8>, kind: Kind, mutation: &Mutation) -> String {
    let len = data.len();
    match mutation {
        Mutation::FlipBit { region, at, bit } => {
            if len == 0 {
                return "flip a bit: empty file, nothing done".into();
            }
            let p = position(data, *region, at, false).min(len - 1);
            data[p] ^= 1 << bit;
            format!("flip bit {bit} of byte {p} ({region:?}) of {len}")
        }
        Mutation::Overwrite { region, at, bytes } => {
            if len == 0 {
                return "overwrite: empty file, nothing done".into();
            }
            let p = position(data, *region, at, false).min(len - 1);
            let n = bytes.len().min(len - p);
            data[p..p + n].copy_from_slice(&bytes[..n]);
            format!(
                "overwrite bytes {p}..{} ({region:?}) of {len} with {}",
                p + n,
                hex(&bytes[..n])
            )
        }
        Mutation::Zero { region, at, len: n } => {
            if len == 0 {
                return "zero: empty file, nothing done".into();
            }
            let p = position(data, *region, at, false).min(len - 1);
            let n = (*n).min(len - p);
            data[p..p + n].fill(0);
            format!("zero bytes {p}..{} ({region:?}) of {len}", p + n)
        }
        Mutation::OverwriteI64 { region, at, value } => {
            if len == 0 {
                return "overwrite i64: empty file, nothing done".into();
            }
            let p = position(data, *region, at, false).min(len - 1);
            let bytes = value.to_le_bytes();
            let n = 8.min(len - p);
            data[p..p + n].copy_from_slice(&bytes[..n]);
            format!(
                "overwrite bytes {p}..{} ({region:?}) of {len} with i64 {value} (LE)",
                p + n
            )
        }
        Mutation::Truncate { region, at } => {
            let p = position(data, *region, at, true).min(len);
            data.truncate(p);
            format!("truncate to {p} bytes ({region:?}) of {len}")
        }
        Mutation::Repeat { from, len: n, to } => {
            if len == 0 {
                return "repeat: empty file, nothing done".into();
            }
            let f = from.index(len);
            let n = (*n).min(len - f);
            let chunk = data[f..f + n].to_vec();
            let t = to.index(len + 1);
            data.splice(t..t, chunk);
            format!("copy bytes {f}..{} of {len} to {t}", f + n)
        }
        Mutation::Move { from, len: n, to } => {
            if len == 0 {
                return "move: empty file, nothing done".into();
            }
            let f = from.index(len);
            let n = (*n).min(len - f);
            let chunk: Vec<u8> = data.drain(f..f + n).collect();
            let t = to.index(data.len() + 1);
            data.splice(t..t, chunk);
            format!("move bytes {f}..{} of {len} to {t} (after the cut)", f + n)
        }
        Mutation::Insert { at, token } => {
            let t = at.index(len + 1);
            data.splice(t..t, token.render(kind));
            format!("insert {token:?} at byte {t} of {len}")
        }
        Mutation::ReplaceValue { nth, token } => {
            let spans = value_spans(data, kind);
            if spans.is_empty() {
                let t = nth.index(len + 1);
                data.splice(t..t, token.render(kind));
                return format!("insert {token:?} at byte {t} of {len} (no value to replace)");
            }
            let (s, e) = spans[nth.index(spans.len())];
            let old = String::from_utf8_lossy(&data[s..e])
                .chars()
                .take(80)
                .collect::<String>();
            data.splice(s..e, token.render(kind));
            format!("replace the value {old:?} at bytes {s}..{e} of {len} with {token:?}")
        }
        Mutation::PrependAliasBomb { levels } => {
            let mut bomb = String::from("l0: &l0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
            for l in 1..*levels {
                let p = l - 1;
                let _ = writeln!(
                    bomb,
                    "l{l}: &l{l} [*l{p},*l{p},*l{p},*l{p},*l{p},*l{p},*l{p},*l{p},*l{p},*l{p}]"
                );
            }
            data.splice(0..0, bomb.into_bytes());
            format!("prepend a {levels}-level alias bomb (10^{levels} strings)")
        }
    }
}

// ---------------------------------------------------------------------------------------
// Parquet files written by the test: plain seeds, and columns of unusual types
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum TimeCol {
    Timestamp {
        unit: TimeUnit,
        tz: Option<&'static str>,
        values: Vec<Option<i64>>,
    },
    Text(Vec<Option<&'static str>>),
    Int64(Vec<Option<i64>>),
    Absent,
}

#[derive(Debug, Clone)]
enum IdCol {
    Int64(Vec<Option<i64>>),
    Int32(Vec<Option<i32>>),
    UInt64(Vec<Option<u64>>),
    Text(Vec<Option<&'static str>>),
    Absent,
}

#[derive(Debug, Clone)]
enum TextCol {
    Utf8(Vec<Option<&'static str>>),
    LargeUtf8(Vec<Option<&'static str>>),
    Dictionary(Vec<Option<&'static str>>),
    Int64(Vec<Option<i64>>),
    Absent,
}

#[derive(Debug, Clone)]
enum BoolCol {
    Boolean(Vec<Option<bool>>),
    Text(Vec<Option<&'static str>>),
    Absent,
}

/// A messages Parquet file: each column of some type, with some values.
#[derive(Debug, Clone)]
struct MessagesSpec {
    sender: TextCol,
    from_id: IdCol,
    started: BoolCol,
    order_id: IdCol,
    stage: TextCol,
    time: TimeCol,
    compression: &'static str,
    version2: bool,
    small_pages: bool,
}

const SENDERS: &[&str] = &[
    "Courier iOS",
    "Customer Android",
    "courier",
    "CUSTOMER",
    "",
    "Robot Web",
];
const STAGES: &[&str] = &["ACCEPTED", "PICKED_UP", "ON_ROUTE", "", "UNKNOWN"];

fn opt<T: std::fmt::Debug + Clone + 'static>(
    s: impl Strategy<Value = T> + 'static,
) -> impl Strategy<Value = Option<T>> {
    prop_oneof![5 => s.prop_map(Some), 1 => Just(None)]
}

fn time_col(n: usize) -> BoxedStrategy<TimeCol> {
    let unit = prop_oneof![
        Just(TimeUnit::Second),
        Just(TimeUnit::Millisecond),
        Just(TimeUnit::Microsecond),
        Just(TimeUnit::Nanosecond)
    ];
    let tz = prop_oneof![
        Just(None),
        Just(Some("UTC")),
        Just(Some("+01:00")),
        Just(Some("Europe/Madrid")),
        Just(Some("not a zone")),
    ];
    prop_oneof![
        5 => (unit, tz).prop_flat_map(move |(unit, tz)| {
            let normal = 1_706_781_600i64
                * match unit {
                    TimeUnit::Second => 1,
                    TimeUnit::Millisecond => 1_000,
                    TimeUnit::Microsecond => 1_000_000,
                    TimeUnit::Nanosecond => 1_000_000_000,
                };
            vec(
                opt(prop_oneof![
                    3 => select(EXTREME_I64),
                    2 => (0i64..86_400).prop_map(move |s| normal + s),
                    1 => any::<i64>(),
                ]),
                n,
            )
            .prop_map(move |values| TimeCol::Timestamp { unit, tz, values })
        }),
        2 => vec(opt(select(TIMESTAMPS)), n).prop_map(TimeCol::Text),
        1 => vec(opt(select(EXTREME_I64)), n).prop_map(TimeCol::Int64),
        1 => Just(TimeCol::Absent),
    ]
    .boxed()
}

fn id_col(n: usize) -> BoxedStrategy<IdCol> {
    prop_oneof![
        4 => vec(opt(prop_oneof![4 => 1i64..=4, 1 => select(vec![i64::MIN, -1, 0, i64::MAX])]), n)
            .prop_map(IdCol::Int64),
        1 => vec(opt(prop_oneof![4 => 1i32..=4, 1 => select(vec![i32::MIN, -1, i32::MAX])]), n)
            .prop_map(IdCol::Int32),
        1 => vec(
            opt(prop_oneof![
                3 => 1u64..=4,
                1 => select(vec![i64::MAX as u64, i64::MAX as u64 + 1, u64::MAX])
            ]),
            n
        )
        .prop_map(IdCol::UInt64),
        1 => vec(opt(prop_oneof![Just("1"), Just("2"), select(NUMBERS)]), n).prop_map(IdCol::Text),
        1 => Just(IdCol::Absent),
    ]
    .boxed()
}

fn text_col(n: usize, values: &'static [&'static str]) -> BoxedStrategy<TextCol> {
    prop_oneof![
        4 => vec(opt(select(values)), n).prop_map(TextCol::Utf8),
        1 => vec(opt(select(values)), n).prop_map(TextCol::LargeUtf8),
        2 => vec(opt(select(values)), n).prop_map(TextCol::Dictionary),
        1 => vec(opt(select(EXTREME_I64)), n).prop_map(TextCol::Int64),
        1 => Just(TextCol::Absent),
    ]
    .boxed()
}

fn bool_col(n: usize) -> BoxedStrategy<BoolCol> {
    prop_oneof![
        4 => vec(opt(any::<bool>()), n).prop_map(BoolCol::Boolean),
        1 => vec(opt(select(vec!["true", "FALSE", "yes", "1", ""])), n).prop_map(BoolCol::Text),
        1 => Just(BoolCol::Absent),
    ]
    .boxed()
}

fn messages_spec() -> impl Strategy<Value = MessagesSpec> {
    (1usize..=4).prop_flat_map(|n| {
        (
            text_col(n, SENDERS),
            id_col(n),
            bool_col(n),
            id_col(n),
            text_col(n, STAGES),
            time_col(n),
            prop_oneof![Just("uncompressed"), Just("snappy"), Just("zstd")],
            any::<bool>(),
            any::<bool>(),
        )
            .prop_map(
                |(
                    sender,
                    from_id,
                    started,
                    order_id,
                    stage,
                    time,
                    compression,
                    version2,
                    small_pages,
                )| {
                    MessagesSpec {
                        sender,
                        from_id,
                        started,
                        order_id,
                        stage,
                        time,
                        compression,
                        version2,
                        small_pages,
                    }
                },
            )
    })
}

fn text_array(col: &TextCol) -> Option<Box<dyn Array>> {
    Some(match col {
        TextCol::Utf8(v) => Utf8Array::<i32>::from(v).boxed(),
        TextCol::LargeUtf8(v) => Utf8Array::<i64>::from(v).boxed(),
        TextCol::Dictionary(v) => {
            let mut d = MutableDictionaryArray::<u32, MutableUtf8Array<i32>>::new();
            d.try_extend(v.iter().copied()).ok()?;
            let d: arrow2::array::DictionaryArray<u32> = d.into();
            d.boxed()
        }
        TextCol::Int64(v) => PrimitiveArray::<i64>::from(v.clone()).boxed(),
        TextCol::Absent => return None,
    })
}

fn id_array(col: &IdCol) -> Option<Box<dyn Array>> {
    Some(match col {
        IdCol::Int64(v) => PrimitiveArray::<i64>::from(v.clone()).boxed(),
        IdCol::Int32(v) => PrimitiveArray::<i32>::from(v.clone()).boxed(),
        IdCol::UInt64(v) => PrimitiveArray::<u64>::from(v.clone()).boxed(),
        IdCol::Text(v) => Utf8Array::<i32>::from(v).boxed(),
        IdCol::Absent => return None,
    })
}

impl MessagesSpec {
    fn rows(&self) -> usize {
        match &self.time {
            TimeCol::Timestamp { values, .. } | TimeCol::Int64(values) => values.len(),
            TimeCol::Text(values) => values.len(),
            TimeCol::Absent => match &self.started {
                BoolCol::Boolean(v) => v.len(),
                BoolCol::Text(v) => v.len(),
                BoolCol::Absent => 1,
            },
        }
    }

    fn columns(&self) -> Vec<(&'static str, Box<dyn Array>)> {
        let n = self.rows();
        let fixed = || PrimitiveArray::<i64>::from_vec((1..=n as i64).collect()).boxed();
        let mut cols: Vec<(&'static str, Option<Box<dyn Array>>)> = vec![
            ("senderAppType", text_array(&self.sender)),
            ("customerId", Some(fixed())),
            ("fromId", id_array(&self.from_id)),
            ("toId", Some(fixed())),
            (
                "chatStartedByMessage",
                match &self.started {
                    BoolCol::Boolean(v) => Some(BooleanArray::from(v.clone()).boxed()),
                    BoolCol::Text(v) => Some(Utf8Array::<i32>::from(v).boxed()),
                    BoolCol::Absent => None,
                },
            ),
            ("orderId", id_array(&self.order_id)),
            ("orderStage", text_array(&self.stage)),
            ("courierId", Some(fixed())),
        ];
        cols.push((
            "messageSentTime",
            match &self.time {
                TimeCol::Timestamp { unit, tz, values } => Some(
                    PrimitiveArray::<i64>::from(values.clone())
                        .to(DataType::Timestamp(*unit, tz.map(str::to_string)))
                        .boxed(),
                ),
                TimeCol::Text(v) => Some(Utf8Array::<i32>::from(v).boxed()),
                TimeCol::Int64(v) => Some(PrimitiveArray::<i64>::from(v.clone()).boxed()),
                TimeCol::Absent => None,
            },
        ));
        cols.into_iter()
            .filter_map(|(name, a)| a.map(|a| (name, a)))
            .collect()
    }

    fn compression(&self) -> CompressionOptions {
        match self.compression {
            "snappy" => CompressionOptions::Snappy,
            "zstd" => CompressionOptions::Zstd(None),
            _ => CompressionOptions::Uncompressed,
        }
    }

    /// The file's bytes, or `None` when arrow2 refuses to write this combination.
    fn to_parquet(&self) -> Option<Vec<u8>> {
        parquet_bytes(
            self.columns(),
            self.compression(),
            self.version2,
            self.small_pages,
        )
    }
}

/// One row group of `columns`, plain-encoded (dictionary columns dictionary-encoded).
fn parquet_bytes(
    columns: Vec<(&'static str, Box<dyn Array>)>,
    compression: CompressionOptions,
    version2: bool,
    small_pages: bool,
) -> Option<Vec<u8>> {
    let fields: Vec<Field> = columns
        .iter()
        .map(|(name, a)| Field::new(*name, a.data_type().clone(), true))
        .collect();
    let schema = Schema::from(fields);
    let options = WriteOptions {
        write_statistics: true,
        compression,
        version: if version2 { Version::V2 } else { Version::V1 },
        data_pagesize_limit: small_pages.then_some(16),
    };
    let encodings: Vec<Vec<Encoding>> = schema
        .fields
        .iter()
        .map(|f| {
            transverse(&f.data_type, |dt| match dt {
                DataType::Dictionary(..) => Encoding::RleDictionary,
                _ => Encoding::Plain,
            })
        })
        .collect();
    let chunk = Chunk::try_new(columns.into_iter().map(|(_, a)| a).collect()).ok()?;
    let groups =
        RowGroupIterator::try_new(std::iter::once(Ok(chunk)), &schema, options, encodings).ok()?;
    let mut writer = FileWriter::try_new(Cursor::new(Vec::new()), schema, options).ok()?;
    for group in groups {
        writer.write(group.ok()?).ok()?;
    }
    writer.end(None).ok()?;
    Some(writer.into_inner().into_inner())
}

/// Six ordinary messages of orders 1–3, and orders 1–4, written by the test's writer.
fn plain_parquet_seed(root: &Path, name: &str, compression: CompressionOptions) -> Seed {
    let dir = root.join(name);
    fs::create_dir_all(&dir).unwrap();
    let n = 6;
    let spec = MessagesSpec {
        sender: TextCol::Utf8(
            (0..n)
                .map(|i| Some(["Customer iOS", "Courier Android"][i % 2]))
                .collect(),
        ),
        from_id: IdCol::Int64((0..n).map(|i| Some(1 + (i % 2) as i64)).collect()),
        started: BoolCol::Boolean((0..n).map(|i| Some(i % 2 == 0)).collect()),
        order_id: IdCol::Int64((0..n).map(|i| Some(1 + (i / 2) as i64)).collect()),
        stage: TextCol::Utf8((0..n).map(|_| Some("ACCEPTED")).collect()),
        time: TimeCol::Timestamp {
            unit: TimeUnit::Microsecond,
            tz: Some("UTC"),
            values: (0..n)
                .map(|i| Some((1_706_781_600 + 30 * i as i64) * 1_000_000))
                .collect(),
        },
        compression: "uncompressed",
        version2: false,
        small_pages: matches!(compression, CompressionOptions::Zstd(_)),
    };
    let messages = parquet_bytes(spec.columns(), compression, false, spec.small_pages)
        .expect("the plain messages file is writable");
    fs::write(dir.join(format!("{MESSAGES}.parquet")), messages).unwrap();
    let orders = parquet_bytes(
        vec![
            (
                "orderId",
                PrimitiveArray::<i64>::from_vec(vec![1, 2, 3, 4]).boxed(),
            ),
            (
                "cityCode",
                Utf8Array::<i32>::from_slice(["BCN", "MAD", "BCN", "LIS"]).boxed(),
            ),
        ],
        compression,
        false,
        false,
    )
    .expect("the plain orders file is writable");
    fs::write(dir.join(format!("{ORDERS}.parquet")), orders).unwrap();
    seed_at(dir, name)
}
