"""The conversations table from the parsed sources, with ccc's pinned semantics
(docs/semantics.md): messages usable, unusable or orphan; orders deduplicated (the
smallest cityCode on conflict); and one total order over an order's messages.

The seed's job took `first()`/`last()` after an `orderBy`, which Spark does not keep
through a shuffle. Here the first and last message are the `min` and `max` of one
struct key — (time, chat started first, courier before customer, fromId, orderStage),
nulls first — so the answer is the same for every partitioning, file order and
thread count.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from ccc_spark import schema as s

COURIER = "courier"
CUSTOMER = "customer"
ORPHAN_REASON = "orphan: no order with this orderId"
NO_ROLE = "names no sender role (courier or customer)"
CONFLICT_EXAMPLES = 20

# Which failed expectation caught a fault, to name it in the quarantine's reason
# (ccc's `link_expectations`): (fault, expectation type).
NULL_FAULT = "expect_column_values_to_not_be_null"
INVALID_FAULT = "expect_column_values_to_be_of_type"
ROLE_FAULT = "expect_column_values_to_be_in_set"

Linker = Callable[[str, str, str], list[str]]


def no_links(table: str, column: str, expectation: str) -> list[str]:
    return []


@dataclass
class Built:
    """What the transform produced: the table, the quarantine, the counts."""

    table: DataFrame
    quarantine: dict[str, DataFrame]
    counts: dict[str, Any] = field(default_factory=dict)


def role(sender_app_type: Column) -> Column:
    """`courier` or `customer`: the first whitespace-separated word, in any case."""
    word = F.lower(F.regexp_extract(sender_app_type, r"(?U)^\s*(\S+)", 1))
    return F.when(word.isin(COURIER, CUSTOMER), word)


def _fault(column: str, table: str, links: Linker) -> tuple[Column, Column]:
    """The fault text of a null field (null, or the kind of the value that did not
    fit) and the failed expectations that caught it."""
    problem = F.col(s.kind_column(column))
    text = F.concat(F.lit(f"{column} is "), F.coalesce(problem, F.lit("null")))
    null_ids = ", ".join(links(table, column, NULL_FAULT))
    invalid_ids = ", ".join(links(table, column, INVALID_FAULT))
    ids = F.when(problem.isNull(), F.lit(null_ids or None)).otherwise(F.lit(invalid_ids or None))
    return text, ids


def _reason(faults: list[tuple[Column, Column]]) -> Column:
    texts = F.concat_ws("; ", *[t for t, _ in faults])
    ids = F.concat_ws(", ", *[i for _, i in faults])
    return F.concat(texts, F.when(ids != "", F.concat(F.lit(" [expectations: "), ids, F.lit("]"))).otherwise(""))


def _message_reason(links: Linker) -> Column:
    t = s.MESSAGES
    faults = []
    for column in (s.ORDER_ID, s.MESSAGE_SENT_TIME):
        text, ids = _fault(column, t, links)
        absent = F.col(column).isNull()
        faults.append((F.when(absent, text), F.when(absent, ids)))
    sender = F.col(s.SENDER_APP_TYPE)
    null_text, null_ids = _fault(s.SENDER_APP_TYPE, t, links)
    role_ids = ", ".join(links(t, s.SENDER_APP_TYPE, ROLE_FAULT)) or None
    no_role = F.col("_role").isNull()
    faults.append(
        (
            F.when(no_role & sender.isNotNull(), F.lit(f"{s.SENDER_APP_TYPE} {NO_ROLE}")).when(no_role, null_text),
            F.when(no_role & sender.isNotNull(), F.lit(role_ids)).when(no_role, null_ids),
        )
    )
    not_a_record = F.col(s.NOT_A_RECORD)
    faults.append((F.when(not_a_record, F.lit("record is not an object")), F.lit(None).cast("string")))
    return _reason(faults)


def _order_reason(links: Linker) -> Column:
    faults = []
    for column in (s.ORDER_ID, s.CITY_CODE):
        text, ids = _fault(column, s.ORDERS, links)
        absent = F.col(column).isNull()
        faults.append((F.when(absent, text), F.when(absent, ids)))
    return _reason(faults)


def _problem_count(df: DataFrame, table: str) -> Column:
    total = F.lit(0)
    for name, _ in s.SOURCE_COLUMNS[table]:
        total = total + F.when(F.col(s.raw_column(name)).isNotNull(), 1).otherwise(0)
    return F.sum(total + F.when(F.col(s.NOT_A_RECORD), 1).otherwise(0))


@dataclass
class TableCounts:
    read: int
    quarantined: int
    reasons: dict[str, int]
    problems: int


def _by_reason(rows: DataFrame, table: str) -> TableCounts:
    """Records read, quarantined by reason, and field problems, in one pass."""
    groups = rows.groupBy("_reason").agg(F.count(F.lit(1)).alias("n"), _problem_count(rows, table).alias("p")).collect()
    reasons = {g["_reason"]: g["n"] for g in groups if g["_reason"] is not None}
    return TableCounts(
        read=sum(g["n"] for g in groups),
        quarantined=sum(reasons.values()),
        reasons=dict(sorted(reasons.items())),
        problems=sum(g["p"] or 0 for g in groups),
    )


def build(messages: DataFrame, orders: DataFrame, links: Linker = no_links) -> Built:
    """The table, the quarantine and ccc's run counts."""
    counts: dict[str, Any] = {}
    # --- orders: usable, deduplicated, conflicts resolved to the smallest city ---
    order_ok = F.col(s.ORDER_ID).isNotNull() & F.col(s.CITY_CODE).isNotNull()
    bad_orders = orders.filter(~order_ok).withColumn("_reason", _order_reason(links))
    book = (
        orders.filter(order_ok)
        .groupBy(s.ORDER_ID)
        .agg(
            F.min(s.CITY_CODE).alias("city_code"),
            F.count(F.lit(1)).alias("_rows"),
            F.countDistinct(s.CITY_CODE).alias("_cities"),
        )
        .cache()
    )
    o = _by_reason(orders.withColumn("_reason", F.when(~order_ok, _order_reason(links))), s.ORDERS)
    b = book.agg(
        F.count(F.lit(1)).alias("distinct"),
        F.sum("_rows").alias("rows"),
        F.sum(F.when(F.col("_cities") > 1, 1).otherwise(0)).alias("conflicting"),
        F.slice(
            F.sort_array(F.collect_list(F.when(F.col("_cities") > 1, F.col(s.ORDER_ID)))), 1, CONFLICT_EXAMPLES
        ).alias("examples"),
    ).collect()[0]
    counts["orders"] = {
        "read": o.read,
        "distinct": b["distinct"],
        "duplicate_rows": (b["rows"] or 0) - b["distinct"],
        "conflicting": b["conflicting"] or 0,
        "conflicting_examples": list(b["examples"]),
        "quarantined": o.quarantined,
        "quarantined_by_reason": o.reasons,
        "field_problems": o.problems,
    }

    # --- messages: usable, unusable, orphan ---
    messages = messages.withColumn("_role", role(F.col(s.SENDER_APP_TYPE)))
    usable = F.col(s.ORDER_ID).isNotNull() & F.col(s.MESSAGE_SENT_TIME).isNotNull() & F.col("_role").isNotNull()
    unusable = messages.filter(~usable).withColumn("_reason", _message_reason(links))
    ok = messages.filter(usable)
    known = book.select(s.ORDER_ID)
    orphans = ok.join(known, on=s.ORDER_ID, how="left_anti").withColumn("_reason", F.lit(ORPHAN_REASON))
    kept = ok.join(known, on=s.ORDER_ID, how="left_semi")

    key = F.struct(
        F.unix_micros(F.col(s.MESSAGE_SENT_TIME)).alias("time"),
        F.when(F.col(s.CHAT_STARTED_BY_MESSAGE) == F.lit(True), 0).otherwise(1).alias("not_started"),
        F.when(F.col("_role") == COURIER, 0).otherwise(1).alias("role"),
        F.when(F.col(s.FROM_ID).isNull(), 0).otherwise(1).alias("has_from"),
        F.coalesce(F.col(s.FROM_ID), F.lit(0)).alias("from"),
        F.when(F.col(s.ORDER_STAGE).isNull(), 0).otherwise(1).alias("has_stage"),
        F.coalesce(F.col(s.ORDER_STAGE), F.lit("")).alias("stage"),
    )
    time_of = F.unix_micros(F.col(s.MESSAGE_SENT_TIME))
    grouped = kept.groupBy(s.ORDER_ID).agg(
        F.min(key).alias("_first"),
        F.max(key).alias("_last"),
        F.min(F.when(F.col("_role") == COURIER, time_of)).alias("_first_courier"),
        F.min(F.when(F.col("_role") == CUSTOMER, time_of)).alias("_first_customer"),
        F.sum(F.when(F.col("_role") == COURIER, 1).otherwise(0)).alias("_courier"),
        F.sum(F.when(F.col("_role") == CUSTOMER, 1).otherwise(0)).alias("_customer"),
    )
    first_time = F.col("_first.time")
    first_by = F.when(F.col("_first.role") == 0, F.lit(COURIER)).otherwise(F.lit(CUSTOMER))
    other = F.when(F.col("_first.role") == 0, F.col("_first_customer")).otherwise(F.col("_first_courier"))
    # coalesce with a literal makes Spark declare a column non-nullable, so that the
    # Parquet files mark it REQUIRED as ccc's do; the values are never null there.
    grouped = grouped.withColumn("_other", other)
    table = grouped.join(book.select(s.ORDER_ID, "city_code"), on=s.ORDER_ID).select(
        F.coalesce(F.col(s.ORDER_ID), F.lit(0)).alias("order_id"),
        F.coalesce(F.col("city_code"), F.lit("")).alias("city_code"),
        F.timestamp_micros(F.col("_first_courier")).alias("first_courier_message"),
        F.timestamp_micros(F.col("_first_customer")).alias("first_customer_message"),
        F.coalesce(F.col("_courier").cast("long"), F.lit(0)).alias("num_messages_courier"),
        F.coalesce(F.col("_customer").cast("long"), F.lit(0)).alias("num_messages_customer"),
        F.coalesce(first_by, F.lit(COURIER)).alias("first_message_by"),
        F.coalesce(F.timestamp_micros(first_time), F.timestamp_micros(F.lit(0))).alias("conversation_started_at"),
        # Integral `div`: the difference of two instants does not fit a double's 53 bits.
        F.when(other.isNotNull(), F.expr("(_other - _first.time) div 1000000")).alias(
            "first_responsetime_delay_seconds"
        ),
        F.coalesce(F.timestamp_micros(F.col("_last.time")), F.timestamp_micros(F.lit(0))).alias("last_message_time"),
        F.when(F.col("_last.has_stage") == 1, F.col("_last.stage")).alias("last_message_order_stage"),
    )
    table = table.withColumn("conversation_date", F.date_format(F.col("conversation_started_at"), "yyyy-MM-dd"))
    table = table.cache()

    m = _by_reason(messages.withColumn("_reason", F.when(~usable, _message_reason(links))), s.MESSAGES)
    # Aggregated and orphaned are counted, not derived, so that `reconciled` (and the
    # output suite's reconciliation) is a check rather than an identity.
    flagged = ok.join(known.withColumn("_known", F.lit(True)), on=s.ORDER_ID, how="left")
    orphan = F.col("_known").isNull()
    orphan_stats = flagged.agg(
        F.sum(F.when(orphan, 1).otherwise(0)).alias("n"),
        F.countDistinct(F.when(orphan, F.col(s.ORDER_ID))).alias("orders"),
        F.sum(F.when(orphan, 0).otherwise(1)).alias("aggregated"),
    ).collect()[0]
    days = (
        table.groupBy("conversation_date")
        .agg(
            F.count(F.lit(1)).alias("rows"),
            F.sum(F.col("num_messages_courier") + F.col("num_messages_customer")).alias("n"),
        )
        .orderBy("conversation_date")
        .collect()
    )
    aggregated = orphan_stats["aggregated"] or 0
    counts["messages"] = {
        "read": m.read,
        "aggregated": aggregated,
        "quarantined": m.quarantined,
        "orphaned": orphan_stats["n"] or 0,
        "orphan_orders": orphan_stats["orders"],
        "quarantined_by_reason": m.reasons,
        "field_problems": m.problems,
    }
    counts["conversations"] = sum(r["rows"] for r in days)
    counts["messages_in_table"] = sum(r["n"] for r in days)
    counts["partitions"] = [{"date": r["conversation_date"], "rows": r["rows"]} for r in days]
    counts["reconciled"] = m.read == aggregated + m.quarantined + (orphan_stats["n"] or 0)
    columns = [c for c in messages.columns if c != "_role"]
    quarantine = {
        s.MESSAGES: unusable.select(*columns, "_reason").unionByName(orphans.select(*columns, "_reason")),
        s.ORDERS: bad_orders,
    }
    return Built(table, quarantine, counts)


def output_metrics(counts: dict[str, Any]) -> dict[str, int]:
    """The run's counts as the output suite's metrics (ccc's `OutputMetrics`)."""
    m = counts["messages"]
    return {
        "messages_read": m["read"],
        "messages_aggregated": m["aggregated"],
        "messages_quarantined": m["quarantined"],
        "messages_orphaned": m["orphaned"],
        "orders_read": counts["orders"]["read"],
        "conversations": counts["conversations"],
        "messages_in_table": counts["messages_in_table"],
    }
