"""`ccc validate --table` with Great Expectations' column aggregates beside the same
figures in DuckDB SQL, on the same Parquet files.

    bench/.venv/bin/python bench/aggregates.py [--size 10m] [--repeat 3] [--threads 2] [--no-build]

Generates the messages (`ccc generate --format parquet`, cached under bench/data), binds
them as a table of a suite of aggregate expectations (`--table messages=FILE`: the path any
team's table takes, not the sources' reader), and times the whole `ccc validate` process
against one DuckDB query computing the same statistics over the same file (Python's start
and `import duckdb` not counted; the query and the fetch of its row are). Before timing,
every observed value ccc reports is compared with DuckDB's; a difference fails the run.

The bar (issue 16): ccc's median at most a third of DuckDB's.

Then the HTML report on the same file (`--report html`, which profiles every column:
nulls, exact distinct counts, histograms) beside DuckDB computing the exact distinct and
null counts of every column in one query, and the page's size.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CCC = ROOT / "target" / "release" / "ccc"
DATA = ROOT / "bench" / "data"
BAR = 1 / 3

# (id, expectation, column, extra parameters, DuckDB expression of the observed value)
CHECKS: list[tuple[str, str, str, str, str]] = [
    ("courier-min", "expect_column_min_to_be_between", "courierId", "min_value: 0", "min(courierId)"),
    ("courier-max", "expect_column_max_to_be_between", "courierId", "max_value: 10000000000", "max(courierId)"),
    ("customer-mean", "expect_column_mean_to_be_between", "customerId", "min_value: 0", "avg(customerId)"),
    ("customer-median", "expect_column_median_to_be_between", "customerId", "min_value: 0", "median(customerId)"),
    ("from-sum", "expect_column_sum_to_be_between", "fromId", "min_value: 0", "sum(fromId)"),
    ("to-stdev", "expect_column_stdev_to_be_between", "toId", "min_value: 0", "stddev_samp(toId)"),
    ("order-unique-count", "expect_column_unique_value_count_to_be_between", "orderId", "min_value: 1",
     "count(DISTINCT orderId)"),
    ("time-max", "expect_column_max_to_be_between", "messageSentTime", 'max_value: "2100-01-01T00:00:00Z"',
     "strftime(max(messageSentTime) AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S')"),
    ("order-quantiles", "expect_column_quantile_values_to_be_between", "orderId",
     "quantile_ranges: {quantiles: [0.25, 0.5, 0.75], value_ranges: [[0, null], [0, null], [0, null]]}",
     "quantile_disc(orderId, [0.25, 0.5, 0.75])"),
    ("sender-types", "expect_column_distinct_values_to_be_in_set", "senderAppType",
     'value_set: ["Customer iOS", "Customer Android", "Courier iOS", "Courier Android"]',
     "list_sort(list(DISTINCT senderAppType))"),
]


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def suite_text() -> str:
    lines = ["suite: aggregates", "tables:", "  messages:", "    expectations:"]
    for id_, expectation, column, extra, _ in CHECKS:
        lines.append(f"      - {{id: {id_}, expectation: {expectation}, column: {column}, {extra}}}")
    return "\n".join(lines) + "\n"


def data(size: int, seed: int) -> Path:
    folder = DATA / f"aggregates-{size}"
    marker = folder / "_generated.json"
    if not marker.exists():
        log(f"generating {size:,} messages as Parquet into {folder}")
        subprocess.run(
            [str(CCC), "generate", "--orders", str(size // 10), "--format", "parquet", "--files", "1",
             "--seed", str(seed), "--out", str(folder)],
            check=True, stdout=subprocess.DEVNULL,
        )
    return next(folder.glob("customer_courier_chat_messages*.parquet"))


def ccc_cmd(suite: Path, file: Path, threads: int, report: Path | None = None) -> list[str]:
    cmd = [str(CCC), "validate", "--suite", str(suite), "--table", f"messages={file}", "--quiet",
           "--threads", str(threads)]
    if report:
        cmd += ["--report", "json", "--report-file", str(report)]
    return cmd


def duckdb_query(file: Path) -> str:
    figures = ",\n  ".join(f"{expr} AS \"{id_}\"" for id_, _, _, _, expr in CHECKS)
    return f"SELECT\n  {figures}\nFROM read_parquet('{file}')"


def run_duckdb(file: Path, threads: int) -> tuple[float, dict]:
    import duckdb

    con = duckdb.connect()
    con.execute(f"SET threads = {threads}")
    con.execute("SET enable_progress_bar = false")
    started = time.perf_counter()
    cursor = con.execute(duckdb_query(file))
    row = cursor.fetchone()
    elapsed = time.perf_counter() - started
    names = [d[0] for d in cursor.description]
    return elapsed, dict(zip(names, row))


def html_report(suite: Path, file: Path, threads: int, repeat: int, tmp: Path) -> tuple[float, float, int]:
    """Medians of `ccc validate --report html` and of DuckDB's exact distinct and null
    counts of every column, and the page's size."""
    import duckdb

    page = tmp / "report.html"
    cmd = [*ccc_cmd(suite, file, threads), "--report", "html", "--report-file", str(page)]
    con = duckdb.connect()
    con.execute(f"SET threads = {threads}")
    con.execute("SET enable_progress_bar = false")
    columns = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet('{file}')").fetchall()]
    figures = ", ".join(f'count(DISTINCT "{c}"), count(*) - count("{c}")' for c in columns)
    query = f"SELECT {figures} FROM read_parquet('{file}')"
    ccc_times, duck_times = [], []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=False)
        ccc_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        con.execute(query).fetchall()
        duck_times.append(time.perf_counter() - started)
    return statistics.median(ccc_times), statistics.median(duck_times), page.stat().st_size


