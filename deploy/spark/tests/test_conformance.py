"""ccc and the Spark job on the same generated sources give the same output: the same
table row for row and type for type, the same CSV and quarantine text, the same run
counts and the same suite results, expectation by expectation."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import assert_same_output, assert_same_suite, ccc, generate, manifest, run_job, tree

CASES = [
    # (id, generator options, --checks)
    ("parquet-clean-3-files", {"format": "parquet", "orders": 120, "seed": 11, "files": 3}, "enforce"),
    ("json-clean-late", {"format": "json", "orders": 120, "seed": 12, "late": 0.2}, "enforce"),
    ("ndjson-dirty", {"format": "ndjson", "orders": 150, "seed": 13, "dirty": 0.05, "files": 2}, "warn"),
    ("csv-dirty-late", {"format": "csv", "orders": 150, "seed": 14, "dirty": 0.05, "late": 0.1, "files": 2}, "warn"),
    ("json-dirty", {"format": "json", "orders": 100, "seed": 15, "dirty": 0.08}, "warn"),
    ("parquet-dirty-late", {"format": "parquet", "orders": 150, "seed": 16, "dirty": 0.05, "late": 0.1}, "warn"),
    ("ndjson-checks-off", {"format": "ndjson", "orders": 80, "seed": 17, "dirty": 0.05}, "off"),
]


@pytest.mark.parametrize("options,checks", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_same_output_as_ccc(spark: Any, tmp_path: Path, options: dict[str, Any], checks: str) -> None:
    source = generate(tmp_path / "source", **options)
    want, got = tmp_path / "ccc", tmp_path / "spark"
    done = ccc("run", "--quiet", "--source", str(source), "--out", str(want), "--checks", checks)
    assert done.code == 0, done.stderr
    assert run_job(spark, str(source), str(got), "--checks", checks, "-q").code == 0
    assert_same_output(want, got)
    assert not [n for n in tree(got) if n.endswith(("_SUCCESS", ".crc"))]


def test_the_cases_hold_every_dirty_kind_and_late_records(tmp_path: Path) -> None:
    """The generated cases above (deterministic by seed) inject every kind of bad value
    the generator knows, into every column, and late messages and orders."""
    kinds: set[str] = set()
    columns: set[str] = set()
    late = {"messages": 0, "orders": 0}
    for name, options, _ in CASES:
        injected = manifest(generate(tmp_path / name, **options))
        for column, counts in injected["fields"].items():
            columns.add(column)
            kinds.update(counts)
        late["messages"] += injected["late_messages"]
        late["orders"] += injected["late_orders"]
    assert kinds == {"null", "empty", "wrong_type", "unknown_value", "bad_timestamp"}
    assert len(columns) == 11, sorted(columns)
    assert late["messages"] > 0 and late["orders"] > 0


def test_every_format_in_one_folder(spark: Any, tmp_path: Path) -> None:
    """Messages and orders in all four formats at once, from two seeds whose order ids
    overlap with different cities: conflicts resolved to the smallest city, the same way."""
    source = tmp_path / "source"
    source.mkdir()
    for fmt, seed in (("json", 21), ("ndjson", 22), ("csv", 21), ("parquet", 22)):
        part = generate(tmp_path / fmt, format=fmt, orders=60, seed=seed, dirty=0.03)
        for file in part.iterdir():
            shutil.move(str(file), source / f"{file.stem}_{fmt}{file.suffix}")
    want, got = tmp_path / "ccc", tmp_path / "spark"
    assert ccc("run", "-q", "--source", str(source), "--out", str(want), "--checks", "warn").code == 0
    assert run_job(spark, str(source), str(got), "--checks", "warn", "-q").code == 0
    assert_same_output(want, got)
    assert json.loads((got / "_run.json").read_text())["orders"]["conflicting"] > 0


def test_enforce_stops_both_before_publishing(spark: Any, tmp_path: Path) -> None:
    source = generate(tmp_path / "source", format="csv", orders=80, seed=31, dirty=0.05)
    reports = {}
    for engine in ("ccc", "spark"):
        out, report = tmp_path / engine, tmp_path / f"{engine}.json"
        args = [str(source), str(out), "--report", "json", "--report-file", str(report)]
        if engine == "ccc":
            done = ccc("run", "-q", "--source", args[0], "--out", args[1], *args[2:])
        else:
            done = run_job(spark, *args, "-q")
        assert done.code == 1, done.stderr
        assert not out.exists(), f"{engine} published after a failed check"
        reports[engine] = json.loads(report.read_text())
    assert reports["ccc"]["suite"] == "source"
    assert_same_suite(reports["ccc"], reports["spark"])


def test_parquet_only(spark: Any, tmp_path: Path) -> None:
    source = generate(tmp_path / "source", format="ndjson", orders=50, seed=41)
    want, got = tmp_path / "ccc", tmp_path / "spark"
    assert ccc("run", "-q", "--source", str(source), "--out", str(want), "--format", "parquet").code == 0
    assert run_job(spark, str(source), str(got), "--format", "parquet", "-q").code == 0
    assert_same_output(want, got)
    assert not (got / "csv").exists()


EXTRA_MESSAGE_CHECKS = """
      - id: extra-stage-mostly
        expectation: expect_column_values_to_be_in_set
        column: orderStage
        value_set: [ACCEPTED, DELIVERED, PICKED_UP]
        mostly: 0.25
      - id: extra-stage-mostly-too-much
        expectation: expect_column_values_to_be_in_set
        column: orderStage
        value_set: [ACCEPTED, DELIVERED, PICKED_UP]
        mostly: 0.995
        severity: warn
      - id: extra-from-between
        expectation: expect_column_values_to_be_between
        column: fromId
        min_value: 17000000.5
        max_value: 17000500
        strict_max: true
        mostly: 0.5
        severity: warn
      - id: extra-time-between
        expectation: expect_column_values_to_be_between
        column: messageSentTime
        min_value: "2024-02-03T00:00:00+01:00"
        strict_min: true
        severity: warn
      - id: extra-sender-as-integer
        expectation: expect_column_values_to_be_of_type
        column: senderAppType
        type_: integer
        severity: warn
      - id: extra-started-as-string
        expectation: expect_column_values_to_be_of_type
        column: chatStartedByMessage
        type_: string
        severity: warn
      - id: extra-to-above-from
        expectation: expect_column_pair_values_a_to_be_greater_than_b
        column_A: toId
        column_B: fromId
        ignore_row_if: neither
        severity: warn
      - id: extra-customer-unique
        expectation: expect_column_values_to_be_unique
        column: customerId
        mostly: 0.1
      - id: extra-stage-short
        expectation: expect_column_value_lengths_to_be_between
        column: orderStage
        max_value: 8
        mostly: 0.5
        severity: warn
      - id: extra-time-length
        expectation: expect_column_value_lengths_to_be_between
        column: messageSentTime
        min_value: 21
        severity: warn
      - id: extra-few-rows
        expectation: expect_table_row_count_to_be_between
        max_value: 10
        severity: warn
      - id: extra-columns
        expectation: expect_table_columns_to_match_set
        column_set: [orderId, cityCode, nothing]
        exact_match: false
        severity: warn
