"""Runs a user meets after the first: an audit that fails on the whole table, a file still
being written when the run starts, hourly runs over batches with late messages, and the
Spark job as the write step."""

from __future__ import annotations

import json
import os
import pathlib
import shutil

from conftest import ROOT, ccc, tree

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


def test_an_audit_that_fails_on_the_whole_table_stops_before_publish(airflow, tmp_path):
    first, second = batches(tmp_path, 2, orders="300")
    source = tmp_path / "source"
    deliver(first, source)
    assert airflow.dags_test(settings(tmp_path, source)).returncode == 0, airflow.log.read_text()[-4000:]
    before, state = tree(tmp_path / "out"), tree(tmp_path / "state")

    # A team's own suite: the built-in one, and a cap on the table's size that the
    # incremental build (which checks its changed rows) passes and the whole table fails.
    suites = tmp_path / "expectations"
    ccc("expectations", "--write", suites)
    with (suites / "output.yaml").open("a") as f:
        f.write(
            "      - id: output-at-most-200-conversations\n"
            "        expectation: expect_table_row_count_to_be_between\n"
            "        max_value: 200\n"
            "        severity: error\n"
        )
    deliver(second, source)
    done = airflow.dags_test(settings(tmp_path, source, expectations=str(suites)), "2024-02-01T01:00:00+00:00")
    assert done.returncode != 0
    states = airflow.states()
    assert states["build"] == ("success", 1), states
    assert states["check_output"] == ("failed", 1), states
    assert states["publish"][0] == "upstream_failed", states
    assert tree(tmp_path / "out") == before
    assert tree(tmp_path / "state") == state
    assert "output-at-most-200-conversations" in done.stdout
    pushed = airflow.xcom("check_output", "summary")
    assert pushed["verdict"] == "failed" and pushed["failed"] == ["output-at-most-200-conversations"]


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


def test_three_hourly_runs_over_late_batches_publish_the_full_run(airflow, tmp_path):
    source = tmp_path / "source"
    for hour, batch in enumerate(batches(tmp_path, 3, orders="400", late="0.2"), start=1):
        deliver(batch, source)
        done = airflow.dags_test(settings(tmp_path, source), f"2024-02-01T0{hour}:00:00+00:00")
        assert done.returncode == 0, done.stdout[-4000:]
        assert airflow.states() == {task: ("success", 1) for task in TASKS}
    assert len(airflow.query("SELECT run_id FROM dag_run WHERE state = 'success'")) == 3

    full = tmp_path / "full"
    ccc("run", "-q", "--source", source, "--out", full)
    assert tables(tmp_path / "out") == tables(full)


def test_the_spark_engine_publishes_the_table_ccc_builds(airflow, tmp_path):
    assert SPARK_PY.exists(), "the Spark job's venv is missing: run `make spark-venv`"
    source = ROOT / "data" / "source"
    job = f"{SPARK_PY} {ROOT / 'deploy' / 'spark' / 'application.py'}"
    done = airflow.dags_test(
        settings(tmp_path, source, engine="spark", spark_job=job),
        SPARK_LOCAL_IP="127.0.0.1",
        PYSPARK_PYTHON=str(SPARK_PY),
        PATH=f"{SPARK_PY.parent}{os.pathsep}{os.environ['PATH']}",
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


def test_a_lost_state_fails_the_build_at_once_and_reprocess_rebuilds(airflow, tmp_path):
    first, second = batches(tmp_path, 2, orders="200", late="0.2")
    source = tmp_path / "source"
    deliver(first, source)
    assert airflow.dags_test(settings(tmp_path, source)).returncode == 0, airflow.log.read_text()[-4000:]
    before = tree(tmp_path / "out")
    (tmp_path / "state").rename(tmp_path / "state.lost")
    deliver(second, source)

    done = airflow.dags_test(settings(tmp_path, source), "2024-02-01T01:00:00+00:00")
    assert done.returncode != 0
    states = airflow.states()
    assert states["build"] == ("failed", 1), states  # exit 2: no retry
    assert states["publish"][0] == "upstream_failed"
    assert tree(tmp_path / "out") == before
    assert "--reprocess" in done.stdout

    done = airflow.dags_test(settings(tmp_path, source, reprocess=True), "2024-02-01T02:00:00+00:00")
    assert done.returncode == 0, done.stdout[-4000:]
    full = tmp_path / "full"
    ccc("run", "-q", "--source", source, "--out", full)
    assert tables(tmp_path / "out") == tables(full)
