"""A Spark standalone cluster on this machine, from the pinned PySpark package: one
master and one worker on 127.0.0.1, no Docker (the seed's `setup_spark` /
`shutdown_spark`, made real).

    python cluster.py start [--dir DIR] [--port 7077] [--ui-port 8080] [--cores N] [--memory 2g]
    python cluster.py stop  [--dir DIR]
    python cluster.py url   [--dir DIR]

`start` returns once the worker has registered with the master; `stop` ends both and
everything they started (executors, Python workers), then removes the pid files.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_DIR = HERE.parents[1] / "target" / "spark-cluster"
MASTER = "org.apache.spark.deploy.master.Master"
WORKER = "org.apache.spark.deploy.worker.Worker"


class ClusterError(Exception):
    """The cluster cannot start (no suitable Java, a port taken, a process that died)."""


def spark_class() -> str:
    """`spark-class` of the PySpark package installed beside this Python."""
    script = Path(sys.executable).parent / "spark-class"
    if not script.exists():
        raise ClusterError(f"no spark-class beside {sys.executable}: install deploy/spark/requirements.txt")
    return str(script)


def java_major() -> int:
    """The major version of the `java` Spark will run (JAVA_HOME's, else PATH's)."""
    home = os.environ.get("JAVA_HOME")
    java = os.path.join(home, "bin", "java") if home else shutil.which("java")
    if not java or not os.path.exists(java):
        raise ClusterError("Spark needs Java 17 or newer: no `java` on PATH and no JAVA_HOME")
    out = subprocess.run([java, "-version"], capture_output=True, text=True).stderr
    m = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    if not m:
        raise ClusterError(f"cannot tell the version of {java}: {out.strip()}")
    major = int(m.group(1))
    return int(m.group(2) or 0) if major == 1 else major


def check_java() -> None:
    major = java_major()
    if major < 17:
        raise ClusterError(f"Spark 4 needs Java 17 or newer; found Java {major} (set JAVA_HOME to a JDK 17+)")


@dataclass
class Cluster:
    """A running cluster: where its state lives and how to reach it."""

    dir: Path
    port: int
    ui_port: int

    @property
    def url(self) -> str:
        return f"spark://127.0.0.1:{self.port}"


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def _launch(dir: Path, name: str, args: list[str]) -> int:
    log = open(dir / f"{name}.log", "w")
    env = dict(os.environ, SPARK_LOG_DIR=str(dir), SPARK_LOCAL_IP="127.0.0.1", SPARK_NO_DAEMONIZE="1")
    env.setdefault("PYSPARK_PYTHON", sys.executable)
    process = subprocess.Popen(
        [spark_class(), *args], stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
    )
    (dir / f"{name}.pid").write_text(str(process.pid))
    return process.pid


def _alive_workers(ui_port: int) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{ui_port}/json/", timeout=2) as r:
            state = json.load(r)
    except (OSError, ValueError):
        return 0
    return sum(1 for w in state.get("workers", []) if w.get("state") == "ALIVE")


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def start(
    dir: Path = DEFAULT_DIR,
    port: int = 7077,
    ui_port: int = 8080,
    cores: int = 2,
    memory: str = "2g",
    timeout: float = 90,
) -> Cluster:
    """Starts a master and a worker and waits until the worker is registered."""
    check_java()
    dir.mkdir(parents=True, exist_ok=True)
    if (dir / "master.pid").exists():
        raise ClusterError(f"a cluster is already recorded in {dir}: stop it first")
    for p in (port, ui_port):
        if not _port_free(p):
            raise ClusterError(f"port {p} on 127.0.0.1 is taken")
    cluster = Cluster(dir, port, ui_port)
    (dir / "cluster.json").write_text(json.dumps({"port": port, "ui_port": ui_port}))
    try:
        master = _launch(
            dir, "master", [MASTER, "--host", "127.0.0.1", "--port", str(port), "--webui-port", str(ui_port)]
        )
        work = dir / "work"
        worker_args = [WORKER, cluster.url, "--host", "127.0.0.1", "--cores", str(cores), "--memory", memory]
        worker_args += ["--webui-port", "0", "--work-dir", str(work)]
        deadline = time.monotonic() + timeout
        worker = None
        while time.monotonic() < deadline:
            if not _running(master):
                raise ClusterError(f"the master stopped: see {dir / 'master.log'}")
            if worker is None and not _port_free(port):
                worker = _launch(dir, "worker", worker_args)
            if worker is not None and not _running(worker):
                raise ClusterError(f"the worker stopped: see {dir / 'worker.log'}")
            if worker is not None and _alive_workers(ui_port) > 0:
                return cluster
            time.sleep(0.5)
        raise ClusterError(f"the worker did not register within {timeout:.0f} s: see {dir}")
    except BaseException:
        stop(dir)
        raise


def stop(dir: Path = DEFAULT_DIR, timeout: float = 30) -> None:
    """Ends the worker (and what it started) and the master; safe to call twice."""
    for name in ("worker", "master"):
        pid_file = dir / f"{name}.pid"
        if not pid_file.exists():
            continue
        pid = int(pid_file.read_text())
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(pid, sig)
            except ProcessLookupError:
                break
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and _group_alive(pid):
                time.sleep(0.2)
            if not _group_alive(pid):
                break
        pid_file.unlink()
    (dir / "cluster.json").unlink(missing_ok=True)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    # A zombie leader still counts; reap it if it is our child.
    try:
        os.waitpid(pgid, os.WNOHANG)
    except ChildProcessError:
        pass
    return _any_in_group(pgid)


def _any_in_group(pgid: int) -> bool:
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def recorded(dir: Path = DEFAULT_DIR) -> Cluster:
    state = json.loads((dir / "cluster.json").read_text())
    return Cluster(dir, state["port"], state["ui_port"])


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="cluster.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=["start", "stop", "url"])
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--port", type=int, default=7077)
    parser.add_argument("--ui-port", type=int, default=8080)
    parser.add_argument("--cores", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--memory", default="2g")
    a = parser.parse_args(argv)
    try:
        if a.command == "start":
            cluster = start(a.dir, a.port, a.ui_port, a.cores, a.memory)
            print(
                f"Spark master {cluster.url} (web UI http://127.0.0.1:{cluster.ui_port}), one worker; logs in {a.dir}"
            )
        elif a.command == "stop":
            stop(a.dir)
            print("Spark master and worker stopped")
        else:
            print(recorded(a.dir).url)
    except (ClusterError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
