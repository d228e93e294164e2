"""`make bench`, Spark part: the Spark job (local[N], the seed's engine) beside ccc and
DuckDB on the same generated files, for the record — there is no bar for Spark.

    bench/.venv/bin/python bench/spark.py [--size 1m] [--formats parquet,ndjson] [--repeat 1]

For every format it times, `--repeat` times each, interleaved:

  ccc+checks  `ccc run --checks enforce` (both suites), N threads, Parquet out
  duckdb      bench/duckdb_job.py: the transform alone in DuckDB SQL, N threads
  spark       `spark-submit --master local[N] deploy/spark/application.py SRC OUT
               --checks enforce --format parquet` with deploy/spark/.venv's PySpark

and reports medians (wall seconds, peak RSS of the process tree) and each engine's
time as a multiple of ccc's. It then checks that Spark's table equals
ccc's: the same partition files holding the same rows (DuckDB, EXCEPT ALL both ways). Results go to stdout and bench/results-spark.json;
docs/performance.md quotes them. Run `make spark-venv` first (make bench does).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as bench  # noqa: E402

SPARK_DIR = bench.ROOT / "deploy" / "spark"
SPARK_PY = SPARK_DIR / ".venv" / "bin" / "python"
SPARK_SUBMIT = SPARK_DIR / ".venv" / "bin" / "spark-submit"
RESULTS = bench.BENCH / "results-spark.json"


def run_spark(src: Path, out: Path, threads: int, memory: str) -> dict:
    bench.rmtree(out)
    bench.warm_page_cache(src)
    cmd = [
        str(SPARK_SUBMIT),
        "--master",
        f"local[{threads}]",
        "--driver-memory",
        memory,
        "--conf",
        f"spark.pyspark.python={SPARK_PY}",
        str(SPARK_DIR / "application.py"),
        str(src),
        str(out),
        "--checks",
        "enforce",
        "--format",
        "parquet",
        "-q",
    ]
    os.environ["PYSPARK_PYTHON"] = str(SPARK_PY)
    r = bench.measure(cmd)
    report = json.loads((out / "_run.json").read_text())
    r["timings_ms"] = report["timings"]
    r["rows"] = report["conversations"]
    del r["stdout"]
    return r


def same_table(ccc_out: Path, spark_out: Path) -> bool:
    """The same partition files, and the same rows in them (EXCEPT ALL both ways in DuckDB;
    the Parquet bytes differ, as two writers' do)."""
    names = sorted(p.relative_to(ccc_out) for p in ccc_out.rglob("*.parquet"))
    if names != sorted(p.relative_to(spark_out) for p in spark_out.rglob("*.parquet")):
        return False
    check = bench.cross_check(ccc_out, bench.ccc_parquet(spark_out))
    return bool(check["ok"]) and not check["type_differences"]


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--size", default="1m", help="messages (1m, 200k, ...)")
    p.add_argument("--formats", default="parquet,ndjson")
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    p.add_argument("--files", type=int, default=8)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--driver-memory", default="4g")
    p.add_argument("--no-build", action="store_true")
    p.add_argument("--out", type=Path, default=RESULTS)
    a = p.parse_args(argv)
    if not SPARK_SUBMIT.exists():
        bench.log("no deploy/spark/.venv: run `make spark-venv` first")
        return 2
    if not a.no_build:
        bench.build()
    rows = []
    problems = []
    for fmt in a.formats.split(","):
        src, messages = bench.generate(bench.size_label(a.size), bench.parse_size(a.size), fmt, a.seed, a.files)
        outs = {e: bench.DATA / f"out-spark-bench-{e}" for e in ("ccc+checks", "duckdb", "spark")}
        runs: dict[str, list[dict]] = {e: [] for e in outs}
        for i in range(a.repeat):
            bench.log(f"{a.size} {fmt}: round {i + 1}/{a.repeat}")
            runs["ccc+checks"].append(bench.run_ccc(src, outs["ccc+checks"], a.threads, "enforce"))
            runs["duckdb"].append(bench.run_duckdb(src, outs["duckdb"], fmt, a.threads))
            runs["spark"].append(run_spark(src, outs["spark"], a.threads, a.driver_memory))
        medians = {e: statistics.median(r["wall_s"] for r in rs) for e, rs in runs.items()}
        rss = {e: statistics.median(r["peak_rss_mb"] for r in rs) for e, rs in runs.items()}
        identical = same_table(outs["ccc+checks"], outs["spark"])
        if not identical:
            problems.append(f"{fmt}: Spark's table differs from ccc's")
        for engine in outs:
            rows.append(
                {
                    "size": a.size,
                    "format": fmt,
                    "messages": messages,
                    "engine": engine,
                    "median_s": medians[engine],
                    "x_ccc": medians[engine] / medians["ccc+checks"],
                    "peak_rss_mb": rss[engine],
                    "runs": runs[engine],
                }
            )
        rows[-1]["identical_to_ccc"] = identical
        for engine in outs:
            bench.rmtree(outs[engine])
    print(f"{'size':>5} {'format':8} {'engine':12} {'median s':>9} {'× ccc':>8} {'peak MiB':>9}")
    for r in rows:
        print(
            f"{r['size']:>5} {r['format']:8} {r['engine']:12} {r['median_s']:9.2f} {r['x_ccc']:8.1f} {r['peak_rss_mb']:9.0f}"
        )
    a.out.write_text(json.dumps({"threads": a.threads, "rows": rows, "problems": problems}, indent=2) + "\n")
    for problem in problems:
        bench.log(f"PROBLEM: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
