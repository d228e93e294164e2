"""`make bench`, second part: an incremental `ccc run` beside a full one.

The bars (issue 17, after issue 4's tenth): the last hourly slice folded into the state of the
first 99, checks enforced, at most 0.05x the full run's time at 10M messages and 0.03x at 50M;
the late scenario (every date touched) at most 0.3x; the incremental table byte-identical to
the full run's at every size.

Run from the repository root (the Makefile does, after bench/run.py):

    bench/.venv/bin/python bench/incremental.py [--size 10m] [--repeat 3] [--scenarios fresh,late]

How it measures:

  data      `ccc generate --orders N --seed 42 --files 100 --format parquet` (N = messages / 6.5)
            into bench/data/incr-<size>-<format>[-late], reused when its _generated.json matches.
            File k of each table holds the k-th of 100 time slices of the week, so file 100 is
            the last 1/100 of the week, an hourly load (0.8% of the messages: the week ends
            quietly; the table shows the exact count).
  layout    bench/data/out/incr-<size>-<format>-<scenario>/
              base/  links to files 1-99 of each table     all/  links to all 100 files
  prepare   `ccc run --incremental --state S0 --source base --out O0` builds the 99% state
            (untimed); S0 and O0 are never touched again.
  rounds    --repeat times, interleaved, for --checks enforce and then off:
              incremental  restore S, O from S0, O0 (`cp -a`, untimed), then time
                           `ccc run --incremental --state S --source all --out O --format parquet
                            --checks C --quiet --threads N`
              full         remove F (untimed), then time
                           `ccc run --source all --out F --format parquet --checks C --quiet --threads N`
  checks    the incremental table equals the full one byte for byte (every file under
            parquet/customer_courier_conversations/, by relative path and content) and
            _run.json's incremental.files_new names exactly the two new files; otherwise the
            script says so loudly and exits 1. A missed bar is printed, it does not fail.

Scenarios: `fresh` (--late 0) and `late` (--late 0.02: the last file also carries late messages
of earlier slices, so every date partition changes; the worst case).

Time is the wall time of the whole ccc process; peak RSS comes from GNU time or os.wait4; the
figures are medians. Before each measured run dirty pages are written out (sync, so no run
pays for the previous one's writes or for the restore's copy) and the script waits for an idle CPU; a run that
other processes disturbed is measured again. Those helpers are bench/run.py's. Results go to
stdout (a Markdown table) and bench/results-incremental.json. docs/performance.md explains
the first part.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as rb  # noqa: E402  bench/run.py: measure, wait_idle, undisturbed, run_ccc, ...

ROOT, DATA, CCC, TABLE = rb.ROOT, rb.DATA, rb.CCC, rb.TABLE
RESULTS = rb.BENCH / "results-incremental.json"
FILES = 100  # time slices: the increment (the last file of each table) is 1% of the week
BARS = {"fresh": 0.05, "late": 0.30}  # incremental time / full run's time, at most
BAR_FRESH_50M = 0.03  # the fresh bar from 50M messages on
SCENARIOS = {"fresh": 0.0, "late": 0.02}  # scenario -> the generator's --late
CHECK_MODES = ("enforce", "off")
MESSAGES = "customer_courier_chat_messages"

log, median, rmtree, Failed, fmt_num = rb.log, rb.median, rb.rmtree, rb.Failed, rb.fmt_num


# --------------------------------------------------------------------------- data and layout


def generate(label: str, messages: int, fmt: str, late: float, seed: int) -> tuple[Path, dict]:
    """The generated sources of one scenario, reused when _generated.json has the same options."""
    orders = max(1, round(messages / rb.MESSAGES_PER_ORDER))
    folder = DATA / (f"incr-{label}-{fmt}" + ("-late" if late else ""))
    return folder, rb.generated(folder, orders, fmt, seed, FILES, late)


def split_files(meta: dict) -> tuple[list[dict], list[dict]]:
    """(base, increment): the generated files without / with only the last file of each table."""
    base, increment = [], []
    for table in sorted({f["table"] for f in meta["files"]}):
        files = sorted((f for f in meta["files"] if f["table"] == table), key=lambda f: f["name"])
        base += files[:-1]
        increment.append(files[-1])
    return base, increment


def link(src: Path, dst: Path) -> str:
    """A hard link, or a symbolic link where hard links fail (another file system)."""
    try:
        os.link(src, dst)
        return "hard"
    except OSError:
        os.symlink(src.resolve(), dst)
        return "symbolic"


def link_folder(folder: Path, src: Path, files: list[dict]) -> str:
    rmtree(folder)
    folder.mkdir(parents=True)
    kinds = {link(src / f["name"], folder / f["name"]) for f in files}
    return "+".join(sorted(kinds))


def messages_in(files: list[dict]) -> int:
    return sum(f["records"] for f in files if f["table"] == MESSAGES)


# --------------------------------------------------------------------------- ccc runs


def ccc_run_cmd(src: Path, out: Path, checks: str, threads: int, state: Path | None = None) -> list[str]:
    incremental = ["--incremental", "--state", str(state)] if state is not None else []
    return [str(CCC), "run", *incremental, "--source", str(src), "--out", str(out), "--format", "parquet",
            "--checks", checks, "--quiet", "--threads", str(threads)]


def read_report(out: Path) -> dict:
    return json.loads((out / "_run.json").read_text())


def prepare(base: Path, state0: Path, out0: Path, checks: str, threads: int) -> dict:
    """The 99% state: an incremental run on an empty state folder over base/ (untimed)."""
    rmtree(state0)
    rmtree(out0)
    cmd = ccc_run_cmd(base, out0, checks, threads, state=state0)
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise Failed(f"preparing the state failed (exit {proc.returncode}): {' '.join(cmd)}\n"
                     f"--- stdout\n{proc.stdout[-2000:]}\n--- stderr\n{proc.stderr[-4000:]}")
    report = read_report(out0)
    log(f"  prepared {state0.name}/{out0.name} from base/ in {time.perf_counter() - t:.1f}s "
        f"({report.get('conversations')} conversations, incremental {summary_of(report)})")
    return report


def restore(state0: Path, out0: Path, state: Path, out: Path) -> None:
    """S, O := copies of S0, O0 (cp -a keeps hard links between files), written to disk."""
    for copy, pristine in ((state, state0), (out, out0)):
        rmtree(copy)
        subprocess.run(["cp", "-a", str(pristine), str(copy)], check=True)
    os.sync()


def measured(cmd: list[str], out: Path) -> dict:
    """One timed ccc run (after the idle wait), with what its _run.json says."""
    idle = rb.wait_idle(rb.IDLE_WAIT_S) if rb.IDLE_WAIT_S > 0 else None
    r = rb.measure(cmd)
    del r["stdout"]
    report = read_report(out)
    r["busy_before"] = idle
    r["timings_ms"] = report.get("timings", {})
    r["rows"] = report.get("conversations")
    r["partitions_total"] = count_partitions(out)
    r["parts_total"] = count_parts(out)
    r["incremental"] = report.get("incremental")
    return r


def run_incremental(state0: Path, out0: Path, state: Path, out: Path, src: Path, checks: str,
                    threads: int) -> dict:
    restore(state0, out0, state, out)
    return measured(ccc_run_cmd(src, out, checks, threads, state=state), out)


def run_full(src: Path, out: Path, checks: str, threads: int) -> dict:
    rmtree(out)
    os.sync()
    return measured(ccc_run_cmd(src, out, checks, threads), out)


# --------------------------------------------------------------------------- checks of the result


def table_files(out: Path) -> dict[str, str]:
    """sha256 of every file of the published Parquet table, by path relative to the table."""
    folder = rb.ccc_parquet(out)
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def count_partitions(out: Path) -> int:
    folder = rb.ccc_parquet(out)
    return sum(1 for p in folder.glob("conversation_date=*") if p.is_dir()) if folder.exists() else 0


def count_parts(out: Path) -> int:
    folder = rb.ccc_parquet(out)
    return sum(1 for _ in folder.glob("conversation_date=*/*.parquet")) if folder.exists() else 0


def bar_of(scenario: str, messages: int) -> float:
    """The issue's bar for a scenario at a size: the fresh one tightens from 50M messages."""
    if scenario == "fresh" and messages >= 49_000_000:
        return BAR_FRESH_50M
    return BARS[scenario]


