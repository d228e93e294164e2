"""What a DAG run works on: each setting from the run's params (``--conf``), else an Airflow
Variable, else a documented default. Resolved when a task runs, not when the DAG is parsed."""

from __future__ import annotations

import dataclasses
import pathlib
import re
from typing import Any

from airflow.sdk import Variable

# name -> (Variable, default)
DEFAULTS: dict[str, tuple[str, str]] = {
    "source": ("ccc_source", "/opt/ccc/data/source"),
    "out": ("ccc_out", "/opt/ccc/data/processed"),
    "state": ("ccc_state", "/opt/ccc/data/state"),
    "engine": ("ccc_engine", "ccc"),
    "checks": ("ccc_checks", "enforce"),
    "ccc": ("ccc_bin", "ccc"),
    "work": ("ccc_work", ""),
    "metrics": ("ccc_metrics_dir", ""),
    "spark_job": ("ccc_spark_job", "spark-submit /opt/ccc/deploy/spark/application.py"),
    "expectations": ("ccc_expectations", ""),
}


@dataclasses.dataclass(frozen=True)
class RunSettings:
    source: pathlib.Path
    out: pathlib.Path
    state: pathlib.Path
    engine: str
    checks: str
    ccc: str
    work: pathlib.Path
    metrics: pathlib.Path
    spark_job: str
    expectations: str
    run_dir: pathlib.Path
    # A one-off for a rebuild, so a run param only: as a Variable every run would rebuild.
    reprocess: bool = False

    @property
    def staged(self) -> pathlib.Path:
        return self.run_dir / "staged"

    @property
    def reports(self) -> pathlib.Path:
        return self.run_dir / "reports"


def resolve(params: dict[str, Any], run_id: str) -> RunSettings:
    """The settings of the run ``run_id``; a bad engine or checks mode is a ValueError."""
    values = {}
    for name, (variable, default) in DEFAULTS.items():
        given = params.get(name)
        values[name] = str(given) if given not in (None, "") else Variable.get(variable, default=default)
    if values["engine"] not in ("ccc", "spark"):
        raise ValueError(f"engine must be ccc or spark, not {values['engine']!r}")
    if values["checks"] not in ("enforce", "warn", "off"):
        raise ValueError(f"checks must be enforce, warn or off, not {values['checks']!r}")
    out = pathlib.Path(values["out"])
    work = pathlib.Path(values["work"]) if values["work"] else out.with_name(out.name + ".runs")
    metrics = pathlib.Path(values["metrics"]) if values["metrics"] else work / "metrics"
    safe_run = re.sub(r"[^A-Za-z0-9_.-]", "_", run_id)
    return RunSettings(
        source=pathlib.Path(values["source"]),
        out=out,
        state=pathlib.Path(values["state"]),
        engine=values["engine"],
        checks=values["checks"],
        ccc=values["ccc"],
        work=work,
        metrics=metrics,
        spark_job=values["spark_job"],
        expectations=values["expectations"],
        run_dir=work / safe_run,
        reprocess=params.get("reprocess") is True,
    )
