"""Hand-written sources for what generated data rarely holds: ties on every key of the
total order, values at the edges of their types, JSON, CSV and Parquet oddities. ccc
and the Spark job must still agree on every byte and count."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from conftest import assert_same_output, ccc, run_job

T0 = "2024-03-01T10:00:00Z"


def message(order: int, time: str = T0, sender: str = "Courier iOS", **fields: Any) -> dict[str, Any]:
    record = {
        "senderAppType": sender,
        "customerId": 1,
        "fromId": 10,
        "toId": 20,
        "chatStartedByMessage": False,
        "orderId": order,
        "orderStage": "ACCEPTED",
        "courierId": 20,
        "messageSentTime": time,
    }
    record.update(fields)
    return record


# Order 1: five messages at the same instant, differing only in the later keys.
TIES = [
    message(1, sender="Customer iOS", fromId=5, orderStage="DELIVERED"),
    message(1, sender="Courier Android", fromId=None, orderStage="PICKED_UP"),
    message(1, sender="Courier iOS", fromId=3, orderStage=None),
    message(1, sender="Courier iOS", fromId=3, orderStage="ARRIVED"),
    message(1, sender="Customer Android", fromId=1, chatStartedByMessage=True, orderStage="ON_ROUTE"),
]
# Order 2: the first and the last message tie on time; the role and the stage decide.
LAST_TIES = [
    message(2, "2024-03-01T09:00:00Z", "customer web", chatStartedByMessage=True),
    message(2, "2024-03-01T11:00:00.999999Z", "Courier iOS", orderStage="DELIVERED"),
    message(2, "2024-03-01T11:00:00.999999Z", "Customer iOS", orderStage="CANCELLED"),
    message(2, "2024-03-01T11:00:00.999999Z", "Customer iOS", fromId=99, orderStage="ARRIVED"),
]
# Times in every spelling RFC 3339 allows, and a delay to truncate (2.9 s -> 2).
TIMES = [
    message(3, "2024-03-01T11:00:00+01:00", "COURIER android"),
    message(3, "2024-03-01t10:00:02.9z", "  Customer   iOS"),
    message(3, "2024-03-01 10:00:05.1234567Z", "Customer iOS"),
    message(3, "2024-03-01T09:59:60Z", "Courier iOS"),
    message(3, "2024-03-01T12:30:00\u221202:30", "Courier iOS"),
    message(4, "0000-12-31T23:30:00-01:00", "Courier iOS"),
    message(4, "9999-12-31T23:59:59.9999999Z", "Customer iOS"),
]
# Values that do not fit their fields, each recorded with its raw text.
MISFITS = [
    message(5, fromId=9223372036854775808),
    message(5, fromId=-9223372036854775809),
    message(5, toId=1.0, customerId=1e3, courierId=-0.0),
    message(5, fromId=-0, toId=18446744073709551616),
    message(5, customerId="123", chatStartedByMessage="true"),
    message(5, orderStage={"a": 1}, senderAppType=["Courier"]),
    message(5, chatStartedByMessage=1),
    message(5, orderId=5.5),
    message(5, messageSentTime="2024-02-30T10:00:00Z"),
    message(5, messageSentTime="0000-01-01T00:00:00Z"),
    message(5, messageSentTime="2024-03-01T10:00:00+24:00"),
    message(5, sender="Couriers iOS"),
    message(5, sender=""),
    message(6, orderStage='has, a "quote"\nand a line break'),
    message(7, sender="Robot Web"),
]


def write_sources(root: Path) -> Path:
    source = root / "source"
    source.mkdir()
    records: list[Any] = TIES + LAST_TIES + TIMES + MISFITS
    body = ",\n".join("  " + json.dumps(r, ensure_ascii=False) for r in records)
    # A repeated key (the first wins), an element that is not an object, non-ASCII text.
    body += (
        ',\n  {"orderId": 8, "orderId": 9, "senderAppType": "Courier iOS", "messageSentTime": "2024-03-02T00:00:00Z"}'
    )
    body += ',\n  7, "text", [1, 2], null,\n  '
    body += json.dumps(message(8, "2024-03-02T00:00:01Z", "Customer iOS", orderStage="ÉTAPE ✓"), ensure_ascii=False)
    (source / "customer_courier_chat_messages_1.json").write_text("[\n" + body + "\n]\n", encoding="utf-8")
    ndjson = [
        json.dumps(message(9, "2024-03-03T00:00:00Z")),
        "",
        "   ",
        json.dumps(message(9, "2024-03-03T00:00:01Z", "Customer iOS")) + "\r",
        json.dumps(message(404, "2024-03-03T00:00:02Z")),
    ]
    (source / "customer_courier_chat_messages_2.jsonl").write_text("\n".join(ndjson) + "\n")
    csv_rows = [
        "orderId,senderAppType,messageSentTime,chatStartedByMessage,fromId,orderStage,extra",
        '10,Courier iOS,2024-03-04T00:00:00Z,TRUE,1,"ON, ROUTE",x',
        '10,"Customer ""iOS""",2024-03-04T00:00:03Z,False,2,,y',
        "10,Customer iOS,2024-03-04T00:00:04Z,maybe,abc,ARRIVED,z",
        "",
        "+11,Courier iOS,2024-03-04T00:00:05Z,true,+3,DELIVERED,",
    ]
    (source / "customer_courier_chat_messages_3.csv").write_text("\ufeff" + "\r\n".join(csv_rows) + "\r\n")
    times = [dt.datetime(2024, 3, 5, 0, 0, s, tzinfo=dt.UTC) for s in range(4)]
    table = pa.table(
        {
            "orderId": pa.array([12, 12, 12, 13], pa.int32()),
            "senderAppType": pa.array(
                ["Courier iOS", "Customer iOS", "Customer iOS", "Courier iOS"]
            ).dictionary_encode(),
            "messageSentTime": pa.array(times, pa.timestamp("ms")),
            "fromId": pa.array([1, 2, 2**63 + 5, None], pa.uint64()),
            "courierId": pa.array([1.5, None, 2.0, 3.0], pa.float64()),
            "chatStartedByMessage": pa.array(["true", "FALSE", "no", None]),
            "orderStage": pa.array(["ACCEPTED", "", None, "FAILED"], pa.large_string()),
        }
    )
    pq.write_table(table, source / "customer_courier_chat_messages_4.parquet")
    nanos = pa.table(
        {
            "orderId": pa.array([13, 13]),
            "senderAppType": ["Customer iOS", "Courier iOS"],
            "messageSentTime": pa.array([1709596800123456789, 2**62], pa.timestamp("ns", tz="Europe/Madrid")),
        }
    )
    pq.write_table(nanos, source / "customer_courier_chat_messages_5.parquet")
    orders = [
        " orderId ,cityCode,orderId,note",
        "1,BCN,99,a",
        "2,MAD,,b",
        "2,MAD,,c",
        "3,LIS,,",
        "3,BCN,,conflict",
        "4,OPO,,",
        "5,MIL,,",
        "6,ROM,,",
        "7,PAR,,",
        "8,WAW,,",
        "9,BUH,,",
        '10,"IEV",,',
        "11,BCN,,",
        "12,MAD,,",
        "13,LIS,,",
        "14,,,",
        ",BCN,,",
        "x1,BCN,,",
    ]
    (source / "orders_1.csv").write_text("\ufeff" + "\n".join(orders) + "\n\n")
    (source / "orders_2.NDJSON").write_text('{"orderId": 12, "cityCode": "AAA"}\n{"orderId": "12", "cityCode": 5}\n')
    return source


