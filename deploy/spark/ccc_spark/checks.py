"""A suite run as Spark aggregations, with ccc's counting rules (docs/expectations.md).

Every row-local expectation of a table becomes two conditional sums (missing,
unexpected) in one `agg` over the table: one pass for all of them. Whole-column ones
(unique, in another table, functionally dependent) are a group-by or an anti-join
each. Examples of unexpected values (up to 20, in row order, with file and record) are
fetched only for the expectations that found some. Results are ccc's JSON, field for
field.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from math import ceil, floor
from typing import Any

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from ccc_spark import schema as s
from ccc_spark.suites import Expectation, Suite
from ccc_spark.text import report_text_of
from ccc_spark.values import BOOLEAN, INTEGER, STRING, TIMESTAMP, parse_timestamp

EXAMPLES = 20
MAX_VALUE_BYTES = 120


@dataclass
class Table:
    """A table a suite runs on: its rows, column types, and how rows are located."""

    name: str
    df: DataFrame
    columns: dict[str, str]
    with_problems: bool
    row_order: list[Column]
    location_columns: list[Column]
    location: Callable[[Any], dict[str, Any]]


@dataclass
class RowCheck:
    """A row-local expectation as two conditions and the value shown for a row."""

    missing: Column
    unexpected: Column
    value: Column
    over_all_rows: bool = False


def _problem(t: Table, column: str) -> tuple[Column, Column]:
    """(a value was there but did not fit, ... and its raw text was not empty)."""
    if not t.with_problems:
        return F.lit(False), F.lit(False)
    raw = F.col(s.raw_column(column))
    return raw.isNotNull(), raw.isNotNull() & (F.length(raw) > 0)


def _raw(t: Table, column: str) -> Column:
    return F.col(s.raw_column(column)) if t.with_problems else F.lit(None).cast("string")


_TEXT_AS = {
    INTEGER: r"^[+-]?[0-9]+$",
    "numeric": r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$",
    BOOLEAN: r"^(?i)(true|false)$",
}


def _bound(value: Any, kind: str) -> Any:
    if kind == TIMESTAMP and isinstance(value, str):
        micros = parse_timestamp(value)
        if not isinstance(micros, int):
            raise ValueError(f"{value!r} is not an RFC 3339 timestamp")
        return Decimal(micros)
    return Decimal(str(value))


def _between(c: Column, kind: str, p: dict[str, Any]) -> Column:
    """Within bounds, compared exactly: integer bounds are rounded inward."""
    v = F.unix_micros(c) if kind == TIMESTAMP else c
    ok = F.lit(True)
    if p.get("min_value") is not None:
        b = _bound(p["min_value"], kind)
        low = floor(b) + 1 if p.get("strict_min") and b == floor(b) else ceil(b)
        ok = ok & (v >= F.lit(int(low)))
    if p.get("max_value") is not None:
        b = _bound(p["max_value"], kind)
        high = ceil(b) - 1 if p.get("strict_max") and b == ceil(b) else floor(b)
        ok = ok & (v <= F.lit(int(high)))
    return ok


def _set_values(values: list[Any], kind: str) -> list[Any]:
    out: list[Any] = []
    for v in values:
        if kind == STRING:
            out.append(("true" if v else "false") if isinstance(v, bool) else str(v))
        elif kind == INTEGER:
            out.append(int(Decimal(str(v))))
        elif kind == TIMESTAMP:
            micros = parse_timestamp(str(v))
            if isinstance(micros, int):
                out.append(micros)
        else:
            out.append(bool(v) if isinstance(v, bool) else str(v).lower() == "true")
    return out


def row_check(t: Table, e: Expectation) -> RowCheck | None:
    """The conditions of a row-local expectation; None for the others."""
    p = e.params
    name = e.expectation
    if name == "expect_column_pair_values_a_to_be_greater_than_b":
        a, b = F.col(p["column_A"]), F.col(p["column_B"])
        kind = t.columns[p["column_A"]]
        ignore = p.get("ignore_row_if", "either_value_is_missing")
        if ignore == "either_value_is_missing":
            missing = a.isNull() | b.isNull()
        elif ignore == "both_values_are_missing":
            missing = a.isNull() & b.isNull()
        else:
            missing = F.lit(False)
        holds = (a >= b) if p.get("or_equal") else (a > b)
        unexpected = ~missing & (a.isNull() | b.isNull() | ~holds)
        value = F.concat(
            F.lit(f"{p['column_A']}="),
            F.coalesce(report_text_of(a, kind), F.lit("null")),
            F.lit(f", {p['column_B']}="),
            F.coalesce(report_text_of(b, t.columns[p["column_B"]]), F.lit("null")),
        )
        return RowCheck(missing, unexpected, value)
    if "column" not in p or name in (
        "expect_column_values_to_be_unique",
        "expect_column_values_to_be_in_other_table",
    ):
        return None
    column = p["column"]
    kind = t.columns[column]
    c = F.col(column)
    problem, problem_with_text = _problem(t, column)
    raw = _raw(t, column)
    if name == "expect_column_values_to_not_be_null":
        missing = c.isNull() & ~problem
        return RowCheck(missing, missing, F.lit(None).cast("string"), over_all_rows=True)
    if name == "expect_column_values_to_be_of_type":
        wanted = p["type_"]
        own = wanted == kind or (wanted == "numeric" and kind == INTEGER)
        if own:
            unexpected = problem_with_text
        elif kind == STRING and wanted in _TEXT_AS:
            unexpected = problem_with_text | (c.isNotNull() & ~c.rlike(_TEXT_AS[wanted]))
        else:
            unexpected = problem_with_text | c.isNotNull()
        return RowCheck(c.isNull() & ~problem_with_text, unexpected, F.coalesce(report_text_of(c, kind), raw))
    if name == "expect_column_value_lengths_to_be_between":
        length = F.when(c.isNotNull(), F.length(report_text_of(c, kind))).otherwise(F.length(raw))
        missing = c.isNull() & ~problem
        ok = F.lit(True)
        if p.get("min_value") is not None:
            ok = ok & (length >= F.lit(int(p["min_value"])))
        if p.get("max_value") is not None:
            ok = ok & (length <= F.lit(int(p["max_value"])))
        return RowCheck(missing, ~missing & ~ok, F.coalesce(report_text_of(c, kind), raw))
    if name == "expect_column_values_to_be_in_set":
        values = _set_values(p["value_set"], kind)
        v = F.unix_micros(c) if kind == TIMESTAMP else c
        inside = v.isin(values) if values else F.lit(False)
        return RowCheck(c.isNull(), c.isNotNull() & ~inside, report_text_of(c, kind))
    if name == "expect_column_values_to_be_between":
        return RowCheck(c.isNull(), c.isNotNull() & ~_between(c, kind, p), report_text_of(c, kind))
    return None


@dataclass
class Tally:
    element_count: int
    missing_count: int
    unexpected_count: int
    over_all_rows: bool = False
    samples: list[dict[str, Any]] | None = None


def _example(t: Table, row: Any) -> dict[str, Any]:
    text = row["_value"]
    example: dict[str, Any] = {"value": text}
    if text is not None and len(text.encode("utf-8")) > MAX_VALUE_BYTES:
        cut = text.encode("utf-8")[:MAX_VALUE_BYTES].decode("utf-8", "ignore")
        example = {"value": cut + "…", "value_length": len(text.encode("utf-8"))}
    example["location"] = t.location(row)
    return example


def _samples(t: Table, rows: DataFrame, value: Column) -> list[dict[str, Any]]:
    """The first unexpected values of one expectation, in row order."""
    picked = rows.select(value.alias("_value"), *t.location_columns).orderBy(*t.row_order).limit(EXAMPLES)
    return [_example(t, row) for row in picked.collect()]


def _samples_of_many(t: Table, wanted: dict[str, RowCheck]) -> dict[str, list[dict[str, Any]]]:
    """The first unexpected values of several row-local expectations in one job: each
    unexpected (row, expectation) pair becomes a row, numbered in row order per
    expectation, and the first `EXAMPLES` of each are collected."""
    ids = list(wanted)
    pairs = F.array(
        *[
            F.when(check.unexpected, F.struct(F.lit(i).alias("e"), check.value.alias("v")))
            for i, check in enumerate(wanted.values())
        ]
    )
    any_unexpected = F.lit(False)
    for check in wanted.values():
        any_unexpected = any_unexpected | check.unexpected
    order = [c.alias(f"_o{i}") for i, c in enumerate(t.row_order)]
    exploded = (
        t.df.filter(any_unexpected)
        .select(F.explode(F.filter(pairs, lambda x: x.isNotNull())).alias("_pair"), *order, *t.location_columns)
        .select(F.col("_pair.e").alias("_e"), F.col("_pair.v").alias("_value"), "*")
    )
    rank = F.row_number().over(Window.partitionBy("_e").orderBy(*[f"_o{i}" for i in range(len(order))]))
    rows = exploded.withColumn("_rank", rank).filter(F.col("_rank") <= EXAMPLES).collect()
    rows.sort(key=lambda r: (r["_e"], r["_rank"]))
    out: dict[str, list[dict[str, Any]]] = {i: [] for i in ids}
    for row in rows:
        out[ids[row["_e"]]].append(_example(t, row))
    return out


def _percent(part: int, whole: int) -> float | None:
    return part * 100.0 / whole if whole > 0 else None


def _passes(e: Expectation, passed: int, checked: int) -> bool:
    if e.mostly is None:
        return checked - passed == 0
    ratio = Fraction(e.mostly)
    return passed * ratio.denominator >= ratio.numerator * checked


def _result(e: Expectation) -> dict[str, Any]:
    columns = e.columns
    result: dict[str, Any] = {"id": e.id, "table": e.table}
    if len(columns) == 1:
        result["column"] = columns[0]
    result.update(
        columns=columns,
        expectation=e.expectation,
        rule=e.rule,
        severity=e.severity,
        success=True,
    )
    if e.mostly_text is not None:
        result["mostly"] = e.mostly_text
    return result


def _finish(e: Expectation, tally: Tally) -> dict[str, Any]:
    result = _result(e)
    total = (
        tally.element_count
        if tally.over_all_rows
        else tally.element_count - min(tally.missing_count, tally.element_count)
    )
    unexpected = min(tally.unexpected_count, total)
    result["success"] = _passes(e, total - unexpected, total)
    result.update(
        element_count=tally.element_count,
        missing_count=tally.missing_count,
        missing_percent=_percent(tally.missing_count, tally.element_count),
        unexpected_count=tally.unexpected_count,
        unexpected_percent=_percent(tally.unexpected_count, total),
        unexpected_percent_total=_percent(tally.unexpected_count, tally.element_count),
        partial_unexpected=tally.samples or [],
    )
    return _with_meta(result, e)


def _with_meta(result: dict[str, Any], e: Expectation) -> dict[str, Any]:
    if e.meta is not None:
        result["meta"] = e.meta
    result["result_format"] = e.result_format
    if e.result_format == "BOOLEAN_ONLY":
        result["partial_unexpected"] = []
    return result


def _observed(
    e: Expectation,
    rows: int,
    success: bool,
    unexpected: int,
    observed: Any,
    values: list[str],
    skipped: str | None = None,
) -> dict[str, Any]:
    result = _result(e)
    result["success"] = success
    result.update(
        element_count=rows,
        missing_count=0,
        missing_percent=_percent(0, rows),
        unexpected_count=unexpected,
        unexpected_percent=None,
        unexpected_percent_total=None,
        partial_unexpected=[{"value": v} for v in values],
    )
    if observed is not None:
        result["observed_value"] = observed
    if skipped is not None:
        result["skipped"] = skipped
    return _with_meta(result, e)


def _table_level(e: Expectation, t: Table, rows: int, metrics: dict[str, int] | None) -> dict[str, Any]:
    p = e.params
    if e.expectation == "expect_table_row_count_to_be_between":
        low, high = p.get("min_value"), p.get("max_value")
        ok = (low is None or rows >= low) and (high is None or rows <= high)
        return _observed(e, rows, ok, 0, rows, [])
    if e.expectation == "expect_table_columns_to_match_set":
        actual = list(t.columns)
        expected = p["column_set"]
        missing = [c for c in expected if c not in actual]
        extra = [c for c in actual if c not in expected] if p.get("exact_match", True) else []
        values = [f"{c} (missing)" for c in missing] + [f"{c} (not expected)" for c in extra]
        observed = {"columns": actual, "missing": missing, "unexpected": extra}
        return _observed(e, rows, not missing and not extra, len(missing) + len(extra), observed, values)
    # expect_metric_values_to_reconcile
    if not metrics:
        return _observed(e, rows, True, 0, None, [], skipped="no run metrics were given")
    left, right = p["left"], p["right"]
    lsum = sum(metrics.get(n, 0) for n in left)
    rsum = sum(metrics.get(n, 0) for n in right)
    named = {n: metrics[n] for n in sorted(set(left + right)) if n in metrics}
    difference = lsum - rsum
    values = [] if difference == 0 else [f"{' + '.join(left)} = {lsum} but {' + '.join(right)} = {rsum}"]
    observed = {"left": lsum, "right": rsum, "difference": difference, "metrics": named}
    return _observed(e, rows, difference == 0, abs(difference), observed, values)


TABLE_LEVEL = {
    "expect_table_row_count_to_be_between",
    "expect_table_columns_to_match_set",
    "expect_metric_values_to_reconcile",
}


def run_suite(suite: Suite, tables: dict[str, Table], metrics: dict[str, int] | None = None) -> dict[str, Any]:
    """Every expectation of `suite` over `tables`: ccc's `SuiteResult` as a dict."""
    by_id: dict[str, dict[str, Any]] = {}
    for name, t in tables.items():
        mine = [e for e in suite.expectations if e.table == name]
        if not mine:
            continue
        checks = {e.id: row_check(t, e) for e in mine}
        sums = [F.count(F.lit(1)).alias("_rows")]
        for e in mine:
            check = checks[e.id]
            if check is not None:
                sums.append(F.sum(F.when(check.missing, 1).otherwise(0)).alias(f"m:{e.id}"))
                sums.append(F.sum(F.when(check.unexpected, 1).otherwise(0)).alias(f"u:{e.id}"))
            elif e.expectation not in TABLE_LEVEL:
                skip = _skipped_rows(t, e)
                sums.append(F.sum(F.when(skip, 1).otherwise(0)).alias(f"m:{e.id}"))
        totals = t.df.agg(*sums).collect()[0].asDict()
        rows = int(totals["_rows"])
        failing = {e.id: c for e in mine if (c := checks[e.id]) is not None and totals[f"u:{e.id}"]}
        samples = _samples_of_many(t, failing) if failing else {}
        for e in mine:
            check = checks[e.id]
            if e.expectation in TABLE_LEVEL:
                by_id[e.id] = _table_level(e, t, rows, metrics)
                continue
            missing = int(totals[f"m:{e.id}"] or 0)
            if check is not None:
                unexpected = int(totals[f"u:{e.id}"] or 0)
                tally = Tally(rows, missing, unexpected, check.over_all_rows, samples.get(e.id))
            else:
                tally = _whole_column(t, e, tables, rows, missing)
            by_id[e.id] = _finish(e, tally)
    results = [by_id[e.id] for e in suite.expectations if e.id in by_id]
    return summarize(suite, results)


