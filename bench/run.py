"""`make bench`: ccc against DuckDB on the same generated files, in the same run.

Run from the repository root (the Makefile does):

    python3 -m venv bench/.venv && bench/.venv/bin/pip install -q -r bench/requirements.txt
    bench/.venv/bin/python bench/run.py [--sizes 1m,10m] [--formats parquet,ndjson] [--repeat 3]

For every (size, format) it times, `--repeat` times each, interleaved:

  ccc-N    `ccc run --checks off --quiet --format parquet --threads N` (N = --threads, the cores)
  duckdb   bench/duckdb_job.py: the same table in DuckDB SQL, written as Parquet
           partitioned by conversation_date, threads = N
  ccc-1    the same ccc run with --threads 1 (for the parallel speed-up)
  ccc+checks  `ccc run --checks enforce` with both suites, N threads (skip: --no-checks-run)
  suite-ccc     `ccc validate --suite source --source SRC --quiet --threads N` (skip: --no-suite)
  suite-duckdb  bench/duckdb_checks.py: the same 38 checks in DuckDB SQL on the same files,
                threads = N; its time is the SQL alone

and reports medians: wall seconds, peak RSS (of that process and its children), and the
speed-up ccc-1 / ccc-N. It then checks that DuckDB's table and ccc's are equal (EXCEPT ALL
both ways, conversation_date included) and that ccc's 1-thread and N-thread files are
byte-identical, and that DuckDB's element, missing and unexpected counts of the source
suite equal ccc's (`ccc validate --report json`), on the bench data and on generated dirty
data (`ccc generate --orders 20000 --dirty 0.05`). `--suite-only` measures the suite alone.
Results go to stdout and bench/results.json. docs/performance.md explains it.

Only the standard library and duckdb (for the cross-check) are used.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
DATA = BENCH / "data"
OUT = DATA / "out"
CCC = ROOT / "target" / "release" / "ccc"
DUCKDB_JOB = BENCH / "duckdb_job.py"
DUCKDB_CHECKS = BENCH / "duckdb_checks.py"
SUITE_BAR = 1 / 3  # the source suite alone: at most a third of DuckDB's time for the same checks
DIRTY_ORDERS, DIRTY_FRACTION = 20_000, 0.05  # the dirty data the suite's counts are also compared on
RESULTS = BENCH / "results.json"
# ccc's memory plan (crates/transform/src/streaming/plan.rs): bytes per order that never
# spill, and bytes of one order's state.
FIXED_BYTES_PER_ORDER, STATE_BYTES_PER_ORDER = 160, 80
TIME_BAR = 0.45  # ccc at most 0.45x DuckDB's time for the table
MEMORY_BARS_MB = {"10m": ("half of DuckDB's", 0.5), "50m": ("2.5 GiB", 2560.0)}
GNU_TIME = Path("/usr/bin/time")

MESSAGES_PER_ORDER = 6.5  # the generator's average (1-12 messages per order)
TABLE = "customer_courier_conversations"


# --------------------------------------------------------------------------- helpers


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def parse_size(text: str) -> int:
    """'1m' -> 1_000_000, '100k' -> 100_000, '2500' -> 2500 (messages)."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmM]?)\s*", text)
    if not m:
        raise argparse.ArgumentTypeError(f"bad size {text!r} (e.g. 1m, 10m, 200k)")
    n = float(m.group(1)) * {"": 1, "k": 1_000, "m": 1_000_000}[m.group(2).lower()]
    return int(n)


def size_label(text: str) -> str:
    return text.strip().lower()


def median(xs: list[float]) -> float | None:
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def rmtree(path: Path) -> None:
    if path.exists():
        shutil.rmtree(path)


class Failed(Exception):
    pass


def cpu_busy_s() -> float | None:
    """Busy CPU seconds of the whole machine so far (all cores), from /proc/stat."""
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def wait_idle(max_wait_s: float, threshold: float = 0.15) -> float | None:
    """Wait (at most max_wait_s) until the machine is nearly idle; returns the last busy share.

    Other engineers build on the same 2-core box; a measurement taken while a compiler runs
    says little. Busy share = busy CPU time / (1 s x cores), sampled over one second.
    """
    cores = os.cpu_count() or 1
    deadline = time.monotonic() + max_wait_s
    warned = False
    while True:
        a = cpu_busy_s()
        time.sleep(1.0)
        b = cpu_busy_s()
        if a is None or b is None:
            return None
        share = (b - a) / cores
        if share <= threshold or time.monotonic() >= deadline:
            return share
        if not warned:
            log(f"    waiting for the machine to go idle (busy {share:.0%}, at most {max_wait_s:.0f}s)")
            warned = True