def compare_tables(incremental_out: Path, full_out: Path) -> dict:
    a, b = table_files(incremental_out), table_files(full_out)
    check = {
        "files": len(b),
        "only_in_incremental": sorted(set(a) - set(b)),
        "only_in_full": sorted(set(b) - set(a)),
        "differing": sorted(k for k in set(a) & set(b) if a[k] != b[k]),
    }
    check["ok"] = bool(b) and not (check["only_in_incremental"] or check["only_in_full"] or check["differing"])
    return check


def names_of(listed) -> list[str] | None:
    """File names from the report's list (names, paths or {"name"/"path": ...} objects)."""
    if not isinstance(listed, list):
        return None
    names = []
    for x in listed:
        if isinstance(x, dict):
            x = x.get("name") or x.get("path") or x.get("file")
        names.append(Path(str(x)).name)
    return names


def check_files_new(report: dict, increment: list[dict]) -> dict:
    """_run.json's incremental.files_new must be exactly the increment's files."""
    want = sorted(f["name"] for f in increment)
    listed = (report.get("incremental") or {}).get("files_new")
    names = names_of(listed)
    if names is not None:
        return {"ok": sorted(names) == want, "expected": want, "files_new": names}
    # a count instead of a list: the most that can be checked is the number
    return {"ok": listed == len(want), "expected": want, "files_new": listed}


