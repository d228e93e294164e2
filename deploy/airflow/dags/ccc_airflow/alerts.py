"""Alerts: a short message naming the DAG run, the task, the failed expectations and where
the reports are — always to the task log, and to a Slack-compatible webhook when the
Airflow Connection ``ccc_alerts`` (or the one Variable ``ccc_alert_conn_id`` names) exists."""

from __future__ import annotations

import json
import logging
import urllib.request
from typing import Any

from airflow.sdk import Variable

from .steps import SUMMARY_KEY

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


def _summary(context: dict[str, Any], task: str) -> dict | None:
    value = context["ti"].xcom_pull(task_ids=task, key=SUMMARY_KEY)
    return value if isinstance(value, dict) else None


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
    task = context["ti"].task_id
    found = _summary(context, task) if task in CHECK_TASKS else None
    failed = found["failed"] if found else []
    send(message(context, "ccc FAILED", failed, found["reports"] if found else None))


def on_published_with_warnings(context: dict[str, Any]) -> None:
    """After a publish: an alert when a suite failed expectations of severity warn only."""
    warned = [found for task in CHECK_TASKS if (found := _summary(context, task)) and found["failed"]]
    if not warned:
        return
    failed = [f for found in warned for f in found["failed"]]
    send(message(context, "ccc published with warnings", failed, warned[0]["reports"]))