def measure(cmd: list[str], cwd: Path | None = None, ok_codes: tuple[int, ...] = (0,)) -> dict:
    """Run one command in its own process; wall time and peak RSS of that process tree.

    Peak RSS comes from GNU time's "Maximum resident set size" when /usr/bin/time exists,
    and otherwise from os.wait4's rusage of the child (Linux folds the peak of the child's
    waited-for descendants into it). Both are recorded when both are available.
    """
    with tempfile.TemporaryDirectory(prefix="ccc-bench-") as tmp:
        tmp = Path(tmp)
        full = list(cmd)
        time_file = tmp / "time.txt"
        if GNU_TIME.exists():
            full = [str(GNU_TIME), "-v", "-o", str(time_file)] + full
        with open(tmp / "stdout", "wb") as so, open(tmp / "stderr", "wb") as se:
            busy0 = cpu_busy_s()
            start = time.perf_counter()
            proc = subprocess.Popen(full, stdout=so, stderr=se, cwd=cwd)
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - start
            busy1 = cpu_busy_s()
            proc.returncode = os.waitstatus_to_exitcode(status)  # reaped by wait4 above
        stdout = (tmp / "stdout").read_text(errors="replace")
        stderr = (tmp / "stderr").read_text(errors="replace")
        wait4_kb = usage.ru_maxrss  # KiB on Linux
        time_kb = None
        if time_file.exists():
            m = re.search(r"Maximum resident set size \(kbytes\):\s*(\d+)", time_file.read_text())
            if m:
                time_kb = int(m.group(1))
    if proc.returncode not in ok_codes:
        raise Failed(
            f"command failed (exit {proc.returncode}): {' '.join(cmd)}\n"
            f"--- stdout\n{stdout[-2000:]}\n--- stderr\n{stderr[-4000:]}"
        )
    peak_kb = time_kb if time_kb is not None else wait4_kb
    cpu_s = usage.ru_utime + usage.ru_stime
    others = None
    if busy0 is not None and busy1 is not None and wall > 0:
        # CPU that other processes used while this one ran, as a share of all cores
        others = max(0.0, (busy1 - busy0) - cpu_s) / (wall * (os.cpu_count() or 1))
    return {
        "wall_s": wall,
        "exit_code": proc.returncode,
        "cpu_s": cpu_s,
        "others_cpu_share": others,
        "peak_rss_mb": peak_kb / 1024,
        "rss_source": "gnu-time" if time_kb is not None else "wait4",
        "wait4_maxrss_mb": wait4_kb / 1024,
        "stdout": stdout,
    }


def loadavg() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def read_only_git(*args: str) -> str | None:
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    except Exception:
        return None


# --------------------------------------------------------------------------- steps


def build() -> None:
    log("building: cargo build --release -p ccc-cli")
    subprocess.run(["cargo", "build", "--release", "-p", "ccc-cli"], cwd=ROOT, check=True)