def count_of(x) -> int | None:
    """A report field that is a number, a list of things or an object with a "messages" count."""
    if isinstance(x, dict):
        x = x.get("messages")
    if isinstance(x, list):
        return len(x)
    return x if isinstance(x, int) else None


def summary_of(report: dict) -> str:
    """The incremental report in a line: files new, partitions rewritten, late and waiting messages."""
    inc = report.get("incremental") or {}
    keys = ("files_new", "partitions_rewritten", "partitions_kept", "parts_rewritten", "parts_kept", "late",
            "waiting")
    return ", ".join(f"{k} {count_of(inc[k])}" for k in keys if k in inc) or "-"


def shout(lines: list[str]) -> None:
    log("!" * 78)
    for line in lines:
        log("!! " + line)
    log("!" * 78)


# --------------------------------------------------------------------------- one scenario


def bench_scenario(name: str, label: str, messages: int, args) -> dict:
    """Generate, lay out, prepare, measure --repeat rounds and check one scenario."""
    src, meta = generate(label, messages, args.format, SCENARIOS[name], args.seed)
    base_files, increment = split_files(meta)
    work = DATA / "out" / f"incr-{label}-{args.format}-{name}"
    base, all_ = work / "base", work / "all"
    link_kind = link_folder(base, src, base_files)
    link_folder(all_, src, base_files + increment)
    log(f"[{name}] {len(base_files)} base files, increment {[f['name'] for f in increment]} ({link_kind} links)")
    rb.warm_page_cache(src)

    state0, out0 = work / "S0", work / "O0"
    prepared = prepare(base, state0, out0, args.prepare_checks, args.threads)
    dirs = {c: {"state": work / f"S-{c}", "incr": work / f"O-{c}", "full": work / f"F-{c}"} for c in CHECK_MODES}
    samples = {c: {"incremental": [], "full": []} for c in CHECK_MODES}
    for i in range(args.repeat):
        log(f"[{name}] round {i + 1}/{args.repeat} (load {rb.loadavg()})")
        for c in CHECK_MODES:
            d = dirs[c]
            inc = rb.undisturbed(run_incremental, state0, out0, d["state"], d["incr"], all_, c, args.threads)
            full = rb.undisturbed(run_full, all_, d["full"], c, args.threads)
            samples[c]["incremental"].append(inc)
            samples[c]["full"].append(full)
            log(f"    checks {c}: incremental {inc['wall_s']:.3f}s {inc['peak_rss_mb']:.0f}MB | "
                f"full {full['wall_s']:.3f}s {full['peak_rss_mb']:.0f}MB | "
                f"ratio {inc['wall_s'] / full['wall_s']:.3f} | {summary_of({'incremental': inc['incremental']})}")

    rows, problems = [], []
    for c in CHECK_MODES:
        d = dirs[c]
        same = compare_tables(d["incr"], d["full"])
        files_new = check_files_new(read_report(d["incr"]), increment)
        rows.append(summarise(name, c, samples[c], same, files_new, base_files, increment))
        tag = f"{label} {name}, checks {c}"
        if not same["ok"]:
            problems.append(f"{tag}: the incremental table differs from the full run's: "
                            f"{json.dumps({k: v[:10] if isinstance(v, list) else v for k, v in same.items()})}")
            shout([f"MISMATCH {tag}: incremental output is not byte-identical to the full run's",
                   f"{len(same['differing'])} files differ, {len(same['only_in_incremental'])} only in the "
                   f"incremental output, {len(same['only_in_full'])} only in the full one (of {same['files']})",
                   *[f"  differs: {p}" for p in same["differing"][:10]],
                   *[f"  only incremental: {p}" for p in same["only_in_incremental"][:10]],
                   *[f"  only full: {p}" for p in same["only_in_full"][:10]]])
        if not files_new["ok"]:
            problems.append(f"{tag}: incremental.files_new is {files_new['files_new']}, "
                            f"expected {files_new['expected']}")
            shout([f"FILES_NEW {tag}: _run.json lists {files_new['files_new']}, expected {files_new['expected']}"])
    return {
        "scenario": name, "late": SCENARIOS[name], "data": str(src.relative_to(ROOT)), "links": link_kind,
        "increment_files": [f["name"] for f in increment],
        "prepare": {"conversations": prepared.get("conversations"), "timings_ms": prepared.get("timings"),
                    "incremental": summary_of(prepared)},
        "rows": rows, "problems": problems,
    }


