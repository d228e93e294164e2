"""customer_courier_conversations, hourly, as write–audit–publish: check the sources, build a
staged output (ccc incremental, or the Spark job), check it, publish it. Each step is its own
task to retry, log and alert on; the published table is an Asset downstream DAGs can follow.
Settings: params (``--conf``), else Variables, else defaults (deploy/airflow/README.md)."""

from __future__ import annotations

import os
from datetime import timedelta

import pendulum
from airflow.sdk import Asset, Param, dag, get_current_context, task
from ccc_airflow import alerts, settings, steps

TABLE = Asset("ccc://customer_courier_conversations")
# Parse-time, so an environment variable and not a Variable (no metadata lookup per parse).
RETRY_DELAY = timedelta(seconds=float(os.environ.get("CCC_RETRY_DELAY_SECONDS", "120")))
RETRIES = int(os.environ.get("CCC_RETRIES", "3"))

RETRYING = {
    "retries": RETRIES,
    "retry_delay": RETRY_DELAY,
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=30),
    "on_failure_callback": alerts.on_failure,
    # A step's dict is one XCom value, not one per key (Airflow's default for `-> dict`).
    "multiple_outputs": False,
}


def _settings() -> settings.RunSettings:
    context = get_current_context()
    return settings.resolve(context["params"], context["dag_run"].run_id)


@dag(
    dag_id="customer_courier_conversations",
    schedule="@hourly",
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    params={
        **{name: Param(None, type=["null", "string"]) for name in settings.DEFAULTS},
        "reprocess": Param(False, type="boolean", description="fold every file again: a full rebuild"),
    },
    tags=["ccc"],
)
def customer_courier_conversations() -> None:
    @task(**RETRYING)
    def check_sources() -> dict:
        return steps.check_sources(_settings())

    @task(**RETRYING)
    def build() -> dict:
        return steps.build(_settings())

    @task(**RETRYING)
    def check_output() -> dict:
        return steps.check_output(_settings())

    @task(
        **RETRYING,
        outlets=[TABLE],
        on_success_callback=alerts.on_published_with_warnings,
    )
    def publish() -> dict:
        return steps.publish(_settings())

    check_sources() >> build() >> check_output() >> publish()


customer_courier_conversations()
