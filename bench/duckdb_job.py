"""DuckDB reference job for `make bench`: customer_courier_conversations in SQL.

    bench/.venv/bin/python bench/duckdb_job.py SRC OUT FORMAT [--threads N]

Reads the same source files `ccc run` reads (SRC/customer_courier_chat_messages*.EXT and
SRC/orders*.EXT, FORMAT = parquet or ndjson), computes the table with the semantics pinned
in the brief, and writes it to OUT as Parquet, Hive-partitioned by conversation_date.
Prints one JSON line on stdout: {"query_s": ..., "rows": ...}; query_s is the time of the
COPY statement alone (no interpreter start, no `import duckdb`).

It runs as its own process so that bench/run.py can measure its wall time and peak RSS
exactly the way it measures `ccc run`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import duckdb

MESSAGES = "customer_courier_chat_messages"
ORDERS = "orders"

# Column types of the sources, as the brief defines them. messageSentTime is read straight
# as TIMESTAMPTZ: DuckDB parses RFC 3339 with `Z` or `±hh:mm` and a fraction.
MESSAGE_COLUMNS = {
    "senderAppType": "VARCHAR",
    "customerId": "BIGINT",
    "fromId": "BIGINT",
    "toId": "BIGINT",
    "chatStartedByMessage": "BOOLEAN",
    "orderId": "BIGINT",
    "orderStage": "VARCHAR",
    "courierId": "BIGINT",
    "messageSentTime": "TIMESTAMPTZ",
}
ORDER_COLUMNS = {"orderId": "BIGINT", "cityCode": "VARCHAR"}


def _sql_str(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _columns(cols: dict[str, str]) -> str:
    return "{" + ", ".join(f"{_sql_str(k)}: {_sql_str(v)}" for k, v in cols.items()) + "}"


def source(src: str, table: str, fmt: str) -> str:
    """A table function reading every file of one source table."""
    if fmt == "parquet":
        return f"read_parquet({_sql_str(os.path.join(src, table + '*.parquet'))})"
    if fmt == "ndjson":
        cols = MESSAGE_COLUMNS if table == MESSAGES else ORDER_COLUMNS
        return (
            f"read_json({_sql_str(os.path.join(src, table + '*.ndjson'))}, "
            f"format='newline_delimited', columns={_columns(cols)})"
        )
    raise SystemExit(f"unsupported format {fmt!r} (parquet or ndjson)")


def conversations_sql(src: str, fmt: str) -> str:
    """SELECT producing customer_courier_conversations plus conversation_date.

    Semantics (docs/performance.md and the brief, "The output table"):
    - role = lower(first word of senderAppType) in (courier, customer); a message without
      orderId, messageSentTime or role is unusable and left out;
    - orders deduplicated per orderId, smallest cityCode; inner join (orphans left out);
    - one total order over an order's messages: messageSentTime, chatStartedByMessage true
      first (null counts as false), courier before customer, fromId nulls first,
      orderStage nulls first; first = min, last = max of that key. Every field of the key
      is made non-null (DuckDB orders NULL struct fields last), so min/max of the struct is
      exactly that order, and the first/last message's time, role and stage are read from it;
    - delay = whole seconds (truncated toward zero) from the first message to the other
      role's first message; null when the other role never wrote.
    """
    messages = source(src, MESSAGES, fmt)
    orders = source(src, ORDERS, fmt)
    return f"""
WITH m AS (
    SELECT
        orderId AS order_id,
        CAST(messageSentTime AS TIMESTAMPTZ) AS t,
        lower(split_part(senderAppType, ' ', 1)) AS role,
        {{
            't': CAST(messageSentTime AS TIMESTAMPTZ),
            'not_started': NOT coalesce(chatStartedByMessage, false),
            'role': lower(split_part(senderAppType, ' ', 1)),
            'from_known': fromId IS NOT NULL,
            'from_id': coalesce(fromId, 0),
            'stage_known': orderStage IS NOT NULL,
            'stage': coalesce(orderStage, '')
        }} AS k
    FROM {messages}
    WHERE orderId IS NOT NULL
      AND messageSentTime IS NOT NULL
      AND lower(split_part(senderAppType, ' ', 1)) IN ('courier', 'customer')
),
o AS (
    SELECT orderId AS order_id, min(cityCode) AS city_code
    FROM {orders}
    WHERE orderId IS NOT NULL AND cityCode IS NOT NULL
    GROUP BY orderId
),
a AS (
    SELECT
        order_id,
        min(t) FILTER (WHERE role = 'courier') AS first_courier_message,
        min(t) FILTER (WHERE role = 'customer') AS first_customer_message,
        count(*) FILTER (WHERE role = 'courier') AS num_messages_courier,
        count(*) FILTER (WHERE role = 'customer') AS num_messages_customer,
        min(k) AS first_k,
        max(k) AS last_k
    FROM m
    GROUP BY order_id
),
r AS (
    SELECT
        a.order_id,
        o.city_code,
        a.first_courier_message,
        a.first_customer_message,
        a.num_messages_courier,
        a.num_messages_customer,
        a.first_k.role AS first_message_by,
        a.first_k.t AS conversation_started_at,
        CASE a.first_k.role
            WHEN 'courier' THEN a.first_customer_message
            ELSE a.first_courier_message
        END AS other_first,
        a.last_k.t AS last_message_time,
        a.last_k.stage AS last_message_order_stage,
        a.last_k.stage_known AS last_stage_known
    FROM a JOIN o USING (order_id)
)
SELECT
    order_id,
    city_code,
    first_courier_message,
    first_customer_message,
    num_messages_courier,
    num_messages_customer,
    first_message_by,
    conversation_started_at,
    CAST((epoch_us(other_first) - epoch_us(conversation_started_at)) // 1000000 AS BIGINT)
        AS first_responsetime_delay_seconds,
    last_message_time,
    CASE WHEN last_stage_known THEN last_message_order_stage END AS last_message_order_stage,
    CAST(conversation_started_at AS DATE) AS conversation_date
FROM r
"""


def connect(threads: int) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")  # naive timestamps are UTC; dates are UTC dates
    con.execute(f"SET threads = {int(threads)}")
    # The output needs no particular row order (ccc sorts by order_id itself, DuckDB does not
    # have to): DuckDB's documented setting for large COPYs, a little faster and leaner.
    con.execute("SET preserve_insertion_order = false")
    return con


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("src")
    p.add_argument("out")
    p.add_argument("format", choices=["parquet", "ndjson"])
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    p.add_argument("--print-sql", action="store_true", help="print the SQL and exit")
    args = p.parse_args(argv)

    query = conversations_sql(args.src, args.format)
    if args.print_sql:
        print(query)
        return 0
    if os.path.exists(args.out):
        raise SystemExit(f"{args.out} exists; bench/run.py removes it before each run")

    con = connect(args.threads)
    start = time.perf_counter()
    rows = con.execute(
        f"COPY ({query}) TO {_sql_str(args.out)} "
        "(FORMAT PARQUET, PARTITION_BY (conversation_date))"
    ).fetchone()[0]
    query_s = time.perf_counter() - start
    print(json.dumps({"query_s": query_s, "rows": rows, "duckdb_version": duckdb.__version__}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
