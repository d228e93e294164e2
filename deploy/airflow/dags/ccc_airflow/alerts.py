"""Alerts: a short message naming the DAG run, the task, the failed expectations and where
the reports are — always to the task log, and to a Slack-compatible webhook when the
Airflow Connection ``ccc_alerts`` (or the one Variable ``ccc_alert_conn_id`` names) exists."""

from __future__ import annotations

import json
import logging
import urllib.request
from typing import Any

from airflow.sdk import Variable

log = logging.getLogger(__name__)

CHECK_TASKS = ("check_sources", "check_output")


def webhook_url() -> str | None:
    """The webhook of the alert Connection: its ``webhook_url`` extra, or its URI's address."""
    from airflow.sdk import Connection

    conn_id = Variable.get("ccc_alert_conn_id", default="ccc_alerts")
    try:
        conn = Connection.get(conn_id)
    except Exception:  # noqa: BLE001 - no connection configured: the log alone
        return None
    extra = conn.extra_dejson or {}
    if extra.get("webhook_url"):
        return str(extra["webhook_url"])
    if not conn.host:
        return None
    scheme = conn.conn_type if conn.conn_type in ("http", "https") else "https"
    port = f":{conn.port}" if conn.port else ""
    path = f"/{conn.schema}" if conn.schema else ""
    return f"{scheme}://{conn.host}{port}{path}"


def _summaries(context: dict[str, Any]) -> list[dict]:
    ti = context["ti"]
    found = []
    for task in CHECK_TASKS:
        value = ti.xcom_pull(task_ids=task)
        if isinstance(value, dict):
            found.append(value)
    return found


def message(context: dict[str, Any], headline: str, failed: list[str], reports: str | None) -> str:
    dag_run = context["dag_run"]
    ti = context["ti"]
    lines = [f"{headline}: DAG {dag_run.dag_id}, run {dag_run.run_id}, task {ti.task_id} (try {ti.try_number})"]
    if failed:
        lines.append("failed expectations: " + ", ".join(failed))
    if context.get("exception"):
        lines.append(f"error: {context['exception']}")
    if reports:
        lines.append(f"reports: {reports}")
    return "\n".join(lines)


def send(text: str) -> None:
    """To the log always; to the webhook when one is configured (a failure to post is logged)."""
    log.warning("ccc alert:\n%s", text)
    url = webhook_url()
    if not url:
        return
    body = json.dumps({"text": text}).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            log.info("alert posted to the webhook (HTTP %s)", response.status)
    except OSError as e:
        log.error("the alert could not be posted to the webhook: %s", e)


def on_failure(context: dict[str, Any]) -> None:
    """A task failed for good: which one, which expectations, where the reports are."""
    from .settings import resolve

    ti = context["ti"]
    failed: list[str] = []
    reports = None
    if ti.task_id in CHECK_TASKS:
        try:
            from .steps import summary

            s = resolve(context["params"], context["dag_run"].run_id)
            found = summary(s, ti.task_id)
            failed, reports = found["failed"], found["reports"]
        except Exception as e:  # noqa: BLE001 - an alert must go out even without reports
            log.error("could not read the reports for the alert: %s", e)
    send(message(context, "ccc FAILED", failed, reports))


def on_published_with_warnings(context: dict[str, Any]) -> None:
    """After a publish: an alert when a suite failed expectations of severity warn only."""
    warned = [s for s in _summaries(context) if s.get("failed")]
    if not warned:
        return
    failed = [f for s in warned for f in s["failed"]]
    send(message(context, "ccc published with warnings", failed, warned[0].get("reports")))