def generated(folder: Path, orders: int, fmt: str, seed: int, files: int, late: float = 0.0) -> dict:
    """`ccc generate` into `folder`, reused when its _generated.json has the same options
    and every file it lists is there; gives that _generated.json."""
    want = {"orders": orders, "seed": seed, "format": fmt, "files": files, "dirty": 0.0, "late": late}
    manifest = folder / "_generated.json"
    if manifest.exists():
        try:
            meta = json.loads(manifest.read_text())
            opts = meta.get("options", {})
            if all(opts.get(k) == v for k, v in want.items()) and all(
                (folder / f["name"]).exists() for f in meta.get("files", [])
            ):
                log(f"data {folder.relative_to(ROOT)}: cached ({meta['counts']['messages']:,} messages)")
                return meta
        except (ValueError, KeyError, TypeError):
            pass
    rmtree(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    log(f"data {folder.relative_to(ROOT)}: generating {orders:,} orders as {fmt} in {files} files, late {late} ...")
    t = time.perf_counter()
    subprocess.run(
        [str(CCC), "generate", "--orders", str(orders), "--seed", str(seed), "--format", fmt,
         "--files", str(files), "--late", str(late), "--out", str(folder)],
        check=True, stdout=subprocess.DEVNULL,
    )
    meta = json.loads(manifest.read_text())
    log(f"  done in {time.perf_counter() - t:.1f}s: {meta['counts']['messages']:,} messages")
    return meta


def generate(label: str, messages: int, fmt: str, seed: int, files: int) -> tuple[Path, int]:
    """Generated sources for one (size, format), reused when _generated.json matches."""
    orders = max(1, round(messages / MESSAGES_PER_ORDER))
    folder = DATA / f"{label}-{fmt}"
    meta = generated(folder, orders, fmt, seed, files)
    return folder, int(meta["counts"]["messages"])


IDLE_WAIT_S = 0.0
RETRIES = 0
DISTURBED = 0.10  # other processes' CPU share above which a sample is taken again


def undisturbed(run, *args) -> dict:
    """One measurement; taken again (up to RETRIES times) when other processes took more than
    DISTURBED of the CPU while it ran. The least disturbed attempt is kept."""
    best = None
    for attempt in range(RETRIES + 1):
        r = run(*args)
        r["attempt"] = attempt + 1
        if best is None or (r["others_cpu_share"] or 0) < (best["others_cpu_share"] or 0):
            best = r
        if r["others_cpu_share"] is None or r["others_cpu_share"] <= DISTURBED:
            break
        log(f"    disturbed: other processes took {r['others_cpu_share']:.0%} of the CPU; measuring again")
    return best


def warm_page_cache(folder: Path) -> None:
    """Read every source file once, so that no measured run pays for the disk alone. Done
    before every measured run, not once per size: this box's kernel pages out file pages
    left idle for a few seconds (DAMON reclaim), so a run a minute after the warm-up read
    part of its input from the disk, at random."""
    for f in sorted(folder.iterdir()):
        if f.is_file():
            with open(f, "rb") as fh:
                while fh.read(16 << 20):
                    pass


def run_ccc(src: Path, out: Path, threads: int, checks: str, extra: tuple[str, ...] = ()) -> dict:
    rmtree(out)
    warm_page_cache(src)
    idle = wait_idle(IDLE_WAIT_S) if IDLE_WAIT_S > 0 else None
    r = measure([str(CCC), "run", "--source", str(src), "--out", str(out), "--checks", checks,
                 "--quiet", "--format", "parquet", "--threads", str(threads), *extra])
    report = json.loads((out / "_run.json").read_text())
    r["memory"] = report.get("memory", {})
    r["timings_ms"] = report.get("timings", {})
    r["rows"] = report.get("conversations")
    r["report_threads"] = report.get("threads")
    r["reconciled"] = report.get("reconciled")
    r["messages"] = report.get("messages", {})
    r["busy_before"] = idle
    del r["stdout"]
    return r


def run_duckdb(src: Path, out: Path, fmt: str, threads: int) -> dict:
    rmtree(out)
    warm_page_cache(src)
    idle = wait_idle(IDLE_WAIT_S) if IDLE_WAIT_S > 0 else None
    r = measure([sys.executable, str(DUCKDB_JOB), str(src), str(out), fmt, "--threads", str(threads)], cwd=DATA)
    line = [ln for ln in r.pop("stdout").splitlines() if ln.startswith("{")][-1]
    info = json.loads(line)
    r["query_s"] = info["query_s"]
    r["rows"] = info["rows"]
    r["busy_before"] = idle
    return r


# --------------------------------------------------------------------------- the source suite


def suite_cmd(src: Path, threads: int) -> list[str]:
    return [str(CCC), "validate", "--suite", "source", "--source", str(src), "--quiet", "--threads", str(threads)]


def run_suite_ccc(src: Path, threads: int) -> dict:
    """`ccc validate --suite source`, the whole process. Exit 1 (an error expectation failed)
    is a result, not a failure of the bench."""
    warm_page_cache(src)
    idle = wait_idle(IDLE_WAIT_S) if IDLE_WAIT_S > 0 else None
    r = measure(suite_cmd(src, threads), cwd=ROOT, ok_codes=(0, 1))
    r["verdict"] = r.pop("stdout").strip().splitlines()[-1:]
    r["busy_before"] = idle
    return r


def duckdb_checks_cmd(src: Path, fmt: str, threads: int, ndjson_columns: str) -> list[str]:
    return [sys.executable, str(DUCKDB_CHECKS), str(src), fmt, "--threads", str(threads),
            "--ndjson-columns", ndjson_columns]


def parse_duckdb_checks(stdout: str) -> dict:
    return json.loads([ln for ln in stdout.splitlines() if ln.startswith("{")][-1])


def run_suite_duckdb(src: Path, fmt: str, threads: int, ndjson_columns: str) -> dict:
    warm_page_cache(src)
    idle = wait_idle(IDLE_WAIT_S) if IDLE_WAIT_S > 0 else None
    r = measure(duckdb_checks_cmd(src, fmt, threads, ndjson_columns), cwd=DATA)
    info = parse_duckdb_checks(r.pop("stdout"))
    r["query_s"] = info["query_s"]
    r["counts"] = {k: info[k] for k in ("element_count", "missing_count", "unexpected")}
    r["busy_before"] = idle
    return r


def ccc_suite_counts(src: Path, threads: int) -> dict:
    """ccc's counts of the source suite, from `--report json` (run once, not timed)."""
    with tempfile.TemporaryDirectory(prefix="ccc-bench-") as tmp:
        report = Path(tmp) / "source.json"
        proc = subprocess.run(suite_cmd(src, threads) + ["--report", "json", "--report-file", str(report)],
                              cwd=ROOT, capture_output=True, text=True)
        if proc.returncode not in (0, 1) or not report.exists():
            raise Failed(f"ccc validate failed (exit {proc.returncode}) on {src}:\n{proc.stderr[-4000:]}")
        doc = json.loads(report.read_text())
    return {
        "element_count": {r["id"]: r["element_count"] for r in doc["results"]},
        "missing_count": {r["id"]: r.get("missing_count") for r in doc["results"]},
        "unexpected": {r["id"]: r["unexpected_count"] for r in doc["results"]},
    }


def compare_suite_counts(ccc: dict, duck: dict) -> dict:
    """Expectation by expectation: unexpected, element and missing counts of ccc and DuckDB."""
    ids_ccc, ids_duck = list(ccc["unexpected"]), list(duck["unexpected"])
    mismatches = []
    for cid in ids_ccc:
        if cid not in duck["unexpected"]:
            continue
        for field in ("unexpected", "element_count", "missing_count"):
            a, b = ccc[field].get(cid), duck[field].get(cid)
            if a != b:
                mismatches.append({"id": cid, "field": field if field != "unexpected" else "unexpected_count",
                                   "ccc": a, "duckdb": b})
    only_ccc = [i for i in ids_ccc if i not in duck["unexpected"]]
    only_duck = [i for i in ids_duck if i not in ccc["unexpected"]]
    return {
        "ok": not mismatches and not only_ccc and not only_duck,
        "expectations": len(ids_ccc),
        "mismatches": mismatches,
        "only_in_ccc": only_ccc,
        "only_in_duckdb": only_duck,
        "unexpected_total_ccc": sum(ccc["unexpected"].values()),
        "unexpected_total_duckdb": sum(duck["unexpected"].values()),
    }


def report_suite_check(tag: str, check: dict, problems: list[str]) -> None:
    if check["ok"]:
        log(f"[{tag}] source suite: DuckDB's counts equal ccc's for all {check['expectations']} expectations "
            f"({check['unexpected_total_ccc']} unexpected values in all)")
        return
    problems.append(f"{tag}: source suite counts differ between ccc and DuckDB: "
                    f"{len(check['mismatches'])} mismatches, ids only in ccc {check['only_in_ccc']}, "
                    f"only in DuckDB {check['only_in_duckdb']}")
    log("!" * 78)
    log(f"!! SOURCE SUITE MISMATCH {tag}: {len(check['mismatches'])} counts differ")
    for m in check["mismatches"]:
        log(f"!!   {m['id']}: {m['field']} ccc {m['ccc']} vs DuckDB {m['duckdb']}")
    if check["only_in_ccc"] or check["only_in_duckdb"]:
        log(f"!!   ids only in ccc: {check['only_in_ccc']}; only in DuckDB: {check['only_in_duckdb']}")
    log("!" * 78)


def dirty_suite_check(fmt: str, seed: int, threads: int, ndjson_columns: str) -> dict:
    """The counts must agree on dirty data too (nulls, empty and unknown values, wrong types,
    bad timestamps, orphans, conflicting cities), where most of them are not zero."""
    folder = DATA / f"dirty-{fmt}"
    want = {"orders": DIRTY_ORDERS, "seed": seed, "format": fmt, "dirty": DIRTY_FRACTION}
    manifest = folder / "_generated.json"
    cached = False
    if manifest.exists():
        try:
            opts = json.loads(manifest.read_text()).get("options", {})
            cached = all(opts.get(k) == v for k, v in want.items())
        except ValueError:
            pass
    if not cached:
        rmtree(folder)
        folder.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([str(CCC), "generate", "--orders", str(DIRTY_ORDERS), "--dirty", str(DIRTY_FRACTION),
                        "--seed", str(seed), "--format", fmt, "--out", str(folder)],
                       check=True, stdout=subprocess.DEVNULL)
    ccc = ccc_suite_counts(folder, threads)
    proc = subprocess.run(duckdb_checks_cmd(folder, fmt, threads, ndjson_columns), cwd=DATA,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise Failed(f"bench/duckdb_checks.py failed on {folder}:\n{proc.stderr[-4000:]}")
    check = compare_suite_counts(ccc, parse_duckdb_checks(proc.stdout))
    check["data"] = str(folder.relative_to(ROOT))
    check["failed_expectations"] = sum(1 for v in ccc["unexpected"].values() if v)
    return check


def python_duckdb_baseline() -> float | None:
    """Peak RSS of the interpreter with duckdb imported and connected, doing nothing."""
    try:
        return measure([sys.executable, "-c", "import duckdb; duckdb.connect().execute('select 1').fetchall()"])[
            "peak_rss_mb"
        ]
    except Failed:
        return None


def ccc_parquet(out: Path) -> Path:
    return out / "parquet" / TABLE


def cross_check(ccc_out: Path, duck_out: Path, limit: int = 5) -> dict:
    """EXCEPT ALL both ways between ccc's Parquet table and DuckDB's (conversation_date too)."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"SET threads = {os.cpu_count() or 1}")
    ccc_glob = str(ccc_parquet(ccc_out) / "*" / "*.parquet")
    duck_glob = str(duck_out / "*" / "*.parquet")
    con.execute(f"CREATE VIEW ccc AS SELECT * FROM read_parquet('{ccc_glob}', hive_partitioning = true)")
    con.execute(f"CREATE VIEW duck AS SELECT * FROM read_parquet('{duck_glob}', hive_partitioning = true)")
    cols_ccc = [r[0] for r in con.execute("DESCRIBE ccc").fetchall()]
    cols_duck = [r[0] for r in con.execute("DESCRIBE duck").fetchall()]
    types_ccc = {r[0]: r[1] for r in con.execute("DESCRIBE ccc").fetchall()}
    types_duck = {r[0]: r[1] for r in con.execute("DESCRIBE duck").fetchall()}
    result: dict = {
        "ccc_rows": con.execute("SELECT count(*) FROM ccc").fetchone()[0],
        "duckdb_rows": con.execute("SELECT count(*) FROM duck").fetchone()[0],
        "columns_equal": cols_ccc == cols_duck,
        "type_differences": {c: [types_ccc.get(c), types_duck.get(c)]
                             for c in set(cols_ccc) | set(cols_duck) if types_ccc.get(c) != types_duck.get(c)},
    }
    if set(cols_ccc) != set(cols_duck):
        result["ok"] = False
        result["error"] = f"columns differ: ccc {cols_ccc} vs duckdb {cols_duck}"
        return result
    cols = ", ".join(f'"{c}"' for c in cols_duck)
    only_ccc = f"SELECT {cols} FROM ccc EXCEPT ALL SELECT {cols} FROM duck"
    only_duck = f"SELECT {cols} FROM duck EXCEPT ALL SELECT {cols} FROM ccc"
    result["only_in_ccc"] = con.execute(f"SELECT count(*) FROM ({only_ccc})").fetchone()[0]
    result["only_in_duckdb"] = con.execute(f"SELECT count(*) FROM ({only_duck})").fetchone()[0]
    result["ok"] = result["only_in_ccc"] == 0 and result["only_in_duckdb"] == 0
    if not result["ok"]:
        examples = con.execute(
            f"SELECT * FROM (SELECT 'ccc' AS side, * FROM ({only_ccc}) UNION ALL "
            f"SELECT 'duckdb' AS side, * FROM ({only_duck})) "
            f"WHERE order_id IN (SELECT order_id FROM (SELECT order_id FROM ({only_ccc}) UNION "
            f"SELECT order_id FROM ({only_duck})) ORDER BY order_id LIMIT {limit}) "
            f"ORDER BY order_id, side"
        )
        names = [d[0] for d in examples.description]
        result["examples"] = [{k: str(v) for k, v in zip(names, row)} for row in examples.fetchall()]
    return result


def file_digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*.parquet"))
    }


# --------------------------------------------------------------------------- report


def fmt_num(x, spec: str) -> str:
    return "-" if x is None else format(x, spec)


def print_table(rows: list[dict]) -> None:
    headers = ["size", "format", "messages", "ccc s", "duckdb s", "ccc/duckdb",
               "duckdb wall s", "ccc RSS MB", "duckdb RSS MB", "ccc-1 s", "speed-up", "ccc+checks s",
               "suite ccc s", "suite DuckDB s", "ratio", "others CPU"]
    lines = []
    for r in rows:
        lines.append([
            r["size"], r["format"], f"{r['messages']:,}",
            fmt_num(r["ccc_median_s"], ".3f"), fmt_num(r["duckdb_median_s"], ".3f"),
            fmt_num(r["ratio_ccc_duckdb"], ".2f"), fmt_num(r["duckdb_wall_median_s"], ".3f"),
            fmt_num(r["ccc_peak_rss_mb"], ".0f"), fmt_num(r["duckdb_peak_rss_mb"], ".0f"),
            fmt_num(r["ccc_1thread_median_s"], ".3f"), fmt_num(r["speedup"], ".2f"),
            fmt_num(r["ccc_checks_median_s"], ".3f"),
            fmt_num(r.get("suite_ccc_median_s"), ".3f"), fmt_num(r.get("suite_duckdb_median_s"), ".3f"),
            fmt_num(r.get("suite_ratio"), ".2f"), fmt_num(r["others_cpu_share_max"], ".0%"),
        ])
    widths = [max(len(h), *(len(l[i]) for l in lines)) if lines else len(h) for i, h in enumerate(headers)]
    print("  ".join(h.rjust(w) for h, w in zip(headers, widths)))
    print("  ".join("-" * w for w in widths))
    for l in lines:
        print("  ".join(c.rjust(w) for c, w in zip(l, widths)))


def report_problems(problems: list[str]) -> int:
    """Prints what went wrong, if anything; the exit code of the script."""
    if problems:
        print("\nPROBLEMS:")
        for pr in problems:
            print("  " + pr)
        return 1
    return 0


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="1m,10m", help="comma-separated message counts (1m, 10m, 200k, ...)")
    p.add_argument("--formats", default="parquet,ndjson", help="comma-separated: parquet, ndjson")
    p.add_argument("--repeat", type=int, default=3, help="runs of each measurement (median reported)")
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="threads for ccc and DuckDB")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--files", type=int, default=8, help="files per table")
    p.add_argument("--no-build", action="store_true", help="use target/release/ccc as it is")
    p.add_argument("--no-single-thread", action="store_true", help="skip the ccc --threads 1 runs")
    p.add_argument("--no-cross-check", action="store_true", help="skip comparing ccc's table with DuckDB's")
    p.add_argument("--no-checks-run", action="store_true",
                   help="skip timing `ccc run --checks enforce` (both suites; the run the brief's first bar names)")
    p.add_argument("--no-suite", action="store_true",
                   help="skip the source suite: `ccc validate --suite source` vs bench/duckdb_checks.py")
    p.add_argument("--suite-only", action="store_true",
                   help="measure the source suite alone (skip ccc run, the DuckDB job and their checks)")
    p.add_argument("--suite-ndjson-columns", choices=["json", "varchar"], default="json",
                   help="how bench/duckdb_checks.py reads NDJSON fields (json: exact types; varchar: TRY_CAST)")
    p.add_argument("--no-spill", action="store_true",
                   help="skip the run under a small --memory-limit (it spills and must give the same bytes)")
    p.add_argument("--no-suite-dirty", action="store_true",
                   help="skip comparing the suite's counts on generated dirty data")
    p.add_argument("--wait-idle", type=float, default=60.0, metavar="SECONDS",
                   help="before each measurement wait up to this long for the CPU to be idle (0: never)")
    p.add_argument("--retries", type=int, default=2,
                   help="measure a run again (at most this often) when other processes took over 10%% of the CPU")
    p.add_argument("--out", type=Path, default=RESULTS, help="results JSON (default bench/results.json)")
    args = p.parse_args(argv)

    sizes = [(size_label(s), parse_size(s)) for s in args.sizes.split(",") if s.strip()]
    formats = [f.strip().lower() for f in args.formats.split(",") if f.strip()]
    for f in formats:
        if f not in ("parquet", "ndjson"):
            p.error(f"unsupported format {f!r}")
    if args.repeat < 1:
        p.error("--repeat must be at least 1")
    if args.suite_only and args.no_suite:
        p.error("--suite-only and --no-suite exclude each other")
    table_runs = not args.suite_only

    import duckdb  # fail early, before building, when the venv is missing

    global IDLE_WAIT_S, RETRIES
    IDLE_WAIT_S = args.wait_idle
    RETRIES = max(0, args.retries)

    if not args.no_build:
        build()
    if not CCC.exists():
        raise SystemExit(f"{CCC} not found; build it or drop --no-build")
    ccc_version = subprocess.run([str(CCC), "--version"], capture_output=True, text=True).stdout.strip()

    started = dt.datetime.now(dt.timezone.utc)
    load_start = loadavg()
    log(f"{ccc_version}, duckdb {duckdb.__version__}, {os.cpu_count()} cores, "
        f"threads {args.threads}, load average {load_start}")
    if load_start and load_start[0] > 0.5 * (os.cpu_count() or 1):
        log("WARNING: the machine is busy (1-minute load above half the cores); timings will be noisy")

    results = []
    problems = []
    for label, messages_wanted in sizes:
        for fmt in formats:
            src, messages = generate(label, messages_wanted, fmt, args.seed, args.files)
            tag = f"{label}-{fmt}"
            out_ccc = OUT / f"ccc-{tag}-t{args.threads}"
            out_ccc1 = OUT / f"ccc-{tag}-t1"
            out_cccx = OUT / f"ccc-{tag}-checks"
            out_duck = OUT / f"duckdb-{tag}"
            samples: dict[str, list[dict]] = {"ccc": [], "ccc_1thread": [], "duckdb": [], "ccc_checks": [],
                                              "suite_ccc": [], "suite_duckdb": []}
            warm_page_cache(src)
            for i in range(args.repeat):
                log(f"[{tag}] run {i + 1}/{args.repeat} (load {loadavg()})")
                if table_runs:
                    samples["ccc"].append(undisturbed(run_ccc, src, out_ccc, args.threads, "off"))
                    samples["duckdb"].append(undisturbed(run_duckdb, src, out_duck, fmt, args.threads))
                    if not args.no_single_thread:
                        samples["ccc_1thread"].append(undisturbed(run_ccc, src, out_ccc1, 1, "off"))
                    if not args.no_checks_run:
                        samples["ccc_checks"].append(undisturbed(run_ccc, src, out_cccx, args.threads, "enforce"))
                if not args.no_suite:
                    samples["suite_ccc"].append(undisturbed(run_suite_ccc, src, args.threads))
                    samples["suite_duckdb"].append(undisturbed(run_suite_duckdb, src, fmt, args.threads,
                                                               args.suite_ndjson_columns))
                s = samples
                parts = []
                if s["ccc"]:
                    parts.append("ccc {:.3f}s {:.0f}MB | duckdb {:.3f}s (wall {:.3f}s) {:.0f}MB".format(
                        s["ccc"][-1]["wall_s"], s["ccc"][-1]["peak_rss_mb"],
                        s["duckdb"][-1]["query_s"], s["duckdb"][-1]["wall_s"], s["duckdb"][-1]["peak_rss_mb"]))
                if s["ccc_1thread"]:
                    parts.append(f"ccc-1 {s['ccc_1thread'][-1]['wall_s']:.3f}s")
                if s["ccc_checks"]:
                    parts.append(f"ccc+checks {s['ccc_checks'][-1]['wall_s']:.3f}s")
                if s["suite_ccc"]:
                    parts.append("suite: ccc {:.3f}s {:.0f}MB, duckdb {:.3f}s (wall {:.3f}s) {:.0f}MB".format(
                        s["suite_ccc"][-1]["wall_s"], s["suite_ccc"][-1]["peak_rss_mb"],
                        s["suite_duckdb"][-1]["query_s"], s["suite_duckdb"][-1]["wall_s"],
                        s["suite_duckdb"][-1]["peak_rss_mb"]))
                log("    " + " | ".join(parts))

            ccc_s = median([x["wall_s"] for x in samples["ccc"]])
            duck_s = median([x["query_s"] for x in samples["duckdb"]])
            ccc1_s = median([x["wall_s"] for x in samples["ccc_1thread"]])
            stages = list(dict.fromkeys(k for x in samples["ccc"] for k in x["timings_ms"]))  # report order
            row = {
                "size": label,
                "format": fmt,
                "messages": messages,
                "source_bytes": sum(f.stat().st_size for f in src.iterdir() if f.name != "_generated.json"),
                "ccc_median_s": ccc_s,
                "duckdb_median_s": duck_s,
                "duckdb_wall_median_s": median([x["wall_s"] for x in samples["duckdb"]]),
                "ratio_ccc_duckdb": ccc_s / duck_s if ccc_s and duck_s else None,
                "ccc_peak_rss_mb": median([x["peak_rss_mb"] for x in samples["ccc"]]),
                "duckdb_peak_rss_mb": median([x["peak_rss_mb"] for x in samples["duckdb"]]),
                "ccc_1thread_median_s": ccc1_s,
                "ccc_1thread_peak_rss_mb": median([x["peak_rss_mb"] for x in samples["ccc_1thread"]]),
                "speedup": ccc1_s / ccc_s if ccc1_s and ccc_s else None,
                "ccc_checks_median_s": median([x["wall_s"] for x in samples["ccc_checks"]]),
                "ccc_checks_peak_rss_mb": median([x["peak_rss_mb"] for x in samples["ccc_checks"]]),
                "ccc_checks_timings_median_ms": {
                    k: median([x["timings_ms"].get(k) for x in samples["ccc_checks"]]) for k in stages
                } if samples["ccc_checks"] else {},
                "ccc_timings_median_ms": {k: median([x["timings_ms"].get(k) for x in samples["ccc"]]) for k in stages},
                "ccc_1thread_timings_median_ms": {
                    k: median([x["timings_ms"].get(k) for x in samples["ccc_1thread"]]) for k in stages
                } if samples["ccc_1thread"] else {},
                "rows": samples["ccc"][-1]["rows"] if samples["ccc"] else None,
                "others_cpu_share_max": max(
                    (x["others_cpu_share"] for v in samples.values() for x in v if x.get("others_cpu_share") is not None),
                    default=None),
                "samples": samples,
            }
            if samples["ccc"] and not args.no_spill:
                # One run under a memory limit that holds a quarter of the per-order
                # states: it spills three quarters and must write the same bytes.
                orders = samples["ccc"][-1]["rows"]
                limit = orders * FIXED_BYTES_PER_ORDER + orders * STATE_BYTES_PER_ORDER // 4
                out_spill = OUT / f"ccc-{tag}-spill"
                spill = undisturbed(run_ccc, src, out_spill, args.threads, "off",
                                    ("--memory-limit", str(limit)))
                same = file_digest(ccc_parquet(out_spill)) == file_digest(ccc_parquet(out_ccc))
                row.update({
                    "spill_limit_bytes": limit,
                    "spill_s": spill["wall_s"],
                    "spill_peak_rss_mb": spill["peak_rss_mb"],
                    "spill": spill["memory"].get("spill"),
                    "spill_same_bytes": same,
                })
                log(f"    spilling under {limit} bytes: {spill['wall_s']:.3f}s {spill['peak_rss_mb']:.0f}MB, "
                    f"{spill['memory'].get('spill')}, same bytes: {same}")
                if not same:
                    problems.append(f"{tag}: the run that spilled wrote other bytes than the one that did not")
                rmtree(out_spill)
            if samples["ccc"] and samples["ccc"][-1]["rows"] != samples["duckdb"][-1]["rows"]:
                problems.append(f"{tag}: ccc wrote {samples['ccc'][-1]['rows']} rows, "
                                f"DuckDB {samples['duckdb'][-1]['rows']}")
            if samples["suite_ccc"]:
                suite_ccc_s = median([x["wall_s"] for x in samples["suite_ccc"]])
                suite_duck_s = median([x["query_s"] for x in samples["suite_duckdb"]])
                row.update({
                    "suite_ccc_median_s": suite_ccc_s,
                    "suite_duckdb_median_s": suite_duck_s,
                    "suite_duckdb_wall_median_s": median([x["wall_s"] for x in samples["suite_duckdb"]]),
                    "suite_ratio": suite_ccc_s / suite_duck_s if suite_ccc_s and suite_duck_s else None,
                    "suite_ccc_peak_rss_mb": median([x["peak_rss_mb"] for x in samples["suite_ccc"]]),
                    "suite_duckdb_peak_rss_mb": median([x["peak_rss_mb"] for x in samples["suite_duckdb"]]),
                    "suite_ccc_verdict": samples["suite_ccc"][-1]["verdict"],
                    "suite_duckdb_ndjson_columns": args.suite_ndjson_columns if fmt == "ndjson" else None,
                })
                if not args.no_cross_check:
                    log(f"[{tag}] cross-check: the source suite's counts, ccc vs DuckDB")
                    check = compare_suite_counts(ccc_suite_counts(src, args.threads),
                                                 samples["suite_duckdb"][-1]["counts"])
                    row["suite_cross_check"] = check
                    report_suite_check(tag, check, problems)
                for x in samples["suite_duckdb"]:
                    x.pop("counts", None)  # kept once, in the cross-check
            if table_runs and not args.no_cross_check:
                log(f"[{tag}] cross-check: ccc's table vs DuckDB's")
                check = cross_check(out_ccc, out_duck)
                row["cross_check"] = check
                if not check["ok"]:
                    problems.append(f"{tag}: ccc and DuckDB disagree: {json.dumps({k: v for k, v in check.items() if k != 'examples'})}")
                    log("!" * 78)
                    log(f"!! MISMATCH {tag}: {check.get('only_in_ccc')} rows only in ccc, "
                        f"{check.get('only_in_duckdb')} only in DuckDB {check.get('error', '')}")
                    for ex in check.get("examples", []):
                        log("!!   " + json.dumps(ex))
                    log("!" * 78)
                if check.get("type_differences"):
                    log(f"[{tag}] note: column types differ {check['type_differences']}")
                if samples["ccc_1thread"]:
                    same = file_digest(ccc_parquet(out_ccc)) == file_digest(ccc_parquet(out_ccc1))
                    row["ccc_1_vs_n_threads_identical"] = same
                    if not same:
                        problems.append(f"{tag}: ccc's Parquet files differ between --threads 1 and {args.threads}")
            results.append(row)

    suite_dirty = {}
    if not args.no_suite and not args.no_cross_check and not args.no_suite_dirty:
        for fmt in formats:
            tag = f"dirty-{fmt}"
            log(f"[{tag}] cross-check: the source suite's counts on dirty data "
                f"({DIRTY_ORDERS} orders, --dirty {DIRTY_FRACTION})")
            check = dirty_suite_check(fmt, args.seed, args.threads, args.suite_ndjson_columns)
            suite_dirty[fmt] = check
            report_suite_check(tag, check, problems)

    # time linear in size: seconds per message at the largest size vs the smallest, per format
    linearity = {}
    for fmt in formats:
        rs = sorted((r for r in results if r["format"] == fmt), key=lambda r: r["messages"])
        if len(rs) >= 2 and rs[0]["ccc_median_s"] and rs[-1]["ccc_median_s"]:
            small, big = rs[0], rs[-1]
            linearity[fmt] = {
                "from": small["size"], "to": big["size"],
                "size_ratio": big["messages"] / small["messages"],
                "ccc_time_ratio": big["ccc_median_s"] / small["ccc_median_s"],
                "ccc_per_message_ratio": (big["ccc_median_s"] / big["messages"])
                / (small["ccc_median_s"] / small["messages"]),
                "duckdb_time_ratio": big["duckdb_median_s"] / small["duckdb_median_s"],
            }

    bars = []
    for r in results:
        tag = f"{r['size']} {r['format']}"
        if r["ratio_ccc_duckdb"] is not None:
            bars.append((f"{tag}: ccc <= {TIME_BAR}x DuckDB time", r["ratio_ccc_duckdb"] <= TIME_BAR,
                         f"{r['ratio_ccc_duckdb']:.2f}x"))
        if r["ccc_checks_median_s"] is not None:
            ratio = r["ccc_checks_median_s"] / r["duckdb_median_s"]
            bars.append((f"{tag}: full ccc run (both suites) <= {TIME_BAR}x DuckDB time", ratio <= TIME_BAR,
                         f"{ratio:.2f}x"))
            bar = MEMORY_BARS_MB.get(r["size"])
            peak, duck = r["ccc_checks_peak_rss_mb"], r["duckdb_peak_rss_mb"]
            if bar is not None and peak is not None and duck is not None:
                name, value = bar
                limit = value * duck if value <= 1 else value
                bars.append((f"{tag}: full ccc run (both suites) peak RSS <= {name}", peak <= limit,
                             f"{peak:.0f} MB vs {limit:.0f} MB"))
        if r.get("spill_same_bytes") is not None:
            bars.append((f"{tag}: a run that spills writes the same bytes", r["spill_same_bytes"],
                         f"{r['spill']}"))
        if r["speedup"] is not None:
            bars.append((f"{tag}: speed-up 1->{args.threads} threads >= 1.7", r["speedup"] >= 1.7, f"{r['speedup']:.2f}x"))
        if r["ccc_peak_rss_mb"] is not None and r["duckdb_peak_rss_mb"] is not None:
            bars.append((f"{tag}: ccc peak RSS <= DuckDB", r["ccc_peak_rss_mb"] <= r["duckdb_peak_rss_mb"],
                         f"{r['ccc_peak_rss_mb']:.0f} vs {r['duckdb_peak_rss_mb']:.0f} MB"))
        if r.get("suite_ratio") is not None:
            bars.append((f"{tag}: source suite (ccc validate) <= 1/3 of DuckDB's time for the same checks",
                         r["suite_ratio"] <= SUITE_BAR, f"{r['suite_ratio']:.2f}x"))
    for fmt, lin in linearity.items():
        bars.append((f"{fmt}: time linear in size ({lin['from']}->{lin['to']}, per-message time within 1.25x)",
                     lin["ccc_per_message_ratio"] <= 1.25, f"{lin['ccc_per_message_ratio']:.2f}x"))

    load_end = loadavg()
    doc = {
        "date": started.isoformat(timespec="seconds"),
        "git_commit": read_only_git("rev-parse", "HEAD"),
        "git_dirty": bool(read_only_git("status", "--porcelain", "--untracked-files=no")),
        "ccc_version": ccc_version,
        "duckdb_version": duckdb.__version__,
        "python": platform.python_version(),
        "machine": {"cores": os.cpu_count(), "platform": platform.platform(),
                    "memory_mb": os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20},
        "load_average_start": load_start,
        "load_average_end": load_end,
        "settings": {"repeat": args.repeat, "threads": args.threads, "seed": args.seed, "files": args.files,
                     "wait_idle_s": args.wait_idle, "retries": args.retries, "disturbed_share": DISTURBED,
                     "rss_source": "gnu-time" if GNU_TIME.exists() else "wait4",
                     "suite": not args.no_suite, "suite_only": args.suite_only,
                     "suite_ndjson_columns": args.suite_ndjson_columns},
        "python_duckdb_baseline_rss_mb": python_duckdb_baseline(),
        "results": results,
        "linearity": linearity,
        "suite_dirty_cross_check": suite_dirty,
        "bars": [{"bar": b, "pass": ok, "value": v} for b, ok, v in bars],
        "problems": problems,
    }
    args.out.write_text(json.dumps(doc, indent=2) + "\n")

    print()
    print(f"ccc vs DuckDB {duckdb.__version__} - {os.cpu_count()} cores, {args.threads} threads, "
          f"median of {args.repeat}, load average {load_start} -> {load_end}")
    if table_runs:
        print("ccc s = wall time of `ccc run --checks off --format parquet`; duckdb s = its COPY query alone "
              "(duckdb wall s adds the Python start); RSS = peak resident set of the process;")
    if not args.no_suite:
        print("suite ccc s = wall time of `ccc validate --suite source --quiet`; suite DuckDB s = the SQL of "
              "bench/duckdb_checks.py alone (same 38 checks); ratio = suite ccc s / suite DuckDB s (bar <= 0.33)")
    print("others CPU = the most CPU other processes took during any measured run of that row "
          "(share of all cores; above ~5% the timings are disturbed)")
    print()
    print_table(results)
    for r in results:
        t = r["ccc_timings_median_ms"]
        if t:
            print(f"  ccc stages {r['size']} {r['format']} (ms, median, {args.threads} threads): "
                  + ", ".join(f"{k.removesuffix('_ms')} {v:.0f}" for k, v in t.items() if v is not None))
        t = r["ccc_checks_timings_median_ms"]
        if t:
            print(f"  ccc stages {r['size']} {r['format']} with --checks enforce (ms, median): "
                  + ", ".join(f"{k.removesuffix('_ms')} {v:.0f}" for k, v in t.items() if v is not None))
    for r in results:
        if r.get("suite_ccc_median_s") is not None:
            print(f"  source suite {r['size']} {r['format']}: peak RSS ccc {r['suite_ccc_peak_rss_mb']:.0f} MB, "
                  f"DuckDB {r['suite_duckdb_peak_rss_mb']:.0f} MB; DuckDB wall {r['suite_duckdb_wall_median_s']:.3f}s")
    for fmt, lin in linearity.items():
        print(f"  linearity {fmt}: {lin['size_ratio']:.1f}x messages -> ccc {lin['ccc_time_ratio']:.2f}x time "
              f"(per message {lin['ccc_per_message_ratio']:.2f}x), DuckDB {lin['duckdb_time_ratio']:.2f}x")
    print()
    for b, ok, v in bars:
        print(f"  {'PASS' if ok else 'FAIL'}  {b}: {v}")
    for r in results:
        c = r.get("cross_check")
        if c:
            print(f"  {'PASS' if c['ok'] else 'FAIL'}  {r['size']} {r['format']}: ccc's table equals DuckDB's "
                  f"({c['ccc_rows']} vs {c['duckdb_rows']} rows, {c.get('only_in_ccc')} only in ccc, "
                  f"{c.get('only_in_duckdb')} only in DuckDB)")
        c = r.get("suite_cross_check")
        if c:
            print(f"  {'PASS' if c['ok'] else 'FAIL'}  {r['size']} {r['format']}: source suite counts equal "
                  f"(ccc vs DuckDB, {c['expectations']} expectations, {len(c['mismatches'])} mismatches)")
        if "ccc_1_vs_n_threads_identical" in r:
            print(f"  {'PASS' if r['ccc_1_vs_n_threads_identical'] else 'FAIL'}  {r['size']} {r['format']}: "
                  f"ccc's files byte-identical with 1 and {args.threads} threads")
    for fmt, c in suite_dirty.items():
        print(f"  {'PASS' if c['ok'] else 'FAIL'}  dirty {fmt} ({c['data']}): source suite counts equal "
              f"(ccc vs DuckDB, {c['expectations']} expectations, {c['failed_expectations']} with unexpected "
              f"values, {c['unexpected_total_ccc']} unexpected in all, {len(c['mismatches'])} mismatches)")
    print(f"\nresults: {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    return report_problems(problems)


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except Failed as e:
        log(str(e))
        sys.exit(1)
