"""A real Airflow for each test: a temporary AIRFLOW_HOME on sqlite, migrated once per session
and copied, and the DAG run with ``airflow dags test`` in a subprocess, as a user would."""

from __future__ import annotations

import fcntl
import http.server
import json
import os
import pathlib
import shutil
import sqlite3
import subprocess
import sys
import threading
import time

import pytest

HERE = pathlib.Path(__file__).resolve().parent
DAGS = HERE.parent / "dags"
ROOT = HERE.parents[2]
CCC = pathlib.Path(os.environ.get("CCC_BIN", ROOT / "target" / "debug" / "ccc")).resolve()
AIRFLOW = pathlib.Path(sys.executable).with_name("airflow")
DAG_ID = "customer_courier_conversations"


def airflow_env(home: pathlib.Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__DAGS_FOLDER=str(DAGS),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        # airflow.cfg written by `db migrate` names the template's database; each copy uses its own.
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home / 'airflow.db'}",
        CCC_RETRY_DELAY_SECONDS="1",
    )
    env.update(extra)
    return env


@pytest.fixture(scope="session")
def migrated(tmp_path_factory, worker_id) -> pathlib.Path:
    """A migrated AIRFLOW_HOME to copy: made once per pytest run, by the first xdist worker
    that needs it (the others wait for it and share it; each test works on its own copy)."""
    shared = tmp_path_factory.getbasetemp() if worker_id == "master" else tmp_path_factory.getbasetemp().parent
    home = shared / "airflow-template"
    with (shared / "airflow-template.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (home / "migrated").exists():
            shutil.rmtree(home, ignore_errors=True)
            home.mkdir()
            done = subprocess.run(
                [str(AIRFLOW), "db", "migrate"], env=airflow_env(home), capture_output=True, text=True
            )
            assert done.returncode == 0, done.stdout + done.stderr
            (home / "migrated").touch()
    return home


class Airflow:
    def __init__(self, home: pathlib.Path):
        self.home = home
        self.log = home / "dags-test.log"

    def dags_test(self, conf: dict, logical_date: str | None = None, **env: str) -> subprocess.CompletedProcess:
        """One DAG run to its end with ``airflow dags test``; its exit status and output."""
        started = self.start(conf, logical_date, **env)
        started.wait(timeout=600)
        return subprocess.CompletedProcess(started.args, started.returncode, self.log.read_text(), "")

    def start(self, conf: dict, logical_date: str | None = None, **env: str) -> subprocess.Popen:
        """Starts ``airflow dags test`` without waiting; its output goes to ``self.log``."""
        conf = {"ccc": str(CCC), **conf}
        argv = [str(AIRFLOW), "dags", "test", DAG_ID, *([logical_date] if logical_date else [])]
        with self.log.open("w") as log:
            return subprocess.Popen(
                [*argv, "--conf", json.dumps(conf)],
                env=airflow_env(self.home, **env),
                stdout=log,
                stderr=subprocess.STDOUT,
                text=True,
            )

    def wait_for(self, task: str, state: str, process: subprocess.Popen, timeout: float = 300) -> None:
        """Polls the metadata database until ``task`` of the latest run is in ``state``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.states().get(task, (None, 0))[0] == state:
                return
            if process.poll() is not None:
                raise AssertionError(f"the run ended before {task} was {state}: {self.log.read_text()[-4000:]}")
            time.sleep(0.2)
        raise AssertionError(f"{task} was not {state} within {timeout}s")

    def query(self, sql: str, parameters: tuple = ()) -> list[tuple]:
        db = sqlite3.connect(self.home / "airflow.db", timeout=30)
        try:
            return db.execute(sql, parameters).fetchall()
        except sqlite3.OperationalError as e:
            if "locked" in str(e):  # the run is writing; a poll asks again
                return []
            raise
        finally:
            db.close()

    def xcom(self, task: str, key: str = "return_value"):
        """The XCom value ``task`` pushed under ``key`` in the latest run (None if none)."""
        rows = self.query(
            "SELECT value FROM xcom WHERE task_id = ? AND key = ? AND dag_run_id = (SELECT MAX(id) FROM dag_run)",
            (task, key),
        )
        return json.loads(rows[0][0]) if rows else None

    def states(self) -> dict[str, tuple[str | None, int]]:
        """Each task's final state and try number in the latest run."""
        rows = self.query(
            "SELECT task_id, state, try_number FROM task_instance WHERE run_id = "
            "(SELECT run_id FROM dag_run ORDER BY id DESC LIMIT 1)"
        )
        return {task: (state, tries) for task, state, tries in rows}


@pytest.fixture()
def airflow(migrated, tmp_path) -> Airflow:
    home = tmp_path / "airflow"
    shutil.copytree(migrated, home)
    return Airflow(home)


class Shared:
    """A folder after a DAG run that several tests start from (run once per session, not
    once per test): ``restore`` gives each test the folder back as the run left it, at the
    same path, so the absolute paths in the state, the run folders and the metadata
    database still hold. The tests that share one are in one ``xdist_group`` (one worker,
    one at a time)."""

    def __init__(self, root: pathlib.Path, done: subprocess.CompletedProcess):
        self.root = root
        self.done = done
        self.airflow = Airflow(root / "airflow")
        self._saved = root.with_name(root.name + ".saved")
        shutil.copytree(root, self._saved, symlinks=True)

    def restore(self) -> pathlib.Path:
        shutil.rmtree(self.root)
        shutil.copytree(self._saved, self.root, symlinks=True)
        return self.root


def shared_run(migrated: pathlib.Path, root: pathlib.Path, conf: dict, logical_date: str | None = None) -> Shared:
    """``root`` with a copy of the migrated AIRFLOW_HOME and one DAG run on ``conf``, saved."""
    shutil.copytree(migrated, root / "airflow")
    done = Airflow(root / "airflow").dags_test(conf, logical_date)
    return Shared(root, done)


class Webhook:
    """A Slack-compatible webhook on 127.0.0.1: keeps every JSON body posted to it."""

    def __init__(self):
        self.bodies: list[dict] = []
        hook = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the http.server API
                length = int(self.headers["Content-Length"])
                hook.bodies.append(json.loads(self.rfile.read(length)))
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture()
def webhook():
    hook = Webhook()
    yield hook
    hook.server.shutdown()


def ccc(*args) -> subprocess.CompletedProcess:
    return subprocess.run([str(CCC), *map(str, args)], capture_output=True, text=True, check=True)


def tree(folder: pathlib.Path) -> dict[str, bytes]:
    """Every file under ``folder`` by relative path, with its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# Longest first among the tests that share nothing (loadgroup hands out the shared groups
# first): the Spark engine's JVM, then the retry that waits for its delay.
SLOWEST_FIRST = [
    "test_runs.py::test_the_spark_engine_publishes_the_table_ccc_builds",
    "test_runs.py::test_a_file_still_being_written_fails_the_first_try_and_is_read_on_the_retry",
]


def pytest_collection_modifyitems(items):
    def rank(item):
        name = item.nodeid.rsplit("/", 1)[-1]
        return SLOWEST_FIRST.index(name) if name in SLOWEST_FIRST else len(SLOWEST_FIRST)

    items.sort(key=rank)  # stable: the others keep their order