def summarise(scenario: str, checks: str, s: dict, same: dict, files_new: dict,
              base_files: list[dict], increment: list[dict]) -> dict:
    inc_s = median([x["wall_s"] for x in s["incremental"]])
    full_s = median([x["wall_s"] for x in s["full"]])
    ratio = inc_s / full_s if inc_s and full_s else None
    last = s["incremental"][-1]
    stages = list(dict.fromkeys(k for x in s["incremental"] + s["full"] for k in x["timings_ms"]))
    return {
        "scenario": scenario,
        "checks": checks,
        "messages_in_state": messages_in(base_files),
        "messages_added": messages_in(increment),
        "messages_added_share": messages_in(increment) / max(1, messages_in(base_files)),
        "incremental_median_s": inc_s,
        "full_median_s": full_s,
        "ratio": ratio,
        "bar_ratio": bar_of(scenario, messages_in(base_files) + messages_in(increment)),
        "bar": ratio is not None and ratio <= bar_of(scenario, messages_in(base_files) + messages_in(increment)),
        "partitions_rewritten": count_of((last["incremental"] or {}).get("partitions_rewritten")),
        "partitions_total": last["partitions_total"],
        "parts_rewritten": (last["incremental"] or {}).get("parts_rewritten"),
        "parts_total": last.get("parts_total"),
        "incremental_report": last["incremental"],
        "incremental_peak_rss_mb": median([x["peak_rss_mb"] for x in s["incremental"]]),
        "full_peak_rss_mb": median([x["peak_rss_mb"] for x in s["full"]]),
        "incremental_timings_median_ms": {k: median([x["timings_ms"].get(k) for x in s["incremental"]])
                                          for k in stages},
        "full_timings_median_ms": {k: median([x["timings_ms"].get(k) for x in s["full"]]) for k in stages},
        "others_cpu_share_max": max((x["others_cpu_share"] for v in s.values() for x in v
                                     if x.get("others_cpu_share") is not None), default=None),
        "rows": last["rows"],
        "tables_identical": same,
        "files_new_check": files_new,
        "samples": s,
    }


