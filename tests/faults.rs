//! Faults around a run, not in its input: a full disk, a read-only output folder, the
//! output replaced between runs, two runs at once, SIGTERM and SIGINT. Each leaves the
//! previous output whole, no staging folder behind, and a documented exit code.

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use support::*;

/// A mounted tmpfs of `size` (a small file system that fills up), unmounted on drop.
/// Mounting needs root, as CI and the development machines run; elsewhere the test
/// says why it cannot run.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(size: &str) -> Option<SmallDisk> {
        let dir = tempfile::tempdir().unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status();
        match status {
            Ok(s) if s.success() => Some(SmallDisk { dir }),
            _ => {
                assert!(
                    !is_root(),
                    "root could not mount a tmpfs: this test needs one"
                );
                eprintln!("skipped: mounting a tmpfs needs root");
                None
            }
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn remount(&self, option: &str) {
        let status = Command::new("mount")
            .args(["-o", &format!("remount,{option}")])
            .arg(self.path())
            .status()
            .unwrap();
        assert!(status.success());
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// `ccc generate` into `dir`: enough data that its output does not fit a small disk.
fn generate(dir: &Path, orders: &str) {
    let out = run_ccc(&[
        "generate",
        "--orders",
        orders,
        "--seed",
        "7",
        "--format",
        "ndjson",
        "--out",
        path_str(dir),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
}

/// Runs `args` and checks a failure: its code, its message, the output as it was and
/// nothing left beside it.
fn fails_keeping(
    out: &Path,
    before: &[(PathBuf, Vec<u8>)],
    args: &[&str],
    code: i32,
    needle: &str,
) {
    let result = run_ccc(args);
    let err = stderr(&result);
    assert_eq!(result.status.code(), Some(code), "{err}");
    assert!(err.contains(needle), "expected {needle:?} in:\n{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(snapshot(out), before, "the previous output is whole");
    assert_eq!(
        leftovers_beside(out.parent().unwrap()),
        Vec::<String>::new()
    );
}

/// A 256 KiB disk holding a small published output, and sources whose run does not fit.
struct FullDisk {
    disk: SmallDisk,
    tmp: tempfile::TempDir,
    big: PathBuf,
    out: PathBuf,
    before: Vec<(PathBuf, Vec<u8>)>,
}

impl FullDisk {
    fn with_output() -> Option<FullDisk> {
        let disk = SmallDisk::mount("256k")?;
        let tmp = tempfile::tempdir().unwrap();
        let (small, big) = (tmp.path().join("small"), tmp.path().join("big"));
        write_small_sources(&small);
        generate(&big, "3000");
        let out = disk.path().join("out");
        assert!(run_job(&small, &out, &[]).status.success());
        let before = snapshot(&out);
        Some(FullDisk {
            disk,
            tmp,
            big,
            out,
            before,
        })
    }
}

#[test]
fn a_full_disk_while_spilling_is_exit_3_naming_the_spill_file() {
    let Some(FullDisk {
        disk: _disk,
        tmp: _tmp,
        big,
        out,
        before,
    }) = FullDisk::with_output()
    else {
        return;
    };
    let args = [
        "run",
        "--checks",
        "off",
        "-q",
        "--memory-limit",
        "560K",
        "--source",
        path_str(&big),
        "--out",
        path_str(&out),
    ];
    fails_keeping(&out, &before, &args, 3, "cannot write the spill file");
    fails_keeping(&out, &before, &args, 3, "No space left on device");
}

#[test]
fn a_full_disk_during_publish_keeps_the_old_output_and_leaves_no_staging() {
    let Some(FullDisk {
        disk: _disk,
        tmp,
        big,
        out,
        before,
    }) = FullDisk::with_output()
    else {
        return;
    };
    let args = [
        "run",
        "--checks",
        "off",
        "-q",
        "--source",
        path_str(&big),
        "--out",
        path_str(&out),
    ];
    fails_keeping(&out, &before, &args, 3, "No space left on device");
    // The same for an incremental run, whose state lives elsewhere.
    let state = tmp.path().join("state");
    let mut incremental = args.to_vec();
    incremental.extend(["--incremental", "--state", path_str(&state)]);
    fails_keeping(&out, &before, &incremental, 3, "No space left on device");
    let again = run_ccc(&incremental);
    assert_eq!(
        again.status.code(),
        Some(3),
        "still no room: {}",
        stderr(&again)
    );
}

#[test]
fn a_read_only_output_folder_is_an_output_error() {
    let Some(disk) = SmallDisk::mount("4m") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    write_small_sources(&src);
    let out = disk.path().join("out");
    assert!(run_job(&src, &out, &[]).status.success());
    let before = snapshot(&out);
    disk.remount("ro");
    let args = [
        "run",
        "--checks",
        "off",
        "-q",
        "--source",
        path_str(&src),
        "--out",
        path_str(&out),
    ];
    let result = run_ccc(&args);
    let err = stderr(&result);
    assert_eq!(result.status.code(), Some(3), "{err}");
    assert!(err.contains("Read-only file system"), "{err}");
    assert_eq!(snapshot(&out), before);
    disk.remount("rw");
}

/// A folder with sources `a` published to `out`, and sources `b` whose order 10 is in
/// LIS instead of BCN (so a publish of `b` shows in the table).
fn published_then_changed() -> (tempfile::TempDir, PathBuf, PathBuf, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    write_small_sources(&a);
    write_small_sources(&b);
    let orders = fs::read_to_string(b.join("orders.json"))
        .unwrap()
        .replace("BCN", "LIS");
    fs::write(b.join("orders.json"), orders).unwrap();
    let out = tmp.path().join("out");
    assert!(run_job(&a, &out, &[]).status.success());
    (tmp, a, b, out)
}

#[test]
fn an_output_replaced_by_a_link_is_published_through_it_and_by_a_file_is_refused() {
    let (tmp, a, b, out) = published_then_changed();

    // Between runs the output moves and a link takes its place.
    let real = tmp.path().join("volume/out");
    fs::create_dir_all(real.parent().unwrap()).unwrap();
    fs::rename(&out, &real).unwrap();
    std::os::unix::fs::symlink(&real, &out).unwrap();
    let run = run_job(&b, &out, &[]);
    assert!(run.status.success(), "{}", stderr(&run));
    assert!(
        fs::symlink_metadata(&out).unwrap().file_type().is_symlink(),
        "the link stays"
    );
    assert!(
        table_csv(&real)[0].contains(",10,LIS,"),
        "published where it points"
    );
    assert_eq!(
        leftovers_beside(real.parent().unwrap()),
        Vec::<String>::new()
    );

    // A file in its place is not a ccc output: refused, untouched.
    fs::remove_file(&out).unwrap();
    fs::write(&out, "notes").unwrap();
    let run = run_job(&a, &out, &[]);
    assert_eq!(run.status.code(), Some(2), "{}", stderr(&run));
    assert!(
        stderr(&run).contains("is not a ccc output folder"),
        "{}",
        stderr(&run)
    );
    assert_eq!(fs::read_to_string(&out).unwrap(), "notes");
}

#[test]
fn a_second_run_into_a_busy_output_is_refused_and_the_first_publishes() {
    let (tmp, a, b, out) = published_then_changed();
    let mut first = spawn_paused(
        ccc().env("CCC_TEST_PAUSE_SECONDS", "3").args([
            "run",
            "--checks",
            "off",
            "-q",
            "--source",
            path_str(&b),
            "--out",
            path_str(&out),
        ]),
        "publish-before-swap",
    );
    let second = run_job(&a, &out, &[]);
    assert_eq!(second.status.code(), Some(2), "{}", stderr(&second));
    assert!(
        stderr(&second).contains("another ccc run is writing"),
        "{}",
        stderr(&second)
    );
    assert!(
        first.wait().unwrap().success(),
        "the first run goes on and publishes"
    );
    assert!(
        table_csv(&out)[0].contains(",10,LIS,"),
        "{:?}",
        table_csv(&out)
    );
    assert_eq!(leftovers_beside(tmp.path()), Vec::<String>::new());
    // Once it has ended the output is free again.
    assert!(run_job(&a, &out, &[]).status.success());
}

/// Sends `signal` to a run paused in the middle of writing its output and checks that it
/// cleans up and exits with 128 + the signal's number.
fn interrupted(signal: &str, code: i32, incremental: bool) {
    let tmp = tempfile::tempdir().unwrap();
    // The second run's sources are the first's and more (new files for an incremental run).
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    write_small_sources(&a);
    generate(&b, "300");
    write_small_sources(&b);
    let out = tmp.path().join("out");
    let state = tmp.path().join("state");
    let mut extra: Vec<&str> = Vec::new();
    if incremental {
        extra.extend(["--incremental", "--state", path_str(&state)]);
    }
    assert!(run_job(&a, &out, &extra).status.success());
    let before = snapshot(&out);
    let mut child = spawn_paused(
        ccc()
            .args([
                "run",
                "--checks",
                "off",
                "-q",
                "--source",
                path_str(&b),
                "--out",
                path_str(&out),
            ])
            .args(&extra),
        "publish-mid-write",
    );
    let sent = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(code), "{signal}: exit 128 + its number");
    assert_eq!(
        snapshot(&out),
        before,
        "{signal}: the previous output is whole"
    );
    assert_eq!(
        leftovers_beside(tmp.path()),
        Vec::<String>::new(),
        "{signal}: staging removed"
    );
    if incremental {
        assert!(
            !state.join("lock").exists(),
            "{signal}: the state lock is released"
        );
        // The unfinished generation may stay; the next run ignores and removes it.
        let next = run_job(&b, &out, &extra);
        assert!(next.status.success(), "{}", stderr(&next));
        let full = tmp.path().join("full");
        assert!(run_job(&b, &full, &[]).status.success());
        assert_eq!(
            table_csv(&out),
            table_csv(&full),
            "{signal}: the next run catches up"
        );
    }
}

#[test]
fn sigterm_during_a_run_removes_its_staging_and_exits_143() {
    interrupted("TERM", 143, false);
}

#[test]
fn sigint_during_a_run_removes_its_staging_and_exits_130() {
    interrupted("INT", 130, false);
}

#[test]
fn sigterm_during_an_incremental_run_keeps_state_and_output_together() {
    interrupted("TERM", 143, true);
}

#[test]
fn sigint_during_an_incremental_run_keeps_state_and_output_together() {
    interrupted("INT", 130, true);
}
