"""Runs a user meets after the first: an audit that fails on the whole table, a file still
being written when the run starts, hourly runs over batches with late messages, and the
Spark job as the write step."""

from __future__ import annotations

import json
import os
import pathlib
import shutil

import pytest
from conftest import ROOT, Shared, ccc, shared_run, tree

TASKS = ["check_sources", "build", "check_output", "publish"]
SPARK_PY = ROOT / "deploy" / "spark" / ".venv" / "bin" / "python"


def settings(tmp_path: pathlib.Path, source: pathlib.Path, **more: str) -> dict:
    return {"source": str(source), "out": str(tmp_path / "out"), "state": str(tmp_path / "state"), **more}


def batches(tmp_path: pathlib.Path, files: int, **options: str) -> list[list[pathlib.Path]]:
    """``ccc generate`` into one folder; its files grouped by number, the batches a source
    folder receives one after another."""
    generated = tmp_path / "generated"
    args = [f"--{k}={v}" for k, v in options.items()]
    ccc("generate", "--files", files, "--format", "ndjson", *args, "--out", generated)
    return [sorted(generated.glob(f"*_{n:04}.ndjson")) for n in range(1, files + 1)]


def deliver(batch: list[pathlib.Path], source: pathlib.Path) -> None:
    source.mkdir(exist_ok=True)
    for f in batch:
        shutil.copy(f, source / f.name)


def tables(folder: pathlib.Path) -> dict[str, bytes]:
    return {k: v for k, v in tree(folder).items() if k.startswith(("parquet/", "csv/"))}


FIRST_HOUR = "2024-02-01T01:00:00+00:00"


@pytest.fixture(scope="session")
def first_hour(migrated, tmp_path_factory) -> tuple[Shared, list[list[pathlib.Path]]]:
    """Three hourly batches with late messages, and the DAG's run on the first: where the
    hourly runs, the lost state and the failing audit below all start."""
    generated = tmp_path_factory.mktemp("batches")
    hours = batches(generated, 3, orders="400", late="0.2")
    root = tmp_path_factory.mktemp("hourly")
    deliver(hours[0], root / "source")
    return shared_run(migrated, root, settings(root, root / "source"), FIRST_HOUR), hours


@pytest.mark.xdist_group("first_hour")
def test_an_audit_that_fails_on_the_whole_table_stops_before_publish(first_hour, tmp_path):
    shared, (_, second, _) = first_hour
    root, airflow = shared.restore(), shared.airflow
    source = root / "source"
    assert shared.done.returncode == 0, shared.done.stdout[-4000:]
    before, state = tree(root / "out"), tree(root / "state")

    deliver(second, source)
    # A team's own suite: the built-in one, and a cap on the table's size that the
    # incremental build (which checks its changed rows) passes and the whole table fails:
    # one conversation fewer than the whole table of both batches holds.
    whole = tmp_path / "whole"
    ccc("run", "-q", "--source", source, "--out", whole)
    cap = json.loads((whole / "_run.json").read_text())["conversations"] - 1
    suites = tmp_path / "expectations"
    ccc("expectations", "--write", suites)
    with (suites / "output.yaml").open("a") as f:
        f.write(
            "      - id: output-smaller-than-the-whole-table\n"
            "        expectation: expect_table_row_count_to_be_between\n"
            f"        max_value: {cap}\n"
            "        severity: error\n"
        )
    done = airflow.dags_test(settings(root, source, expectations=str(suites)), "2024-02-01T02:00:00+00:00")
    assert done.returncode != 0
    states = airflow.states()
    assert states["build"] == ("success", 1), states
    assert states["check_output"] == ("failed", 1), states
    assert states["publish"][0] == "upstream_failed", states
    assert tree(root / "out") == before
    assert tree(root / "state") == state
    assert "output-smaller-than-the-whole-table" in done.stdout
    pushed = airflow.xcom("check_output", "summary")
    assert pushed["verdict"] == "failed" and pushed["failed"] == ["output-smaller-than-the-whole-table"]


def test_checks_warn_publishes_dirty_sources_and_alerts_that_it_did(airflow, tmp_path, webhook):
    dirty = tmp_path / "dirty"
    ccc("generate", "--orders", "200", "--dirty", "0.05", "--out", dirty)
    done = airflow.dags_test(settings(tmp_path, dirty, checks="warn"), AIRFLOW_CONN_CCC_ALERTS=webhook.url)
    assert done.returncode == 0, done.stdout[-4000:]
    assert airflow.states() == {task: ("success", 1) for task in TASKS}
    report = json.loads((tmp_path / "out" / "_run.json").read_text())
    assert report["messages"]["quarantined"] > 0
    expected = tmp_path / "expected"
    ccc("run", "-q", "--checks", "warn", "--source", dirty, "--out", expected)
    assert tables(tmp_path / "out") == tables(expected)

    warned = airflow.xcom("check_sources", "summary")
    assert warned["verdict"] == "failed" and warned["failed"]
    assert [body["text"].splitlines()[0].split(":")[0] for body in webhook.bodies] == ["ccc published with warnings"]
    text = webhook.bodies[0]["text"]
    assert "task publish" in text and ", ".join(warned["failed"]) in text


