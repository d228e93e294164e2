"""`--metrics-file` writes what Prometheus reads: the files of `ccc run`, `ccc validate`
and `ccc publish` parse with prometheus_client's text parser (the Python client's own,
which follows the exposition format the node exporter's textfile collector reads), and
their values are the run's counts."""

import json
import os
import pathlib
import subprocess

from prometheus_client.parser import text_string_to_metric_families

ROOT = pathlib.Path(__file__).resolve().parents[2]
CCC = ROOT / os.environ.get("CCC_BIN", "target/release/ccc")


def ccc(*args, cwd):
    return subprocess.run([str(CCC), *map(str, args)], cwd=cwd, capture_output=True, text=True)


def samples(path):
    """{(name, frozenset(labels)): value} for every sample, and the families' types."""
    values, types = {}, {}
    for family in text_string_to_metric_families(path.read_text()):
        types[family.name] = family.type
        for s in family.samples:
            values[(s.name, frozenset(s.labels.items()))] = s.value
    return values, types


def value(values, name, **labels):
    return values[(name, frozenset(labels.items()))]


def test_a_runs_metrics_parse_and_hold_its_counts(tmp_path):
    src = tmp_path / "src"
    made = ccc("generate", "--orders", "400", "--seed", "5", "--dirty", "0.02", "--format", "ndjson",
               "--out", src, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    run = ccc("run", "--source", src, "--out", "out", "--stage", "staged", "--checks", "warn",
              "--metrics-file", "run.prom", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    report = json.loads((tmp_path / "staged" / "_run.json").read_text())
    values, types = samples(tmp_path / "run.prom")

    assert types["ccc_rows_read"] == "counter"  # the parser drops the _total suffix
    assert types["ccc_stage_duration_seconds"] == "gauge"
    messages = report["messages"]
    assert value(values, "ccc_rows_read_total", command="run",
                 table="customer_courier_chat_messages") == messages["read"]
    assert value(values, "ccc_rows_read_total", command="run", table="orders") == report["orders"]["read"]
    assert value(values, "ccc_conversations_written_total", command="run") == report["conversations"]
    assert value(values, "ccc_orphaned_messages_total", command="run") == messages["orphaned"]
    assert messages["quarantined_by_reason"], "the dirty sources quarantine rows"
    for reason, rows in messages["quarantined_by_reason"].items():
        assert value(values, "ccc_rows_quarantined_total", command="run",
                     table="customer_courier_chat_messages", reason=reason) == rows
    for suite in (report["checks"]["source"], report["checks"]["output"]):
        for r in suite["results"]:
            labels = dict(command="run", suite=suite["suite"], table=r["table"], expectation=r["id"])
            assert value(values, "ccc_expectation_unexpected_total", **labels) == r["unexpected_count"]
            assert value(values, "ccc_expectation_success", severity=r["severity"], **labels) == int(r["success"])
    assert value(values, "ccc_suite_success", command="run", suite="source") == 0
    assert value(values, "ccc_last_run_success", command="run") == 1
    assert ("ccc_last_successful_publish_timestamp_seconds", frozenset({("command", "run")})) not in values
    # Peak memory: the report's is read before the metrics are written, and a peak only grows.
    peak = report["memory"]["peak_rss_bytes"]
    assert 1 << 20 < peak <= value(values, "ccc_peak_memory_bytes", command="run")
    summary = [line for line in (run.stdout + run.stderr).splitlines() if "peak memory" in line]
    assert len(summary) == 1 and f"{peak / (1 << 20):.1f} MiB" in summary[0], summary


def test_audit_and_publish_metrics_and_the_last_publish_time_survives_a_failed_publish(tmp_path):
    src = tmp_path / "src"
    assert ccc("generate", "--orders", "300", "--seed", "9", "--out", src, cwd=tmp_path).returncode == 0
    run = ccc("run", "--source", src, "--out", "out", "--stage", "staged", "-q", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    report = json.loads((tmp_path / "staged" / "_run.json").read_text())
    audit = ccc("validate", "--suite", "output", "--data", "staged", "--metrics-file", "audit.prom", cwd=tmp_path)
    assert audit.returncode == 0, audit.stdout + audit.stderr
    values, _ = samples(tmp_path / "audit.prom")
    assert value(values, "ccc_rows_read_total", command="validate",
                 table="customer_courier_conversations") == report["conversations"]
    assert value(values, "ccc_suite_success", command="validate", suite="output") == 1

    published = ccc("publish", "--staged", "staged", "--out", "out", "--metrics-file", "publish.prom", cwd=tmp_path)
    assert published.returncode == 0, published.stderr
    values, _ = samples(tmp_path / "publish.prom")
    at = value(values, "ccc_last_successful_publish_timestamp_seconds", command="publish")
    assert value(values, "ccc_last_run_timestamp_seconds", command="publish") >= at > 1.7e9

    # A publish that fails says so, and keeps the time of the last one that did not.
    again = ccc("publish", "--staged", "staged", "--out", "out", "--metrics-file", "publish.prom", cwd=tmp_path)
    assert again.returncode == 2, again.stderr
    values, _ = samples(tmp_path / "publish.prom")
    assert value(values, "ccc_last_run_success", command="publish") == 0
    assert value(values, "ccc_last_run_exit_code", command="publish") == 2
    assert value(values, "ccc_last_successful_publish_timestamp_seconds", command="publish") == at


def test_a_failed_check_is_in_the_metrics_with_exit_code_1(tmp_path):
    src = tmp_path / "src"
    assert ccc("generate", "--orders", "200", "--dirty", "0.05", "--out", src, cwd=tmp_path).returncode == 0
    checked = ccc("validate", "--suite", "source", "--source", src, "--metrics-file", "m.prom", cwd=tmp_path)
    assert checked.returncode == 1, checked.stdout
    values, _ = samples(tmp_path / "m.prom")
    assert value(values, "ccc_last_run_exit_code", command="validate") == 1
    assert value(values, "ccc_suite_success", command="validate", suite="source") == 0
    failed = [dict(labels)["expectation"] for (name, labels), v in values.items()
              if name == "ccc_expectation_success" and v == 0]
    assert failed, "some expectation failed"
    for expectation in failed:
        unexpected = [v for (name, labels), v in values.items()
                      if name == "ccc_expectation_unexpected_total" and dict(labels)["expectation"] == expectation]
        assert unexpected and unexpected[0] > 0
    assert not list(tmp_path.glob(".m.prom.ccc-*")), "no temporary file is left"
