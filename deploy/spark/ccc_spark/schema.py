"""The tables of the job: the two sources and the output, their columns and types,
each name written once (the same as ccc's `ingest::schema` and `transform::schema`)."""

from __future__ import annotations

from ccc_spark.values import BOOLEAN, INTEGER, STRING, TIMESTAMP

MESSAGES = "customer_courier_chat_messages"
ORDERS = "orders"
CONVERSATIONS = "customer_courier_conversations"

SENDER_APP_TYPE = "senderAppType"
ORDER_ID = "orderId"
ORDER_STAGE = "orderStage"
MESSAGE_SENT_TIME = "messageSentTime"
CHAT_STARTED_BY_MESSAGE = "chatStartedByMessage"
FROM_ID = "fromId"
CITY_CODE = "cityCode"

# Column names and their logical types, in ccc's schema order.
SOURCE_COLUMNS: dict[str, list[tuple[str, str]]] = {
    MESSAGES: [
        (SENDER_APP_TYPE, STRING),
        ("customerId", INTEGER),
        (FROM_ID, INTEGER),
        ("toId", INTEGER),
        (CHAT_STARTED_BY_MESSAGE, BOOLEAN),
        (ORDER_ID, INTEGER),
        (ORDER_STAGE, STRING),
        ("courierId", INTEGER),
        (MESSAGE_SENT_TIME, TIMESTAMP),
    ],
    ORDERS: [(ORDER_ID, INTEGER), (CITY_CODE, STRING)],
}

# The source tables in the order ccc reads and reports them.
SOURCE_TABLES = [MESSAGES, ORDERS]

# The output table: name, logical type, and whether ccc writes it REQUIRED.
OUTPUT_COLUMNS: list[tuple[str, str, bool]] = [
    ("order_id", INTEGER, True),
    ("city_code", STRING, True),
    ("first_courier_message", TIMESTAMP, False),
    ("first_customer_message", TIMESTAMP, False),
    ("num_messages_courier", INTEGER, True),
    ("num_messages_customer", INTEGER, True),
    ("first_message_by", STRING, True),
    ("conversation_started_at", TIMESTAMP, True),
    ("first_responsetime_delay_seconds", INTEGER, False),
    ("last_message_time", TIMESTAMP, True),
    ("last_message_order_stage", STRING, False),
]

OUTPUT_NAMES = [name for name, _, _ in OUTPUT_COLUMNS]

# Columns every parsed source row carries besides the table's own: the file (its index
# in discovery order), the 1-based record and the 1-based line where it starts (text
# formats only), the raw text and problem kind of each value that did not fit, and a
# file-level error (a row holding only that stands for the whole file).
FILE = "_file"
RECORD = "_record"
LINE = "_line"
NOT_A_RECORD = "_not_a_record"
ERROR = "_error"


def raw_column(column: str) -> str:
    """The column holding the raw text of `column`'s values that did not fit."""
    return f"_raw_{column}"


def kind_column(column: str) -> str:
    """The column holding the problem kind of `column`'s values that did not fit."""
    return f"_kind_{column}"