def test_a_file_still_being_written_fails_the_first_try_and_is_read_on_the_retry(airflow, tmp_path):
    source = tmp_path / "source"
    ccc("generate", "--orders", "100", "--format", "parquet", "--out", source)
    orders = source / "orders.parquet"
    whole = orders.read_bytes()
    orders.write_bytes(whole[: len(whole) // 2])

    run = airflow.start(settings(tmp_path, source), CCC_RETRY_DELAY_SECONDS="5")
    airflow.wait_for("check_sources", "up_for_retry", run)
    assert not (tmp_path / "out").exists()
    orders.write_bytes(whole)
    assert run.wait(timeout=600) == 0, airflow.log.read_text()[-4000:]

    states = airflow.states()
    assert states["check_sources"] == ("success", 2), states
    assert {task: states[task] for task in TASKS[1:]} == {task: ("success", 1) for task in TASKS[1:]}
    assert "exit 3" in airflow.log.read_text()
    expected = tmp_path / "expected"
    ccc("run", "-q", "--source", source, "--out", expected)
    assert tables(tmp_path / "out") == tables(expected)


@pytest.mark.xdist_group("first_hour")
def test_three_hourly_runs_over_late_batches_publish_the_full_run(first_hour, tmp_path):
    shared, hours = first_hour
    root, airflow = shared.restore(), shared.airflow
    source = root / "source"
    # The first hour's run is the shared one; the next two hours run here.
    assert shared.done.returncode == 0, shared.done.stdout[-4000:]
    assert airflow.states() == {task: ("success", 1) for task in TASKS}
    for hour, batch in enumerate(hours[1:], start=2):
        deliver(batch, source)
        done = airflow.dags_test(settings(root, source), f"2024-02-01T0{hour}:00:00+00:00")
        assert done.returncode == 0, done.stdout[-4000:]
        assert airflow.states() == {task: ("success", 1) for task in TASKS}
    assert len(airflow.query("SELECT run_id FROM dag_run WHERE state = 'success'")) == 3

    full = tmp_path / "full"
    ccc("run", "-q", "--source", source, "--out", full)
    assert tables(root / "out") == tables(full)


def test_the_spark_engine_publishes_the_table_ccc_builds(airflow, tmp_path):
    assert SPARK_PY.exists(), "the Spark job's venv is missing: run `make spark-venv`"
    source = ROOT / "data" / "source"
    job = f"{SPARK_PY} {ROOT / 'deploy' / 'spark' / 'application.py'}"
    done = airflow.dags_test(
        settings(tmp_path, source, engine="spark", spark_job=job),
        SPARK_LOCAL_IP="127.0.0.1",
        PYSPARK_PYTHON=str(SPARK_PY),
        PATH=f"{SPARK_PY.parent}{os.pathsep}{os.environ['PATH']}",
        # The job's JVM compiles with C1 only, as in deploy/spark's tests: for a JVM that
        # lives a minute, C2's compiles cost more CPU than they save. Spark is unchanged.
        JAVA_TOOL_OPTIONS=os.environ.get("JAVA_TOOL_OPTIONS", "-XX:TieredStopAtLevel=1"),
    )
    assert done.returncode == 0, done.stdout[-4000:]
    assert airflow.states() == {task: ("success", 1) for task in TASKS}
    assert json.loads((tmp_path / "out" / "_run.json").read_text())["engine"]["name"] == "spark"

    by_ccc = tmp_path / "ccc"
    ccc("run", "-q", "--source", source, "--out", by_ccc)
    spark, ours = tables(tmp_path / "out"), tables(by_ccc)
    assert sorted(spark) == sorted(ours)
    csv = [name for name in ours if name.startswith("csv/")]
    assert csv and all(spark[name] == ours[name] for name in csv)


@pytest.mark.xdist_group("first_hour")
def test_a_lost_state_fails_the_build_at_once_and_reprocess_rebuilds(first_hour, tmp_path):
    shared, (_, second, _) = first_hour
    root, airflow = shared.restore(), shared.airflow
    source = root / "source"
    assert shared.done.returncode == 0, shared.done.stdout[-4000:]
    before = tree(root / "out")
    (root / "state").rename(root / "state.lost")
    deliver(second, source)

    done = airflow.dags_test(settings(root, source), "2024-02-01T02:00:00+00:00")
    assert done.returncode != 0
    states = airflow.states()
    assert states["build"] == ("failed", 1), states  # exit 2: no retry
    assert states["publish"][0] == "upstream_failed"
    assert tree(root / "out") == before
    assert "--reprocess" in done.stdout

    done = airflow.dags_test(settings(root, source, reprocess=True), "2024-02-01T03:00:00+00:00")
    assert done.returncode == 0, done.stdout[-4000:]
    full = tmp_path / "full"
    ccc("run", "-q", "--source", source, "--out", full)
    assert tables(root / "out") == tables(full)
