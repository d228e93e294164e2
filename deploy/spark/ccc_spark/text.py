"""Values as ccc writes them as text — in CSV files, the quarantine and reports —
as Spark column expressions: RFC 3339 instants, decimal integers, `true`/`false`,
and CSV fields quoted only where the Rust `csv` crate quotes them."""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F

from ccc_spark.values import BOOLEAN, STRING, TIMESTAMP


def rfc3339(c: Column) -> Column:
    """A timestamp column as ccc writes instants: RFC 3339 UTC, `Z`, the fraction only
    when non-zero and without trailing zeros (the session time zone is UTC)."""
    micros = F.unix_micros(c)
    fraction = F.pmod(micros, F.lit(1_000_000))
    digits = F.regexp_replace(F.lpad(fraction.cast("string"), 6, "0"), "0+$", "")
    return F.when(c.isNull(), F.lit(None)).otherwise(
        F.concat(
            F.date_format(c, "yyyy-MM-dd'T'HH:mm:ss"),
            F.when(fraction == 0, F.lit("")).otherwise(F.concat(F.lit("."), digits)),
            F.lit("Z"),
        )
    )


def report_instant(c: Column) -> Column:
    """A timestamp as ccc's reports show it (and measure it, for length checks): RFC 3339
    UTC with 3 fraction digits for whole milliseconds, 6 otherwise, none when zero."""
    micros = F.unix_micros(c)
    fraction = F.pmod(micros, F.lit(1_000_000))
    digits = F.when(fraction % 1000 == 0, F.lpad((fraction / 1000).cast("long").cast("string"), 3, "0")).otherwise(
        F.lpad(fraction.cast("string"), 6, "0")
    )
    return F.when(c.isNull(), F.lit(None)).otherwise(
        F.concat(
            F.date_format(c, "yyyy-MM-dd'T'HH:mm:ss"),
            F.when(fraction == 0, F.lit("")).otherwise(F.concat(F.lit("."), digits)),
            F.lit("Z"),
        )
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