def same(ccc_value, duck_value) -> bool:
    if isinstance(ccc_value, dict):  # quantiles
        return [float(v) for v in ccc_value["values"]] == [float(v) for v in duck_value]
    if isinstance(ccc_value, list):
        return sorted(ccc_value) == sorted(duck_value)
    if isinstance(ccc_value, str):
        return ccc_value.rstrip("Z") == str(duck_value)
    return math.isclose(float(ccc_value), float(duck_value), rel_tol=1e-12, abs_tol=1e-9)


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--size", default="10m", help="messages: 1m, 10m, ... (default 10m)")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--no-build", action="store_true")
    args = p.parse_args(argv)
    size = int(float(args.size.lower().rstrip("m")) * 1_000_000)
    if not args.no_build:
        subprocess.run(["cargo", "build", "--release", "--locked", "-p", "ccc-cli"], cwd=ROOT, check=True)
    file = data(size, args.seed)
    with tempfile.TemporaryDirectory(prefix="ccc-aggregates-") as tmp:
        suite = Path(tmp) / "aggregates.yaml"
        suite.write_text(suite_text())
        report = Path(tmp) / "report.json"
        done = subprocess.run(ccc_cmd(suite, file, args.threads, report), capture_output=True, text=True)
        if done.returncode not in (0, 1):
            log(done.stderr)
            return 2
        observed = {r["id"]: r.get("observed_value") for r in json.loads(report.read_text())["results"]}
        _, duck = run_duckdb(file, args.threads)
        wrong = [f"{k}: ccc {observed[k]!r}, DuckDB {duck[k]!r}" for k in duck if not same(observed[k], duck[k])]
        if wrong:
            log("observed values differ:\n  " + "\n  ".join(wrong))
            return 1
        log(f"all {len(CHECKS)} observed values equal DuckDB's")
        ccc_times, duck_times = [], []
        for _ in range(args.repeat):  # interleaved, so drift hits both alike
            started = time.perf_counter()
            subprocess.run(ccc_cmd(suite, file, args.threads), capture_output=True, check=False)
            ccc_times.append(time.perf_counter() - started)
            duck_times.append(run_duckdb(file, args.threads)[0])
        html_s, profile_s, page_bytes = html_report(suite, file, args.threads, args.repeat, Path(tmp))
    print(json.dumps({"html_report": True, "messages": size, "ccc_html_median_s": round(html_s, 3),
                      "duckdb_distinct_nulls_median_s": round(profile_s, 3), "page_bytes": page_bytes}))
    log(f"--report html {html_s:.3f} s ({page_bytes:,} bytes), DuckDB exact distinct+nulls {profile_s:.3f} s")
    ccc_s, duck_s = statistics.median(ccc_times), statistics.median(duck_times)
    ratio = ccc_s / duck_s
    print(json.dumps({"messages": size, "checks": len(CHECKS), "threads": args.threads,
                      "ccc_median_s": round(ccc_s, 3), "duckdb_median_s": round(duck_s, 3),
                      "ratio": round(ratio, 3), "bar": round(BAR, 3), "ccc_s": ccc_times, "duckdb_s": duck_times}))
    log(f"ccc validate {ccc_s:.3f} s, DuckDB {duck_s:.3f} s: ratio {ratio:.2f} (bar {BAR:.2f})")
    return 0 if ratio <= BAR else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