"""


def test_custom_suites_with_mostly_and_parameters(spark: Any, tmp_path: Path) -> None:
    """A user's suite with `mostly`, strict bounds, timestamp bounds, text checked as a
    type, pairs that count nulls, and table checks that fail: the same verdicts."""
    suites = tmp_path / "suites"
    assert ccc("expectations", "--write", str(suites)).code == 0
    text = (suites / "source.yaml").read_text()
    anchor = "  orders:\n    expectations:\n"
    (suites / "source.yaml").write_text(text.replace(anchor, EXTRA_MESSAGE_CHECKS.lstrip("\n") + anchor))
    source = generate(tmp_path / "source", format="csv", orders=120, seed=81, dirty=0.05)
    want, got = tmp_path / "ccc", tmp_path / "spark"
    args = ["--checks", "warn", "--expectations", str(suites)]
    done = ccc("run", "-q", "--source", str(source), "--out", str(want), *args)
    assert done.code == 0, done.stderr
    assert run_job(spark, str(source), str(got), *args, "-q").code == 0
    assert_same_output(want, got)
    results = {r["id"]: r for r in json.loads((got / "_run.json").read_text())["checks"]["source"]["results"]}
    assert results["extra-stage-mostly"]["success"] and not results["extra-stage-mostly-too-much"]["success"]
    assert results["extra-customer-unique"]["mostly"] == "0.1"