def _skipped_rows(t: Table, e: Expectation) -> Column:
    p = e.params
    if e.expectation == "expect_column_pair_values_to_be_functionally_dependent":
        return F.col(p["column_A"]).isNull() | F.col(p["column_B"]).isNull()
    return F.col(p["column"]).isNull()


def _whole_column(t: Table, e: Expectation, tables: dict[str, Table], rows: int, missing: int) -> Tally:
    p = e.params
    if e.expectation == "expect_column_values_to_be_unique":
        c = p["column"]
        repeated = t.df.filter(F.col(c).isNotNull()).groupBy(c).count().filter(F.col("count") > 1)
        unexpected = int(repeated.agg(F.sum("count")).collect()[0][0] or 0)
        bad = t.df.join(F.broadcast(repeated.select(c)), on=c, how="left_semi") if unexpected else None
        value = report_text_of(F.col(c), t.columns[c])
    elif e.expectation == "expect_column_values_to_be_in_other_table":
        c, other = p["column"], tables[p["other_table"]]
        keys = (
            other.df.filter(F.col(p["other_column"]).isNotNull())
            .select(F.col(p["other_column"]).alias("_key"))
            .distinct()
        )
        bad = t.df.filter(F.col(c).isNotNull()).join(keys, F.col(c) == F.col("_key"), "left_anti")
        unexpected = bad.count()
        value = report_text_of(F.col(c), t.columns[c])
    else:  # expect_column_pair_values_to_be_functionally_dependent
        a, b = p["column_A"], p["column_B"]
        both = t.df.filter(F.col(a).isNotNull() & F.col(b).isNotNull())
        groups = both.groupBy(a).agg(F.countDistinct(b).alias("_b"), F.count(F.lit(1)).alias("_n"))
        split = groups.filter(F.col("_b") > 1)
        unexpected = int(split.agg(F.sum("_n")).collect()[0][0] or 0)
        bad = both.join(split.select(a), on=a, how="left_semi") if unexpected else None
        value = F.concat(
            F.lit(f"{a}="),
            report_text_of(F.col(a), t.columns[a]),
            F.lit(f", {b}="),
            report_text_of(F.col(b), t.columns[b]),
        )
    tally = Tally(rows, missing, unexpected)
    if unexpected and bad is not None:
        tally.samples = _samples(t, bad, value)
    return tally


def summarize(suite: Suite, results: list[dict[str, Any]]) -> dict[str, Any]:
    """The suite result with ccc's statistics."""
    failed = [r for r in results if not r["success"]]
    errors = sum(1 for r in failed if r["severity"] == "error")
    evaluated = len(results)
    successful = evaluated - len(failed)
    return {
        "suite": suite.name,
        "origin": suite.origin(),
        "success": errors == 0,
        "results": results,
        "statistics": {
            "evaluated_expectations": evaluated,
            "successful_expectations": successful,
            "unsuccessful_expectations": len(failed),
            "failed_errors": errors,
            "failed_warnings": len(failed) - errors,
            "skipped_expectations": sum(1 for r in results if "skipped" in r),
            "success_percent": _percent(successful, evaluated),
        },
    }
