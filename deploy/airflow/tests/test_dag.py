"""The DAG in a real Airflow 3: its shape, a clean run that publishes and records an Asset
event and metrics, and dirty sources that stop at check_sources with an alert."""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys

import pytest
from conftest import AIRFLOW, DAG_ID, ROOT, Shared, airflow_env, ccc, shared_run, tree
from prometheus_client.parser import text_string_to_metric_families

TASKS = ["check_sources", "build", "check_output", "publish"]

# Run in the test's AIRFLOW_HOME rather than in pytest's own process; the dags folder goes on
# sys.path as Airflow's dag processor and CLI put it.
SHAPE = """
import json, sys
from airflow.dag_processing.dagbag import DagBag
from airflow.settings import DAGS_FOLDER
sys.path.insert(0, DAGS_FOLDER)
dag = DagBag(DAGS_FOLDER).get_dag("customer_courier_conversations")
print(json.dumps([[t.task_id for t in dag.topological_sort()], dag.max_active_runs, dag.catchup]))
"""


def settings(tmp_path, source):
    return {"source": str(source), "out": str(tmp_path / "out"), "state": str(tmp_path / "state")}


def test_the_dag_imports_and_has_the_four_tasks_in_order(airflow):
    env = airflow_env(airflow.home)
    errors = subprocess.run(
        [str(AIRFLOW), "dags", "list-import-errors", "-o", "json"], env=env, capture_output=True, text=True
    )
    assert errors.returncode == 0, errors.stderr
    assert errors.stdout.strip().splitlines()[-1] in ("[]", "No data found"), errors.stdout
    listed = subprocess.run([str(AIRFLOW), "tasks", "list", DAG_ID], env=env, capture_output=True, text=True)
    assert listed.returncode == 0, listed.stderr
    assert sorted(listed.stdout.split()) == sorted(TASKS)
    shape = subprocess.run([sys.executable, "-c", SHAPE], env=env, capture_output=True, text=True)
    assert shape.returncode == 0, shape.stderr[-4000:]
    order, max_active_runs, catchup = json.loads(shape.stdout.strip().splitlines()[-1])
    assert order == TASKS
    assert max_active_runs == 1 and catchup is False


@pytest.fixture(scope="session")
def sample_run(migrated, tmp_path_factory) -> Shared:
    """The DAG's run on the committed sample: what the next test checks, and the published
    table the dirty run after it must leave alone."""
    root = tmp_path_factory.mktemp("sample")
    return shared_run(migrated, root, settings(root, ROOT / "data" / "source"))


@pytest.mark.xdist_group("sample")
def test_the_sample_publishes_records_an_asset_event_and_metrics(sample_run, tmp_path):
    root, airflow, done = sample_run.restore(), sample_run.airflow, sample_run.done
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    assert airflow.states() == {task: ("success", 1) for task in TASKS}
    assert (root / "out" / "_run.json").exists()
    for task in ("check_sources", "check_output"):
        assert airflow.xcom(task) == airflow.xcom(task, "summary")
        assert airflow.xcom(task)["verdict"] == "passed" and airflow.xcom(task)["failed"] == []
    events = airflow.query("SELECT a.uri, e.source_task_id FROM asset_event e JOIN asset a ON a.id = e.asset_id")
    assert events == [("ccc://customer_courier_conversations/", "publish")]

    expected = ccc("run", "--source", ROOT / "data" / "source", "--out", tmp_path / "full", "-q")
    assert expected.returncode == 0
    published, full = tree(root / "out"), tree(tmp_path / "full")
    tables = {k: v for k, v in full.items() if k.startswith(("parquet/", "csv/"))}
    assert {k: published[k] for k in tables} == tables

    metrics = {}
    for path in sorted((root / "out.runs" / "metrics").glob("*.prom")):
        for family in text_string_to_metric_families(path.read_text()):
            for s in family.samples:
                metrics[(s.name, tuple(sorted(s.labels.items())))] = s.value
    read = metrics[("ccc_rows_read_total", (("command", "validate"), ("table", "orders")))]
    assert read == 507
    assert metrics[("ccc_conversations_written_total", (("command", "run"),))] == 500
    assert metrics[("ccc_last_run_success", (("command", "publish"),))] == 1
    assert ("ccc_last_successful_publish_timestamp_seconds", (("command", "publish"),)) in metrics


@pytest.mark.xdist_group("sample")
def test_dirty_sources_fail_check_sources_at_once_alert_and_leave_the_table(sample_run, tmp_path, webhook):
    # After the clean run on the sample (sample_run): its published table is the one to keep.
    root, airflow, clean = sample_run.restore(), sample_run.airflow, sample_run.done
    assert clean.returncode == 0, clean.stderr[-4000:]
    before = tree(root / "out")
    dirty = tmp_path / "dirty"
    ccc("generate", "--orders", "300", "--dirty", "0.05", "--out", dirty)

    done = airflow.dags_test(settings(root, dirty), AIRFLOW_CONN_CCC_ALERTS=webhook.url)
    assert done.returncode != 0
    states = airflow.states()
    assert states["check_sources"] == ("failed", 1), states  # no retry
    assert states["build"][0] == states["publish"][0] == "upstream_failed"
    assert tree(root / "out") == before
    assert len(webhook.bodies) == 1
    text = webhook.bodies[0]["text"]
    assert "task check_sources" in text and "DAG customer_courier_conversations" in text
    reports = pathlib.Path(text.split("reports: ")[1].strip())
    report = json.loads((reports / "check_sources.json").read_text())
    failed = [r["id"] for r in report["results"] if not r["success"]]
    assert "messages-orderStage-in-set" in failed
    assert f"failed expectations: {', '.join(failed)}\n" in text
    assert (reports / "check_sources.xml").exists() and (reports / "check_sources.md").exists()
    pushed = airflow.xcom("check_sources", "summary")
    assert pushed["verdict"] == "failed" and pushed["failed"] == failed and pushed["reports"] == str(reports)
    assert pushed["unexpected"]["messages-orderStage-in-set"] == next(
        r["unexpected_count"] for r in report["results"] if r["id"] == "messages-orderStage-in-set"
    )
