"""Values as ccc writes them as text — in CSV files, the quarantine and reports —
as Spark column expressions: RFC 3339 instants, decimal integers, `true`/`false`,
and CSV fields quoted only where the Rust `csv` crate quotes them."""

from __future__ import annotations

from collections.abc import Callable

from pyspark.sql import Column
from pyspark.sql import functions as F

from ccc_spark.values import BOOLEAN, STRING, TIMESTAMP


def _instant(c: Column, fraction_digits: Callable[[Column], Column]) -> Column:
    """`YYYY-MM-DDTHH:MM:SS`, then `.` and the fraction's digits when it is not zero, then
    `Z` (the session time zone is UTC)."""
    fraction = F.pmod(F.unix_micros(c), F.lit(1_000_000))
    return F.when(c.isNull(), F.lit(None)).otherwise(
        F.concat(
            F.date_format(c, "yyyy-MM-dd'T'HH:mm:ss"),
            F.when(fraction == 0, F.lit("")).otherwise(F.concat(F.lit("."), fraction_digits(fraction))),
            F.lit("Z"),
        )
    )


def rfc3339(c: Column) -> Column:
    """An instant as ccc writes it in files: the fraction without trailing zeros."""
    return _instant(c, lambda micros: F.regexp_replace(F.lpad(micros.cast("string"), 6, "0"), "0+$", ""))


def report_instant(c: Column) -> Column:
    """An instant as ccc's reports show it (and measure it, for length checks): 3 fraction
    digits for whole milliseconds, 6 otherwise."""
    return _instant(
        c,
        lambda micros: F.when(
            micros % 1000 == 0, F.lpad((micros / 1000).cast("long").cast("string"), 3, "0")
        ).otherwise(F.lpad(micros.cast("string"), 6, "0")),
    )


def report_text_of(c: Column, kind: str) -> Column:
    """A value as ccc's reports show it: as `text_of`, but instants as `report_instant`."""
    return report_instant(c) if kind == TIMESTAMP else text_of(c, kind)


def text_of(c: Column, kind: str) -> Column:
    """A value as ccc writes it in its files (CSV, quarantine): text as is, numbers in
    decimal, booleans `true`/`false`, instants in RFC 3339 (`rfc3339`)."""
    if kind == STRING:
        return c
    if kind == TIMESTAMP:
        return rfc3339(c)
    if kind == BOOLEAN:
        return F.when(c, F.lit("true")).when(~c, F.lit("false"))
    return c.cast("string")


def csv_field(c: Column, kind: str) -> Column:
    """A value as a CSV field: empty for null, quoted (quotes doubled) when it holds a
    comma, a quote, CR or LF — the `csv` crate's `QuoteStyle::Necessary`."""
    text = F.coalesce(text_of(c, kind), F.lit(""))
    if kind != STRING:
        return text
    return quoted(text)


def quoted(text: Column) -> Column:
    """Text as a CSV field, quoted where needed."""
    needs = text.rlike('[,"\\r\\n]')
    return F.when(needs, F.concat(F.lit('"'), F.regexp_replace(text, '"', '""'), F.lit('"'))).otherwise(text)


def csv_line(fields: list[Column]) -> Column:
    """Fields joined into one CSV line (without its line break)."""
    return F.concat_ws(",", *fields)