def test_edge_cases_agree(spark: Any, tmp_path: Path) -> None:
    source = write_sources(tmp_path)
    want, got = tmp_path / "ccc", tmp_path / "spark"
    done = ccc("run", "-q", "--source", str(source), "--out", str(want), "--checks", "warn")
    assert done.code == 0, done.stderr
    assert run_job(spark, str(source), str(got), "--checks", "warn", "-q").code == 0
    assert_same_output(want, got)
    report = json.loads((got / "_run.json").read_text())
    assert report["orders"]["conflicting"] >= 2
    assert report["messages"]["field_problems"] > 10


def test_no_messages_at_all(spark: Any, tmp_path: Path) -> None:
    """An empty NDJSON file is a table with no rows: both publish an empty table (under
    --checks warn) with the same layout, counts and failed row-count check."""
    source = tmp_path / "source"
    source.mkdir()
    (source / "customer_courier_chat_messages.ndjson").write_text("")
    (source / "orders.csv").write_text("orderId,cityCode\n1,BCN\n")
    want, got = tmp_path / "ccc", tmp_path / "spark"
    assert ccc("run", "-q", "--source", str(source), "--out", str(want), "--checks", "warn").code == 0
    assert run_job(spark, str(source), str(got), "--checks", "warn", "-q").code == 0
    assert_same_output(want, got)
    assert json.loads((got / "_run.json").read_text())["conversations"] == 0