# --------------------------------------------------------------------------- report


def yes_no(x: bool | None) -> str:
    return "–" if x is None else ("**yes**" if x else "no")


def print_markdown(size: str, rows: list[dict]) -> None:
    print("| size | scenario | checks | messages in state | messages added | incremental s | full s | ratio "
          "| bar | dates rewritten / total | parts rewritten / total | incremental peak RSS MB "
          "| full peak RSS MB | others CPU |")
    print("|---|---|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {size} | {r['scenario']} | {r['checks']} | {r['messages_in_state']:,} "
              f"| {r['messages_added']:,} ({r['messages_added_share']:.2%}) "
              f"| {fmt_num(r['incremental_median_s'], '.3f')} | {fmt_num(r['full_median_s'], '.3f')} "
              f"| {fmt_num(r['ratio'], '.3f')} | ≤ {r['bar_ratio']:.2f}: {yes_no(r['bar'])} "
              f"| {fmt_num(r['partitions_rewritten'], 'd')} / {r['partitions_total']} "
              f"| {fmt_num(r['parts_rewritten'], 'd')} / {r['parts_total']} "
              f"| {fmt_num(r['incremental_peak_rss_mb'], ',.0f')} | {fmt_num(r['full_peak_rss_mb'], ',.0f')} "
              f"| {fmt_num(r['others_cpu_share_max'], '.0%')} |")


def print_stages(rows: list[dict]) -> None:
    for r in rows:
        for kind in ("incremental", "full"):
            t = r[f"{kind}_timings_median_ms"]
            if t:
                print(f"  stages, {r['scenario']} checks {r['checks']}, {kind} (ms, median): "
                      + ", ".join(f"{k.removesuffix('_ms')} {v:.0f}" for k, v in t.items() if v is not None))
        print(f"  incremental report, {r['scenario']} checks {r['checks']}: "
              f"{summary_of({'incremental': r['incremental_report']})}")


def git_commit() -> str | None:
    """HEAD's commit, read from .git without running git."""
    try:
        head = (ROOT / ".git" / "HEAD").read_text().strip()
        if not head.startswith("ref: "):
            return head
        ref = head[5:]
        loose = ROOT / ".git" / ref
        if loose.exists():
            return loose.read_text().strip()
        for line in (ROOT / ".git" / "packed-refs").read_text().splitlines():
            if line.endswith(" " + ref):
                return line.split()[0]
    except OSError:
        pass
    return None


