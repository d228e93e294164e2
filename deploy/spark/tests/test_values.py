"""Unit tests of the value rules the parsers share (no Spark): ccc's words for each
problem, chrono's RFC 3339, Rust's integers and float text."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ccc_spark import JOB_VERSION
from ccc_spark.values import (
    Problem,
    format_timestamp,
    parse_boolean,
    parse_integer,
    parse_timestamp,
    rust_float_text,
)

BASE = 1_706_781_600_000_000  # 2024-02-01T10:00:00Z


@pytest.mark.parametrize(
    "text,micros",
    [
        ("2024-02-01T10:00:00Z", BASE),
        ("2024-02-01T11:00:00+01:00", BASE),
        ("2024-02-01T10:00:00.25Z", BASE + 250_000),
        ("2024-02-01t10:00:00.0000019z", BASE + 1),
        ("2024-02-01 09:30:00\u221200:30", BASE),
        ("2024-02-01T09:59:60Z", BASE),
        ("0000-12-31T23:30:00-01:00", -62_135_596_800_000_000 + 1_800_000_000),
    ],
)
def test_timestamps_chrono_accepts(text: str, micros: int) -> None:
    assert parse_timestamp(text) == micros


@pytest.mark.parametrize(
    "text,kind",
    [
        ("2024-02-01T10:00:00", "not a valid timestamp"),
        ("2024-02-30T10:00:00Z", "not a valid timestamp"),
        ("2024-02-01T24:00:00Z", "not a valid timestamp"),
        ("2024-02-01T10:00:00+24:00", "not a valid timestamp"),
        ("2024-02-01T10:00:00.Z", "not a valid timestamp"),
        ("1706781600", "not a valid timestamp"),
        ("0000-06-01T00:00:00Z", "a timestamp outside the years 0001-9999"),
    ],
)
def test_timestamps_chrono_refuses(text: str, kind: str) -> None:
    assert parse_timestamp(text) == Problem(kind, text)


def test_instants_are_written_as_ccc_writes_them() -> None:
    assert format_timestamp(BASE) == "2024-02-01T10:00:00Z"
    assert format_timestamp(BASE + 250_000) == "2024-02-01T10:00:00.25Z"
    assert format_timestamp(-62_135_596_800_000_000) == "0001-01-01T00:00:00Z"
    assert format_timestamp(-1) == "1969-12-31T23:59:59.999999Z"


def test_integers_and_booleans_as_rust_parses_them() -> None:
    assert parse_integer("+42") == 42
    assert parse_integer("-9223372036854775808") == -(2**63)
    assert parse_integer("9223372036854775808") == Problem("out of the 64-bit integer range", "9223372036854775808")
    assert parse_integer("+9223372036854775808") == Problem("not a valid integer", "+9223372036854775808")
    assert parse_integer(" 1") == Problem("not a valid integer", " 1")
    assert parse_integer("١٢") == Problem("not a valid integer", "١٢")
    assert parse_boolean("TRUE") is True and parse_boolean("fAlSe") is False
    assert parse_boolean("yes") == Problem("not a valid boolean", "yes")


def test_float_text_is_rusts_display() -> None:
    assert [rust_float_text(v) for v in (1.5, 1.0, 1e3, 1e21, 1e-7, 1e20)] == [
        "1.5",
        "1",
        "1000",
        "1000000000000000000000",
        "0.0000001",
        "100000000000000000000",
    ]


def test_the_job_claims_the_workspace_version() -> None:
    cargo = (Path(__file__).resolve().parents[3] / "Cargo.toml").read_text()
    version = re.search(r'^version = "([^"]+)"', cargo, re.M)
    assert version is not None and version.group(1) == JOB_VERSION
