"""The job on a real Spark standalone cluster — a master and a worker started from the
pinned PySpark package on 127.0.0.1 — submitted with `spark-submit`, gives ccc's
output; both processes and everything they started are gone afterwards, pass or fail."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import SPARK_DIR, assert_same_output, ccc, generate

sys.path.insert(0, str(SPARK_DIR))
import cluster


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spark_processes(dir: Path) -> list[str]:
    """Processes whose command line names the cluster's folder (master, worker, executors)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if str(dir) in cmdline and "org.apache.spark" in cmdline:
                found.append(f"{entry}: {cmdline[:200]}")
    return found


@pytest.fixture
def standalone(tmp_path: Path) -> Iterator[cluster.Cluster]:
    dir = tmp_path / "cluster"
    running = cluster.start(dir, free_port(), free_port(), cores=2, memory="1g")
    try:
        yield running
    finally:
        cluster.stop(dir)
        assert spark_processes(dir) == [], "processes left after the cluster stopped"
        assert not (dir / "master.pid").exists() and not (dir / "worker.pid").exists()


def test_spark_submit_to_a_standalone_cluster(standalone: cluster.Cluster, tmp_path: Path) -> None:
    source = generate(tmp_path / "source", format="parquet", orders=120, seed=71, dirty=0.04, late=0.1, files=2)
    want, got = tmp_path / "ccc", tmp_path / "spark"
    assert ccc("run", "-q", "--source", str(source), "--out", str(want), "--checks", "warn").code == 0
    env = dict(os.environ, PYSPARK_PYTHON=sys.executable, SPARK_LOCAL_IP="127.0.0.1")
    submit = [
        str(Path(sys.executable).parent / "spark-submit"),
        "--master",
        standalone.url,
        "--conf",
        f"spark.pyspark.python={sys.executable}",
        str(SPARK_DIR / "application.py"),
        # Relative, as people type them: the executors run in other working folders.
        "source",
        "spark",
        "--checks",
        "warn",
    ]
    done = subprocess.run(submit, capture_output=True, text=True, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "conversations from" in done.stdout
    assert_same_output(want, got)
    report = (got / "_run.json").read_text()
    assert standalone.url in report, "the run did not go through the cluster"
    # The worker ran an executor for the job.
    assert any((standalone.dir / "work").iterdir())


def test_java_is_checked_with_a_clear_message(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake = tmp_path / "jdk" / "bin"
    fake.mkdir(parents=True)
    (fake / "java").write_text("#!/bin/sh\necho 'openjdk version \"11.0.2\" 2019-01-15' >&2\n")
    (fake / "java").chmod(0o755)
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "jdk"))
    with pytest.raises(cluster.ClusterError, match="Spark 4 needs Java 17 or newer; found Java 11"):
        cluster.check_java()
