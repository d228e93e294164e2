"""Shared fixtures: the ccc binary, one local Spark session for the in-process runs of
the job, and helpers that run both engines on the same sources and compare what they
wrote."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

SPARK_DIR = Path(__file__).resolve().parents[1]
REPO = SPARK_DIR.parents[1]
sys.path.insert(0, str(SPARK_DIR))

import application  # noqa: E402
from ccc_spark import job  # noqa: E402
from ccc_spark.errors import JobError  # noqa: E402

# Every JVM the tests start (the session below, `application.py` and `spark-submit` in
# subprocesses, the standalone master, worker and executors, which inherit the variable)
# compiles with C1 only. The tests' JVMs live for seconds to minutes and run short
# queries: C2's optimizing compiles cost more CPU than they win back, on two cores about
# half of it. Only the JIT changes; Spark, its settings and the job's code do not.
os.environ.setdefault("JAVA_TOOL_OPTIONS", "-XX:TieredStopAtLevel=1")

# The tests that take longest (their own JVMs, several runs of the job), longest first:
# run first, they leave the short ones to even out the two xdist workers at the end
# (`--maxschedchunk=1` in pyproject.toml hands tests out one at a time, in this order).
SLOWEST_FIRST = [
    "test_cluster.py::test_spark_submit_to_a_standalone_cluster",
    "test_bad_input.py::test_sigterm_while_publishing_leaves_the_previous_output",
    "test_seed_bug.py::test_ours_is_stable_where_the_seeds_moves",
    "test_bad_input.py::test_the_application_exits_with_the_code",
    "test_steps.py::test_a_second_run_replaces_the_first_whole",
    "test_conformance.py::test_same_output_as_ccc[ndjson-dirty]",
    "test_conformance.py::test_every_format_in_one_folder",
    "test_edge_cases.py::test_edge_cases_agree",
    "test_conformance.py::test_custom_suites_with_mostly_and_parameters",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        name = item.nodeid.rsplit("/", 1)[-1]
        return SLOWEST_FIRST.index(name) if name in SLOWEST_FIRST else len(SLOWEST_FIRST)

    items.sort(key=rank)  # stable: the others keep their order


def ccc_bin() -> str:
    path = os.environ.get("CCC_BIN", str(REPO / "target" / "debug" / "ccc"))
    if not os.path.isabs(path):
        path = str(REPO / path)
    if not os.access(path, os.X_OK):
        pytest.exit(f"no ccc binary at {path}: build it (cargo build -p ccc-cli) or set CCC_BIN", returncode=2)
    return path


@dataclass
class Done:
    """How a run ended: its exit code and what it printed."""

    code: int
    stdout: str
    stderr: str


def ccc(*args: str) -> Done:
    p = subprocess.run([ccc_bin(), *args], capture_output=True, text=True)
    return Done(p.returncode, p.stdout, p.stderr)


def generate(out: Path, **options: Any) -> Path:
    """`ccc generate` into `out` with `--key value` options (underscores as dashes); its
    manifest is moved beside `out` (`OUT.generated.json`), out of the source folder."""
    args = ["generate", "--out", str(out)]
    for key, value in options.items():
        args += [f"--{key.replace('_', '-')}", str(value)]
    done = ccc(*args)
    assert done.code == 0, done.stderr
    (out / "_generated.json").rename(out.with_name(out.name + ".generated.json"))
    return out


def manifest(out: Path) -> dict[str, Any]:
    """What `generate` injected into `out` (dirty values by column and kind, late records)."""
    return json.loads(out.with_name(out.name + ".generated.json").read_text())["injected"]


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    import cluster

    try:
        cluster.check_java()
    except cluster.ClusterError as e:
        pytest.exit(str(e), returncode=2)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    session = application.session()
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def run_job(spark: Any, *args: str) -> Done:
    """The Spark job in this process (one warm session for every test), as the
    application would end: its exit code and the message of an error."""
    try:
        code = job.run(job.parse_args(list(args)), spark)
        return Done(code, "", "")
    except JobError as e:
        return Done(e.exit_code, "", str(e))


def tree(root: Path) -> dict[str, Path]:
    """Every file under `root` by its relative path."""
    return {str(p.relative_to(root)): p for p in sorted(root.rglob("*")) if p.is_file()}


def run_report(out: Path) -> dict[str, Any]:
    return json.loads((out / "_run.json").read_text())


COUNTS = ["files", "messages", "orders", "conversations", "partitions", "reconciled"]


def assert_same_output(ccc_out: Path, spark_out: Path) -> None:
    """The two outputs hold the same files: Parquet tables equal column by column with
    the same types (pyarrow), CSV and quarantine byte for byte, the same run counts and
    the same suite results, expectation by expectation."""
    a, b = tree(ccc_out), tree(spark_out)
    assert sorted(a) == sorted(b), "the two outputs hold different files"
    for name in a:
        if name.endswith(".parquet"):
            ta, tb = pq.read_table(a[name]), pq.read_table(b[name])
            assert tb.schema.equals(ta.schema, check_metadata=False), f"{name}: {tb.schema} != {ta.schema}"
            assert tb.equals(ta), f"{name}: rows differ"
        elif name.endswith(".csv"):
            assert b[name].read_bytes() == a[name].read_bytes(), f"{name} differs"
    ra, rb = run_report(ccc_out), run_report(spark_out)
    for key in COUNTS:
        assert rb[key] == ra[key], f"_run.json {key}"
    assert rb["checks"]["mode"] == ra["checks"]["mode"]
    for side in ("source", "output"):
        assert_same_suite(ra["checks"][side], rb["checks"][side])


def assert_same_suite(expected: dict[str, Any] | None, actual: dict[str, Any] | None) -> None:
    if expected is None or actual is None:
        assert expected is None and actual is None
        return
    assert [r["id"] for r in actual["results"]] == [r["id"] for r in expected["results"]]
    for want, got in zip(expected["results"], actual["results"], strict=False):
        assert got == want, f"expectation {want['id']}"
    for key in ("suite", "origin", "success", "statistics"):
        assert actual[key] == expected[key], key


def fresh(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    return path
