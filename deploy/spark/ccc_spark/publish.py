"""The output in ccc's layout, written into a staging folder beside its target and
swapped in with one rename (docs/semantics.md, "Publishing"):

    parquet/customer_courier_conversations/conversation_date=YYYY-MM-DD/part-HH.parquet
    csv/customer_courier_conversations/conversation_date=YYYY-MM-DD/part-HH.csv
    quarantine/customer_courier_chat_messages.csv, quarantine/orders.csv
    _run.json (and _stage.json for a staged run)

`part-HH` holds the rows of the date whose `conversation_started_at` falls in UTC hour
HH (00-23); only hours with rows have a file. Spark writes each date and hour as one
task (rows sorted by order_id) into `conversation_date=D/_hour=HH/`, without `_SUCCESS`
or `.crc` files; each part file is then moved up to ccc's name and the hour folders
removed. The lock beside the target is ccc's own (`.NAME.ccc-lock`, an advisory
`flock`), so the Spark job and `ccc` never publish into one folder at once.
"""

from __future__ import annotations

import ctypes
import fcntl
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from ccc_spark import schema as s
from ccc_spark.errors import InputError, UsageError
from ccc_spark.text import csv_field, csv_line, quoted, text_of

OUTPUT_ENTRIES = {"parquet", "csv", "quarantine", "_run.json", "_audit.json"}
STAGE_ENTRIES = OUTPUT_ENTRIES | {"_stage.json", "_state"}
PARQUET_DIR = os.path.join("parquet", s.CONVERSATIONS)
CSV_DIR = os.path.join("csv", s.CONVERSATIONS)
HOUR = "_hour"  # the part's UTC hour, `HH`: a partition column while writing only


def sibling(target: str, tag: str) -> str:
    """`.NAME.ccc-TAG` beside `target`, as ccc names its lock and staging folders."""
    parent, name = os.path.split(target.rstrip("/"))
    return os.path.join(parent, f".{name}.ccc-{tag}")


def resolve(path: str) -> str:
    """An absolute path, a link as the target followed (ccc publishes where it points)."""
    path = os.path.abspath(path)
    return os.path.realpath(path) if os.path.islink(path) else path


def check_replaceable(target: str, entries: set[str]) -> None:
    """A folder the job may replace holds nothing but an output's entries (exit 2)."""
    if not os.path.exists(target):
        return
    if not os.path.isdir(target):
        raise UsageError(f"{target} is not an output folder: (not a folder)")
    for name in sorted(os.listdir(target)):
        if name not in entries:
            raise UsageError(
                f"{target} is not an output folder: it holds `{name}`; ccc only replaces a folder it wrote"
            )


@contextmanager
def staging(target: str, entries: set[str]) -> Iterator[str]:
    """A fresh staging folder for `target`, under `target`'s lock; removed on any
    failure. The caller swaps it in with `swap` before leaving."""
    check_replaceable(target, entries)
    parent = os.path.dirname(target)
    os.makedirs(parent, exist_ok=True)
    lock = _take_lock(target)
    try:
        prefix = os.path.basename(sibling(target, ""))
        for name in os.listdir(parent):
            if name.startswith(prefix) and name != os.path.basename(sibling(target, "lock")):
                shutil.rmtree(os.path.join(parent, name), ignore_errors=True)
        dir = sibling(target, f"staging-{os.getpid()}")
        os.mkdir(dir)
        try:
            yield dir
        finally:
            shutil.rmtree(dir, ignore_errors=True)
    finally:
        lock.close()


def _take_lock(target: str) -> IO[str]:
    path = sibling(target, "lock")
    file = open(path, "a")
    try:
        fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as e:
        file.close()
        raise UsageError(f"another run is writing {target} (it holds {path})") from e
    return file


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def swap(staged: str, target: str) -> None:
    """Puts `staged` at `target` in one rename (Linux `renameat2` exchange when
    `target` exists), after making every file durable; the old output ends in
    `staged`, which the staging context removes."""
    _sync_tree(staged)
    if not os.path.exists(target):
        os.rename(staged, target)
    else:
        libc = ctypes.CDLL(None, use_errno=True)
        rc = libc.renameat2(_AT_FDCWD, staged.encode(), _AT_FDCWD, target.encode(), _RENAME_EXCHANGE)
        if rc != 0:
            old = sibling(target, f"old-{os.getpid()}")
            os.rename(target, old)
            os.rename(staged, target)
            os.rename(old, staged)
    _fsync(os.path.dirname(target))