def ensure_incremental_cli() -> None:
    help_text = subprocess.run([str(CCC), "run", "--help"], capture_output=True, text=True).stdout
    if "--incremental" not in help_text:
        raise Failed(f"{CCC.relative_to(ROOT)} has no `run --incremental` yet; build a version that does")


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--size", default="10m", help="messages in all: 200k, 1m, 10m, ... (default 10m)")
    p.add_argument("--repeat", type=int, default=3, help="rounds (median reported)")
    p.add_argument("--scenarios", default="fresh,late", help=f"comma-separated: {', '.join(SCENARIOS)}")
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="threads for ccc")
    p.add_argument("--format", default="parquet", choices=["parquet", "ndjson"], help="source format")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--prepare-checks", default="enforce", choices=["enforce", "warn", "off"],
                   help="--checks of the untimed run that builds the 99%% state")
    p.add_argument("--no-build", action="store_true", help="use target/release/ccc as it is")
    p.add_argument("--wait-idle", type=float, default=60.0, metavar="SECONDS",
                   help="before each measurement wait up to this long for the CPU to be idle (0: never)")
    p.add_argument("--retries", type=int, default=2,
                   help="measure a run again (at most this often) when other processes took over 10%% of the CPU")
    p.add_argument("--out", type=Path, default=RESULTS, help="results JSON (default bench/results-incremental.json)")
    args = p.parse_args(argv)

    label, messages = rb.size_label(args.size), rb.parse_size(args.size)
    scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    for s in scenarios:
        if s not in SCENARIOS:
            p.error(f"unknown scenario {s!r} (known: {', '.join(SCENARIOS)})")
    if args.repeat < 1:
        p.error("--repeat must be at least 1")
    rb.IDLE_WAIT_S, rb.RETRIES = args.wait_idle, max(0, args.retries)

    if not args.no_build:
        rb.build()
    if not CCC.exists():
        raise SystemExit(f"{CCC} not found; build it or drop --no-build")
    ensure_incremental_cli()
    ccc_version = subprocess.run([str(CCC), "--version"], capture_output=True, text=True).stdout.strip()
    started, load_start = dt.datetime.now(dt.timezone.utc), rb.loadavg()
    log(f"{ccc_version}, {os.cpu_count()} cores, threads {args.threads}, load average {load_start}")

    results = [bench_scenario(name, label, messages, args) for name in scenarios]
    rows = [r for res in results for r in res["rows"]]
    problems = [pr for res in results for pr in res["problems"]]
    load_end = rb.loadavg()

    doc = {
        "date": started.isoformat(timespec="seconds"),
        "git_commit": git_commit(),
        "ccc_version": ccc_version,
        "python": platform.python_version(),
        "machine": {"cores": os.cpu_count(), "platform": platform.platform(),
                    "memory_mb": os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20},
        "load_average_start": load_start,
        "load_average_end": load_end,
        "settings": {"size": label, "messages_wanted": messages, "format": args.format, "files": FILES,
                     "repeat": args.repeat, "threads": args.threads, "seed": args.seed,
                     "prepare_checks": args.prepare_checks, "wait_idle_s": args.wait_idle,
                     "retries": args.retries, "disturbed_share": rb.DISTURBED,
                     "rss_source": "gnu-time" if rb.GNU_TIME.exists() else "wait4", "bars": BARS,
                     "bar_fresh_50m": BAR_FRESH_50M},
        "scenarios": results,
        "problems": problems,
    }
    args.out.write_text(json.dumps(doc, indent=2) + "\n")

    print()
    print(f"Incremental `ccc run` beside a full run - {label} messages, {args.format} sources in {FILES} files, "
          f"{os.cpu_count()} cores, {args.threads} threads, median of {args.repeat}, load average "
          f"{load_start} -> {load_end}")
    print("incremental s / full s = wall time of the ccc process; ratio = incremental / full "
          f"(bars: fresh <= {BARS['fresh']:.2f}, <= {BAR_FRESH_50M:.2f} from 50M; late <= {BARS['late']:.2f}); "
          "RSS = peak resident set of the process")
    print()
    print_markdown(label, rows)
    print()
    print_stages(rows)
    print()
    for r in rows:
        t, f = r["tables_identical"], r["files_new_check"]
        print(f"  {'PASS' if t['ok'] else 'FAIL'}  {r['scenario']} checks {r['checks']}: incremental table "
              f"byte-identical to the full run's ({t['files']} files)")
        print(f"  {'PASS' if f['ok'] else 'FAIL'}  {r['scenario']} checks {r['checks']}: incremental.files_new "
              f"is {f['files_new']}")
        if r["checks"] == "enforce":
            print(f"  {'PASS' if r['bar'] else 'FAIL'}  {r['scenario']} checks {r['checks']}: incremental "
                  f"<= {r['bar_ratio']:.2f} x full ({fmt_num(r['ratio'], '.3f')})")
    print(f"\nresults: {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    return rb.report_problems(problems)


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except Failed as e:
        log(str(e))
        sys.exit(1)
