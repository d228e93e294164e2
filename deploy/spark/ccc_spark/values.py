"""One raw value into its field's type, by ccc's rules (docs/semantics.md, "Reading
sources"): what is an integer, a boolean, an RFC 3339 timestamp, and which problem a
value that does not fit is.

A value that does not fit becomes null and a `Problem` records its kind and raw text,
exactly as ccc's readers record a field problem; the text of each kind is ccc's.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import NamedTuple

STRING = "string"
INTEGER = "integer"
BOOLEAN = "boolean"
TIMESTAMP = "timestamp"

I64_MIN = -(2**63)
I64_MAX = 2**63 - 1
U64_MAX = 2**64 - 1

# 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999999Z: the years RFC 3339 writes.
MIN_MICROS = -62_135_596_800_000_000
MAX_MICROS = 253_402_300_799_999_999


class Problem(NamedTuple):
    """Why a present value became null, in ccc's words (`not a valid integer`, ...)."""

    kind: str
    raw: str


def wrong_type(expected: str, raw: str) -> Problem:
    return Problem(f"not a valid {expected}", raw)


OUT_OF_RANGE = "out of the 64-bit integer range"
TIMESTAMP_OUT_OF_RANGE = "a timestamp outside the years 0001-9999"
NOT_A_RECORD = "record is not an object"

_INTEGER = re.compile(r"[+-]?[0-9]+\Z", re.ASCII)
_DIGITS = re.compile(r"-?[0-9]+\Z", re.ASCII)


def parse_integer(text: str) -> int | Problem:
    """Rust's `i64::from_str`: an optional sign and ASCII digits, within 64 bits."""
    if _INTEGER.match(text):
        value = int(text)
        if I64_MIN <= value <= I64_MAX:
            return value
        if _DIGITS.match(text):
            return Problem(OUT_OF_RANGE, text)
    return wrong_type(INTEGER, text)


def parse_boolean(text: str) -> bool | Problem:
    """`true` / `false` in any (ASCII) case."""
    folded = text.encode("utf-8").lower()
    if folded == b"true":
        return True
    if folded == b"false":
        return False
    return wrong_type(BOOLEAN, text)


_RFC3339 = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2}):([0-9]{2})"
    r"(?:\.([0-9]+))?"
    r"(?:([Zz])|([+\-\u2212])([0-9]{2}):([0-9]{2}))\Z",
    re.ASCII,
)


def days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (any year, 0 included)."""
    year -= month <= 2
    era = year // 400
    yoe = year - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146_097 + doe - 719_468


def _days_in_month(year: int, month: int) -> int:
    if month == 2:
        leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
        return 29 if leap else 28
    return 30 if month in (4, 6, 9, 11) else 31


def parse_timestamp(text: str) -> int | Problem:
    """RFC 3339 as chrono's `parse_from_rfc3339` reads it, to UTC microseconds.

    A space or `t` may stand for `T`, `z` for `Z`; fraction digits past the ninth are
    ignored and past the sixth truncated; `:60` is a leap second (the next second);
    offsets run to ±23:59. Instants outside the years 0001-9999 are out of range.
    """
    m = _RFC3339.match(text)
    if m is None:
        return wrong_type(TIMESTAMP, text)
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    fraction, zulu, sign, off_h, off_m = m.groups()[6:]
    if not (1 <= month <= 12 and 1 <= day <= _days_in_month(year, month)):
        return wrong_type(TIMESTAMP, text)
    if hour > 23 or minute > 59 or second > 60:
        return wrong_type(TIMESTAMP, text)
    offset = 0
    if not zulu:
        hours, minutes = int(off_h), int(off_m)
        if minutes > 59 or hours > 23:
            return wrong_type(TIMESTAMP, text)
        offset = (hours * 3600 + minutes * 60) * (1 if sign == "+" else -1)
    nanos = int((fraction or "0")[:9].ljust(9, "0"))
    seconds = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset
    micros = seconds * 1_000_000 + nanos // 1000
    if not MIN_MICROS <= micros <= MAX_MICROS:
        return Problem(TIMESTAMP_OUT_OF_RANGE, text)
    return micros


def civil_from_days(days: int) -> tuple[int, int, int]:
    """The (year, month, day) of a day number (inverse of `days_from_civil`)."""
    days += 719_468
    era = days // 146_097
    doe = days - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + (3 if mp < 10 else -9)
    return yoe + era * 400 + (month <= 2), month, day


def format_timestamp(micros: int) -> str:
    """RFC 3339 UTC with `Z`, the fraction only when non-zero and without trailing
    zeros: ccc's one way of writing an instant (`2024-02-01T10:00:00.25Z`)."""
    seconds, fraction = divmod(micros, 1_000_000)
    days, clock = divmod(seconds, 86_400)
    year, month, day = civil_from_days(days)
    text = f"{year:04d}-{month:02d}-{day:02d}T" f"{clock // 3600:02d}:{clock // 60 % 60:02d}:{clock % 60:02d}"
    if fraction:
        text += "." + f"{fraction:06d}".rstrip("0")
    return text + "Z"


def rust_float_text(value: float) -> str:
    """A float as Rust's `Display` writes it (shortest digits, never an exponent):
    the raw text ccc records for a JSON number that does not fit."""
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "inf" if value > 0 else "-inf"
    text = format(Decimal(repr(value)), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "-0" if text == "-0" else text
