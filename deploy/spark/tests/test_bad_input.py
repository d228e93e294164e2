"""Bad input and bad usage: the Spark job stops with ccc's exit code and a message
naming the file (and the record and line where it can), and publishes nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import SPARK_DIR, ccc, generate, run_job

GOOD_ORDERS = "orderId,cityCode\n1,BCN\n"
GOOD_MESSAGES = '[{"orderId": 1, "senderAppType": "Courier iOS", "messageSentTime": "2024-01-01T00:00:00Z"}]'

BAD_FILES = {
    "truncated-json": ("customer_courier_chat_messages.json", b'[{"orderId": 1, "senderAppType": "Cour'),
    "json-syntax": ("customer_courier_chat_messages.json", b'[\n  {"orderId": 1,, "x": 2}\n]'),
    "csv-missing-a-column": (
        "customer_courier_chat_messages.csv",
        b"orderId,senderAppType,messageSentTime\n1,Courier iOS,2024-01-01T00:00:00Z\n2,Courier iOS\n",
    ),
    "csv-header-names-nothing": ("customer_courier_chat_messages.csv", b"a,b\n1,2\n"),
    "binary-parquet": ("customer_courier_chat_messages.parquet", bytes(range(256)) * 8),
    "ndjson-bad-line": ("customer_courier_chat_messages.ndjson", b'{"orderId": 1}\n{"orderId": \n'),
    "empty-json": ("customer_courier_chat_messages.json", b""),
    "invalid-utf8": ("customer_courier_chat_messages.ndjson", b'{"orderStage": "\xff"}\n'),
}


def sources(root: Path, name: str, content: bytes) -> Path:
    source = root / "source"
    source.mkdir()
    (source / "orders.csv").write_text(GOOD_ORDERS)
    (source / name).write_bytes(content)
    return source


@pytest.mark.parametrize("name,content", list(BAD_FILES.values()), ids=list(BAD_FILES))
def test_unreadable_file_exits_3_naming_it(spark: Any, tmp_path: Path, name: str, content: bytes) -> None:
    source = sources(tmp_path, name, content)
    want = ccc("run", "-q", "--source", str(source), "--out", str(tmp_path / "ccc"))
    got = run_job(spark, str(source), str(tmp_path / "spark"), "-q")
    assert want.code == 3, want.stderr
    assert got.code == want.code
    assert str(source / name) in got.stderr
    assert not (tmp_path / "spark").exists()


def test_line_and_record_are_named(spark: Any, tmp_path: Path) -> None:
    source = sources(tmp_path, *BAD_FILES["csv-missing-a-column"])
    got = run_job(spark, str(source), str(tmp_path / "spark"), "-q")
    assert got.stderr == (
        f"{source}/customer_courier_chat_messages.csv:3: invalid CSV in record 2: record has 2 fields, the header has 3"
    )


@pytest.mark.parametrize(
    "setup",
    ["missing-folder", "no-messages", "not-a-file"],
)
def test_sources_that_cannot_be_found_exit_3(spark: Any, tmp_path: Path, setup: str) -> None:
    source = tmp_path / "source"
    if setup != "missing-folder":
        source.mkdir()
        (source / "orders.csv").write_text(GOOD_ORDERS)
    if setup == "not-a-file":
        (source / "customer_courier_chat_messages_dir.json").mkdir()
    want = ccc("run", "-q", "--source", str(source), "--out", str(tmp_path / "ccc"))
    got = run_job(spark, str(source), str(tmp_path / "spark"), "-q")
    assert (want.code, got.code) == (3, 3), (want.stderr, got.stderr)
    assert str(source) in got.stderr


def test_bad_suites_exit_2_before_reading(spark: Any, tmp_path: Path) -> None:
    source = sources(tmp_path, "customer_courier_chat_messages.json", b"not even json")
    suites = tmp_path / "suites"
    assert ccc("expectations", "--write", str(suites)).code == 0
    text = (suites / "source.yaml").read_text()
    (suites / "source.yaml").write_text(
        text.replace("expect_column_values_to_not_be_null", "expect_column_values_to_not_be_nul", 1)
    )
    got = run_job(spark, str(source), str(tmp_path / "spark"), "--expectations", str(suites), "-q")
    assert got.code == 2
    assert f"{suites}/source.yaml:" in got.stderr
    # A type ccc knows but the Spark path does not implement is refused, never skipped.
    regex = (
        "      - id: x\n        expectation: expect_column_values_to_match_regex\n"
        "        column: cityCode\n        regex: '^[A-Z]+$'\n"
    )
    (suites / "source.yaml").write_text(
        text.replace("  orders:\n    expectations:\n", "  orders:\n    expectations:\n" + regex)
    )
    got = run_job(spark, str(source), str(tmp_path / "spark"), "--expectations", str(suites), "-q")
    assert got.code == 2
    assert "expect_column_values_to_match_regex is not implemented on the Spark path" in got.stderr
    (suites / "source.yaml").write_text(text.replace("column: cityCode", "column: cityKode", 1))
    got = run_job(spark, str(source), str(tmp_path / "spark"), "--expectations", str(suites), "-q")
    assert (got.code, got.stderr.endswith("table `orders` has no column `cityKode`")) == (2, True), got.stderr


def test_a_folder_that_is_not_an_output_is_not_replaced(spark: Any, tmp_path: Path) -> None:
    source = generate(tmp_path / "source", orders=5, seed=1)
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "precious.txt").write_text("keep me")
    got = run_job(spark, str(source), str(dest), "-q")
    assert got.code == 2
    assert "precious.txt" in got.stderr
    assert sorted(os.listdir(dest)) == ["precious.txt"]


def test_the_application_exits_with_the_code(tmp_path: Path) -> None:
    """The real entry point, as spark-submit runs it: exit code 3 and the file named."""
    source = sources(tmp_path, *BAD_FILES["binary-parquet"])
    env = dict(os.environ, PYSPARK_PYTHON=sys.executable, SPARK_LOCAL_IP="127.0.0.1")
    done = subprocess.run(
        [sys.executable, str(SPARK_DIR / "application.py"), str(source), str(tmp_path / "out"), "-q"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert done.returncode == 3, done.stderr[-2000:]
    assert f"error: {source}/customer_courier_chat_messages.parquet: not a readable Parquet file" in done.stderr
    usage = subprocess.run(
        [sys.executable, str(SPARK_DIR / "application.py"), "--checks", "maybe"], capture_output=True
    )
    assert usage.returncode == 2


def test_an_output_that_cannot_be_written_exits_3(spark: Any, tmp_path: Path) -> None:
    source = generate(tmp_path / "source", orders=5, seed=2)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the output's parent folder belongs")
    want = ccc("run", "-q", "--source", str(source), "--out", str(blocker / "out"))
    got = run_job(spark, str(source), str(blocker / "out"), "-q")
    assert (want.code, got.code) == (3, 3), (want.stderr, got.stderr)
    assert str(blocker) in got.stderr and "nothing was published" in got.stderr
    assert blocker.read_text().startswith("a file")


def test_sigterm_while_publishing_leaves_the_previous_output(spark: Any, tmp_path: Path) -> None:
    import signal
    import time

    from conftest import tree

    first = generate(tmp_path / "first", orders=30, seed=3)
    second = generate(tmp_path / "second", orders=1000, seed=4)
    dest = tmp_path / "dest"
    assert run_job(spark, str(first), str(dest), "-q").code == 0
    before = {name: path.read_bytes() for name, path in tree(dest).items()}
    env = dict(os.environ, PYSPARK_PYTHON=sys.executable, SPARK_LOCAL_IP="127.0.0.1")
    job = subprocess.Popen(
        # Checks off: what is under test is the publish, and the job gets there sooner.
        [sys.executable, str(SPARK_DIR / "application.py"), str(second), str(dest), "--checks", "off", "-q"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and job.poll() is None:
        if list(tmp_path.glob(".dest.ccc-staging-*")):
            break
        time.sleep(0.02)
    assert job.poll() is None, "the job ended before it started publishing"
    job.send_signal(signal.SIGTERM)
    code = job.wait(timeout=120)
    assert code == 143, job.stderr.read().decode()[-3000:]
    assert {name: path.read_bytes() for name, path in tree(dest).items()} == before
    assert not list(tmp_path.glob(".dest.ccc-staging-*"))
