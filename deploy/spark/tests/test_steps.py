"""The Spark job as the write step of write, audit, publish: `ccc validate --suite
output --data` audits its output and `ccc publish` swaps a staged Spark output in."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conftest import assert_same_output, ccc, generate, run_job, tree


def test_staged_spark_output_is_audited_and_published_by_ccc(spark: Any, tmp_path: Path) -> None:
    source = generate(tmp_path / "source", format="ndjson", orders=100, seed=51, late=0.1)
    out, stage = tmp_path / "out", tmp_path / "stage"
    assert run_job(spark, str(source), str(out), "--stage", str(stage), "-q").code == 0
    assert not out.exists(), "a staged run publishes nothing"
    record = json.loads((stage / "_stage.json").read_text())
    assert record["out"] == str(out) and record["incremental"] is None
    # Not audited yet: publish refuses and leaves everything as it was.
    refused = ccc("publish", "--staged", str(stage), "--out", str(out))
    assert refused.code == 2, refused.stderr
    assert not out.exists() and (stage / "_stage.json").exists()
    audit = ccc("validate", "--suite", "output", "--data", str(stage))
    assert audit.code == 0, audit.stdout + audit.stderr
    verdict = json.loads((stage / "_audit.json").read_text())
    assert verdict["success"] is True
    published = ccc("publish", "--staged", str(stage), "--out", str(out))
    assert published.code == 0, published.stderr
    assert not stage.exists()
    want = tmp_path / "ccc"
    assert ccc("run", "-q", "--source", str(source), "--out", str(want)).code == 0
    files = tree(out)
    assert "_audit.json" in files and "_stage.json" not in files
    (out / "_audit.json").unlink()
    assert_same_output(want, out)


def test_ccc_validates_a_published_spark_output(spark: Any, tmp_path: Path) -> None:
    source = generate(tmp_path / "source", format="csv", orders=80, seed=52)
    out = tmp_path / "out"
    assert run_job(spark, str(source), str(out), "-q").code == 0
    report = tmp_path / "output.json"
    done = ccc("validate", "--suite", "output", "--data", str(out), "--report", "json", "--report-file", str(report))
    assert done.code == 0, done.stdout + done.stderr
    result = json.loads(report.read_text())
    assert result["success"] and result["statistics"]["skipped_expectations"] == 0
    ours = json.loads((out / "_run.json").read_text())["checks"]["output"]
    # ccc, reading the files back with _run.json's counts, reaches the job's verdict.
    assert [(r["id"], r["success"], r["unexpected_count"]) for r in result["results"]] == [
        (r["id"], r["success"], r["unexpected_count"]) for r in ours["results"]
    ]


def test_a_second_run_replaces_the_first_whole(spark: Any, tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = generate(tmp_path / "a", format="json", orders=60, seed=53)
    second = generate(tmp_path / "b", format="json", orders=20, seed=54)
    assert run_job(spark, str(first), str(out), "-q").code == 0
    assert run_job(spark, str(second), str(out), "-q").code == 0
    want = tmp_path / "ccc"
    assert ccc("run", "-q", "--source", str(second), "--out", str(want)).code == 0
    assert_same_output(want, out)
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.ccc-") and p.name != ".out.ccc-lock"]
    assert leftovers == []
