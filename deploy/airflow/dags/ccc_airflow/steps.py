"""Running one ccc step as an Airflow task: the command, its exit code in Airflow's terms
(1 and 2 fail at once, 3 and signals are retried), its reports in the log and in XCom."""

from __future__ import annotations

import json
import logging
import shlex
import subprocess

from airflow.sdk import get_current_context
from airflow.sdk.exceptions import AirflowFailException

from .settings import RunSettings

log = logging.getLogger(__name__)

CHECKS_FAILED, USAGE, UNREADABLE = 1, 2, 3
SUMMARY_KEY = "summary"


class RetryableStepError(RuntimeError):
    """Input that could not be read yet (exit 3), or a step that was killed: retried."""


def run(argv: list[str]) -> int:
    """Runs ``argv``, its output into the task log; returns the exit code."""
    log.info("running: %s", shlex.join(argv))
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    for stream in (done.stdout, done.stderr):
        if stream.strip():
            log.info("%s", stream.rstrip())
    return done.returncode


def judge(step: str, code: int, *, warn_only: bool = False) -> None:
    """Raises what the exit code means to Airflow: 0 passes (and 1 does with ``warn_only``)."""
    if code == 0 or (code == CHECKS_FAILED and warn_only):
        return
    if code == CHECKS_FAILED:
        raise AirflowFailException(f"{step}: a check of severity error failed (exit 1); nothing is published")
    if code == USAGE:
        raise AirflowFailException(f"{step}: bad usage or a bad suite (exit 2); fix the DAG's settings")
    if code == UNREADABLE:
        raise RetryableStepError(f"{step}: input or output could not be read or written (exit 3); retrying")
    raise RetryableStepError(f"{step}: ended with exit code {code}; retrying")


def report_args(s: RunSettings, step: str) -> list[str]:
    """Reports (JSON, JUnit, Markdown) beside the staged output, and the step's metrics."""
    s.reports.mkdir(parents=True, exist_ok=True)
    s.metrics.mkdir(parents=True, exist_ok=True)
    args = []
    for fmt, ext in (("json", "json"), ("junit", "xml"), ("markdown", "md")):
        args += ["--report", fmt, "--report-file", str(s.reports / f"{step}.{ext}")]
    return args + ["--metrics-file", str(s.metrics / f"{step}.prom")]


def expectations_args(s: RunSettings) -> list[str]:
    return ["--expectations", s.expectations] if s.expectations else []


def summary(s: RunSettings, step: str) -> dict:
    """The JSON report's summary for XCom: verdict, failed expectation ids, unexpected counts."""
    path = s.reports / f"{step}.json"
    if not path.exists():
        return {"step": step, "verdict": "not run", "failed": [], "unexpected": {}, "reports": str(s.reports)}
    data = json.loads(path.read_text())
    suites = data if isinstance(data, list) else [data]
    failed = [r["id"] for suite in suites for r in suite["results"] if not r["success"]]
    errors = [r["id"] for suite in suites for r in suite["results"] if not r["success"] and r["severity"] == "error"]
    verdict = "failed" if errors else ("warned" if failed else "passed")
    unexpected = {r["id"]: r["unexpected_count"] for suite in suites for r in suite["results"] if r["unexpected_count"]}
    return {"step": step, "verdict": verdict, "failed": failed, "unexpected": unexpected, "reports": str(s.reports)}


def log_markdown(s: RunSettings, step: str) -> None:
    path = s.reports / f"{step}.md"
    if path.exists():
        log.info("%s report (%s):\n%s", step, path, path.read_text())


def check(s: RunSettings, step: str, suite: str, data: list[str]) -> dict:
    """``ccc validate --suite SUITE`` on ``data`` as the task ``step``: its Markdown report
    in the log, its JSON report's summary in XCom (key ``summary``, and the return value
    when it passes), its verdict judged."""
    if s.checks == "off":
        log.info("checks are off: the %s suite is not run", suite)
        return summary(s, step)
    argv = [s.ccc, "validate", "--suite", suite, *data, *expectations_args(s)]
    code = run(argv + report_args(s, step))
    log_markdown(s, step)
    found = summary(s, step)
    # Pushed before the verdict is judged: a failed check's summary is the one most wanted.
    get_current_context()["ti"].xcom_push(key=SUMMARY_KEY, value=found)
    judge(step, code, warn_only=s.checks == "warn")
    return found


def check_sources(s: RunSettings) -> dict:
    return check(s, "check_sources", "source", ["--source", str(s.source)])


def build(s: RunSettings) -> dict:
    if s.staged.exists():
        # A retry's leftover: the step writes its stage whole again.
        subprocess.run(["rm", "-rf", str(s.staged)], check=True)
    if s.engine == "spark":
        argv = [
            *shlex.split(s.spark_job),
            str(s.source),
            str(s.out),
            "--stage",
            str(s.staged),
            "--checks",
            s.checks,
            *expectations_args(s),
            "-q",
        ]
        code = run(argv)
    else:
        argv = [
            s.ccc,
            "run",
            "--source",
            str(s.source),
            "--out",
            str(s.out),
            "--stage",
            str(s.staged),
            "--incremental",
            "--state",
            str(s.state),
            "--checks",
            s.checks,
            "-q",
            *expectations_args(s),
            *(["--reprocess"] if s.reprocess else []),
        ]
        s.metrics.mkdir(parents=True, exist_ok=True)
        code = run(argv + ["--metrics-file", str(s.metrics / "build.prom")])
    judge("build", code, warn_only=s.checks == "warn")
    return {"staged": str(s.staged)}


def check_output(s: RunSettings) -> dict:
    return check(s, "check_output", "output", ["--data", str(s.staged)])


def publish(s: RunSettings) -> dict:
    argv = [s.ccc, "publish", "--staged", str(s.staged), "--out", str(s.out)]
    if s.checks != "enforce":
        argv.append("--no-audit")
    s.metrics.mkdir(parents=True, exist_ok=True)
    judge("publish", run(argv + ["--metrics-file", str(s.metrics / "publish.prom")]))
    return {"out": str(s.out)}
