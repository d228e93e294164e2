"""The job: sources → ingest → source suite → transform → output suite → publish, as
`ccc run` does it, from parsed options to ccc's exit code."""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from ccc_spark import JOB_VERSION, checks, ingest, publish, reports, suites, transform
from ccc_spark import schema as s
from ccc_spark.discover import SourceFile, discover, local_path
from ccc_spark.errors import ChecksFailed, InputError, UsageError

METRICS = {
    "messages_read",
    "messages_aggregated",
    "messages_quarantined",
    "messages_orphaned",
    "orders_read",
    "conversations",
    "messages_in_table",
}


@dataclass
class Options:
    """What the user asked for, checked (ccc's `ccc run` options where they apply)."""

    source: str
    dest: str
    checks: str = "enforce"
    formats: list[str] = field(default_factory=lambda: ["parquet", "csv"])
    expectations: str | None = None
    stage: str | None = None
    reports: list[tuple[str, str]] = field(default_factory=list)
    quiet: bool = False


def parse_args(argv: list[str]) -> Options:
    parser = argparse.ArgumentParser(
        prog="application.py",
        description="customer_courier_conversations on Spark, with ccc's semantics, suites and layout",
    )
    parser.add_argument(
        "source", metavar="SOURCE", help="folder with customer_courier_chat_messages* and orders* files"
    )
    parser.add_argument("dest", metavar="DEST", help="output folder (replaced atomically)")
    parser.add_argument("--checks", choices=["enforce", "warn", "off"], default="enforce")
    parser.add_argument("--format", default="parquet,csv", help="output formats, comma-separated: parquet, csv")
    parser.add_argument("--expectations", metavar="DIR", help="folder with source.yaml and output.yaml")
    parser.add_argument(
        "--stage", metavar="DIR", help="build the output in DIR and publish nothing (`ccc publish` does)"
    )
    parser.add_argument("--report", action="append", default=[], choices=reports.FORMATS)
    parser.add_argument("--report-file", action="append", default=[], metavar="FILE")
    parser.add_argument("-q", "--quiet", action="store_true")
    try:
        a = parser.parse_args(argv)
    except SystemExit as e:
        raise UsageError("bad arguments (see --help)") from e
    formats = [f.strip() for f in a.format.split(",") if f.strip()]
    if not formats or any(f not in ("parquet", "csv") for f in formats):
        raise UsageError(f"--format: expected parquet, csv or both, not `{a.format}`")
    if len(a.report) != len(a.report_file):
        raise UsageError("each --report needs its --report-file")
    # Absolute: executors run in their own working folders.
    return Options(
        source=os.path.abspath(local_path(a.source)),
        dest=os.path.abspath(local_path(a.dest)),
        checks=a.checks,
        formats=formats,
        expectations=a.expectations,
        stage=a.stage and os.path.abspath(local_path(a.stage)),
        reports=list(zip(a.report, a.report_file, strict=False)),
        quiet=a.quiet,
    )


def _source_table(name: str, df: Any, files: list[SourceFile]) -> checks.Table:
    names = {f.index: f.name for f in files}

    def location(row: Any) -> dict[str, Any]:
        where: dict[str, Any] = {"file": names[row[s.FILE]], "record": row[s.RECORD]}
        if row[s.LINE] is not None:
            where["line"] = row[s.LINE]
        return where

    return checks.Table(
        name=name,
        df=df,
        columns=dict(s.SOURCE_COLUMNS[name]),
        with_problems=True,
        row_order=[F.col(s.FILE), F.col(s.RECORD)],
        location_columns=[F.col(s.FILE), F.col(s.RECORD), F.col(s.LINE)],
        location=location,
    )


def output_table(df: Any) -> checks.Table:
    """The conversations table as the output suite sees it (rows located by order_id)."""
    return checks.Table(
        name=s.CONVERSATIONS,
        df=df,
        columns={name: kind for name, kind, _ in s.OUTPUT_COLUMNS},
        with_problems=False,
        row_order=[F.col("conversation_date"), F.col("order_id")],
        location_columns=[F.col("order_id")],
        location=lambda row: {"key": f"order_id={row['order_id']}"},
    )


def _linker(result: dict[str, Any] | None) -> Callable[[str, str, str], list[str]]:
    failed = [] if result is None else [r for r in result["results"] if not r["success"]]

    def links(table: str, column: str, expectation: str) -> list[str]:
        return [
            r["id"]
            for r in failed
            if r["table"] == table and r["expectation"] == expectation and r.get("column") == column
        ]

    return links


def _write_reports(options: Options, results: list[dict[str, Any]]) -> None:
    for fmt, path in options.reports:
        try:
            with open(path, "w", encoding="utf-8") as f:
                f.write(reports.render(fmt, results))
        except OSError as e:
            raise InputError(f"cannot write report {path}: {e.strerror}") from e


def _say(options: Options, *lines: str) -> None:
    if not options.quiet:
        for line in lines:
            print(line, flush=True)