def _fsync(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sync_tree(root: str) -> None:
    for dir, _, files in os.walk(root):
        for name in files:
            _fsync(os.path.join(dir, name))
        _fsync(dir)


def _one_file_per_part(root: str, extension: str) -> None:
    """Moves Spark's `conversation_date=D/_hour=HH/part-*` files to ccc's
    `conversation_date=D/part-HH.EXT` (one per date and hour) and removes the rest."""
    os.makedirs(root, exist_ok=True)
    for date in sorted(os.listdir(root)):
        path = os.path.join(root, date)
        if not os.path.isdir(path):
            os.remove(path)
            continue
        for folder in sorted(os.listdir(path)):
            hours = os.path.join(path, folder)
            (part,) = [n for n in os.listdir(hours) if n.startswith("part-")]
            hour = folder.removeprefix(f"{HOUR}=")
            os.rename(os.path.join(hours, part), os.path.join(path, f"part-{hour}.{extension}"))
            shutil.rmtree(hours)


def write_table(table: DataFrame, dir: str, formats: list[str]) -> None:
    """The table as Hive-partitioned Parquet and/or CSV, one file per date and UTC hour
    of `conversation_started_at`, rows sorted by order_id."""
    # `HH` in the session time zone, UTC (set by `application.session` and `job.run`),
    # as `conversation_date` is: the hour nests inside the date.
    table = table.withColumn(HOUR, F.date_format(F.col("conversation_started_at"), "HH"))
    keys = ["conversation_date", HOUR]
    if "parquet" in formats:
        root = os.path.join(dir, PARQUET_DIR)
        (
            table.repartition(*keys)
            .sortWithinPartitions(*keys, "order_id")
            .select(*s.OUTPUT_NAMES, *keys)
            .write.partitionBy(*keys)
            .option("compression", "snappy")
            .parquet(_uri(root))
        )
        _one_file_per_part(root, "parquet")
    if "csv" in formats:
        root = os.path.join(dir, CSV_DIR)
        kinds = {name: kind for name, kind, _ in s.OUTPUT_COLUMNS}
        rows = table.select(
            *keys,
            F.lit(1).alias("_header_last"),
            F.col("order_id").alias("_order"),
            csv_line([csv_field(F.col(n), kinds[n]) for n in s.OUTPUT_NAMES]).alias("value"),
        )
        headers = (
            table.select(*keys)
            .distinct()
            .select(
                *keys,
                F.lit(0).alias("_header_last"),
                F.lit(None).cast("long").alias("_order"),
                F.lit(",".join(s.OUTPUT_NAMES)).alias("value"),
            )
        )
        (
            rows.unionByName(headers)
            .repartition(*keys)
            .sortWithinPartitions(*keys, "_header_last", "_order")
            .select(*keys, "value")
            .write.partitionBy(*keys)
            .text(_uri(root))
        )
        _one_file_per_part(root, "csv")


def write_quarantine(rows: DataFrame, table: str, names: list[str], dir: str) -> None:
    """`quarantine/TABLE.csv`: the table's columns as text (the raw text of values that
    did not fit), then `_reason`, `_file`, `_record`, `_line`, in file and record order."""
    columns = s.SOURCE_COLUMNS[table]
    fields = []
    for name, kind in columns:
        raw = F.col(s.raw_column(name))
        fields.append(quoted(F.coalesce(text_of(F.col(name), kind), raw, F.lit(""))))
    file_name = F.element_at(F.array(*[F.lit(n) for n in names]), F.col(s.FILE) + 1)
    fields += [
        quoted(F.col("_reason")),
        quoted(file_name),
        F.col(s.RECORD).cast("string"),
        F.coalesce(F.col(s.LINE).cast("string"), F.lit("")),
    ]
    header = ",".join([n for n, _ in columns] + ["_reason", "_file", "_record", "_line"])
    lines = rows.select(F.lit(1).alias("_k"), s.FILE, s.RECORD, csv_line(fields).alias("value"))
    head = rows.sparkSession.createDataFrame([(0, -1, -1, header)], "_k int, _file int, _record long, value string")
    tmp = os.path.join(dir, f"_quarantine-{table}")
    (
        lines.unionByName(head)
        .repartition(1)
        .sortWithinPartitions("_k", s.FILE, s.RECORD)
        .select("value")
        .write.text(_uri(tmp))
    )
    parts = sorted(n for n in os.listdir(tmp) if n.startswith("part-"))
    os.makedirs(os.path.join(dir, "quarantine"), exist_ok=True)
    os.rename(os.path.join(tmp, parts[0]), os.path.join(dir, "quarantine", f"{table}.csv"))
    shutil.rmtree(tmp)


def write_json(path: str, value: Any) -> None:
    try:
        with open(path, "w", encoding="utf-8") as f:
            json.dump(value, f, indent=2)
            f.write("\n")
    except OSError as e:
        raise InputError(f"cannot write {path}: {e.strerror}") from e


def _uri(path: str) -> str:
    return "file://" + os.path.abspath(path)