class Clock:
    def __init__(self) -> None:
        self.start = self.mark = time.monotonic()
        self.ms: dict[str, int] = {}

    def lap(self, name: str) -> None:
        now = time.monotonic()
        self.ms[f"{name}_ms"] = int((now - self.mark) * 1000)
        self.mark = now


def run(options: Options, spark: SparkSession) -> int:
    """The whole job; returns 0, or raises a `JobError` carrying ccc's exit code."""
    clock = Clock()
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    out = publish.resolve(options.dest)
    target = publish.resolve(options.stage) if options.stage else out
    if options.stage and (target == out or target.startswith(out + os.sep) or out.startswith(target + os.sep)):
        raise UsageError(f"the stage {target} and the output {out} must not be inside one another")
    entries = publish.STAGE_ENTRIES if options.stage else publish.OUTPUT_ENTRIES
    publish.check_replaceable(target, entries)
    source_suite = output_suite = None
    if options.checks != "off":
        source_suite = suites.load(options.expectations, "source")
        output_suite = suites.load(options.expectations, "output")
        source_types = {t: dict(cols) for t, cols in s.SOURCE_COLUMNS.items()}
        suites.bind(source_suite, source_suite.origin_source, source_types, None)
        output_types = {s.CONVERSATIONS: {n: k for n, k, _ in s.OUTPUT_COLUMNS}}
        suites.bind(output_suite, output_suite.origin_source, output_types, METRICS)
    files = discover(options.source)
    clock.lap("discover")

    frames = {t: ingest.read_table(spark, files, t) for t in s.SOURCE_TABLES}
    ingest.check_readable(frames)
    clock.lap("read")

    source_result = None
    if source_suite is not None:
        tables = {t: _source_table(t, frames[t], files) for t in s.SOURCE_TABLES}
        source_result = checks.run_suite(source_suite, tables)
        _say(options, *reports.human(source_result))
    clock.lap("source_checks")
    if source_result is not None and not source_result["success"] and options.checks == "enforce":
        _write_reports(options, [source_result])
        raise ChecksFailed("the source suite failed; nothing was published")

    built = transform.build(frames[s.MESSAGES], frames[s.ORDERS], _linker(source_result))
    clock.lap("transform")

    output_result = None
    if output_suite is not None:
        metrics = transform.output_metrics(built.counts)
        output_result = checks.run_suite(output_suite, {s.CONVERSATIONS: output_table(built.table)}, metrics)
        _say(options, *reports.human(output_result))
    clock.lap("output_checks")
    results = [r for r in (source_result, output_result) if r is not None]
    _write_reports(options, results)
    if output_result is not None and not output_result["success"] and options.checks == "enforce":
        raise ChecksFailed("the output suite failed; nothing was published")

    counts = built.counts
    run_report: dict[str, Any] = {
        "ccc_version": JOB_VERSION,
        "engine": {"name": "spark", "version": spark.version, "master": spark.sparkContext.master},
        "source": options.source,
        "out": out,
        "threads": spark.sparkContext.defaultParallelism,
        "checks": {"mode": options.checks, "source": source_result, "output": output_result},
        "files": [{"name": f.name, "table": f.table, "format": f.format, "bytes": f.size} for f in files],
        "messages": counts["messages"],
        "orders": counts["orders"],
        "conversations": counts["conversations"],
        "partitions": counts["partitions"],
        "reconciled": counts["reconciled"],
    }
    try:
        _publish(options, built, files, run_report, clock, target, entries)
    except OSError as e:
        where = e.filename or target
        raise InputError(f"cannot write {where}: {e.strerror or e}; nothing was published") from e
    m = counts["messages"]
    verb = "staged in" if options.stage else "published to"
    _say(
        options,
        f"{counts['conversations']} conversations from {m['read']} messages "
        f"({m['aggregated']} aggregated, {m['quarantined']} quarantined, {m['orphaned']} orphaned) {verb} {target}",
    )
    return 0


def _publish(
    options: Options,
    built: transform.Built,
    files: list[SourceFile],
    run_report: dict[str, Any],
    clock: Clock,
    target: str,
    entries: set[str],
) -> None:
    """Writes the output into a staging folder beside `target` and swaps it in."""
    with publish.staging(target, entries) as dir:
        publish.write_table(built.table, dir, options.formats)
        names = [f.name for f in files]
        for table in s.SOURCE_TABLES:
            publish.write_quarantine(built.quarantine[table], table, names, dir)
        clock.lap("publish")
        clock.ms["total_ms"] = int((time.monotonic() - clock.start) * 1000)
        run_report["timings"] = clock.ms
        publish.write_json(os.path.join(dir, "_run.json"), run_report)
        if options.stage:
            record = {"ccc_version": JOB_VERSION, "out": run_report["out"], "incremental": None, "engine": "spark"}
            publish.write_json(os.path.join(dir, "_stage.json"), record)
        publish.swap(dir, target)
