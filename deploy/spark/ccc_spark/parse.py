"""One source file into typed columns, by ccc's reading rules (docs/semantics.md).

Spark's own JSON and CSV readers cannot follow those rules: in PERMISSIVE mode they
turn a value that does not fit into a silent null (or drop the record), they read the
JSON string `"123"` into a long column as 123, and they know no record numbers. So
each file is parsed here, in plain Python, inside a Spark task (one task per file), into
Arrow batches: the table's columns, where each row came from, and for every value that
did not fit its raw text and kind. Nothing here imports Spark.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ccc_spark import schema as s
from ccc_spark.values import (
    BOOLEAN,
    I64_MAX,
    I64_MIN,
    INTEGER,
    MAX_MICROS,
    MIN_MICROS,
    OUT_OF_RANGE,
    STRING,
    TIMESTAMP,
    TIMESTAMP_OUT_OF_RANGE,
    U64_MAX,
    Problem,
    parse_boolean,
    parse_integer,
    parse_timestamp,
    rust_float_text,
    wrong_type,
)

BATCH_ROWS = 65_536
BOM = "\ufeff"
ARROW_TYPES = {
    STRING: pa.string(),
    INTEGER: pa.int64(),
    BOOLEAN: pa.bool_(),
    TIMESTAMP: pa.int64(),  # UTC microseconds; Spark makes them timestamps
}


class FileError(Exception):
    """A file that cannot be read at all; the message names it, as ccc's does."""


def arrow_schema(table: str) -> pa.Schema:
    """The batches' schema: where each row came from, the columns, their problems."""
    fields = [
        pa.field(s.FILE, pa.int32()),
        pa.field(s.RECORD, pa.int64()),
        pa.field(s.LINE, pa.int64()),
    ]
    for name, kind in s.SOURCE_COLUMNS[table]:
        fields.append(pa.field(name, ARROW_TYPES[kind]))
    for name, _ in s.SOURCE_COLUMNS[table]:
        fields.append(pa.field(s.raw_column(name), pa.string()))
        fields.append(pa.field(s.kind_column(name), pa.string()))
    fields.append(pa.field(s.NOT_A_RECORD, pa.bool_()))
    fields.append(pa.field(s.ERROR, pa.string()))
    return pa.schema(fields)


class Rows:
    """Growing columns of one table, flushed as Arrow batches of `BATCH_ROWS` rows."""

    def __init__(self, table: str, file_index: int) -> None:
        self.table = table
        self.file_index = file_index
        self.columns = s.SOURCE_COLUMNS[table]
        self.schema = arrow_schema(table)
        self._reset()

    def _reset(self) -> None:
        self.records: list[int] = []
        self.lines: list[int | None] = []
        self.values: list[list[Any]] = [[] for _ in self.columns]
        self.raws: list[list[str | None]] = [[] for _ in self.columns]
        self.kinds: list[list[str | None]] = [[] for _ in self.columns]
        self.not_records: list[bool] = []

    def add(self, record: int, line: int | None, fields: list[Any], not_a_record: bool = False) -> None:
        """One row; each field is a value, None, or the `Problem` of a value."""
        self.records.append(record)
        self.lines.append(line)
        self.not_records.append(not_a_record)
        for i, value in enumerate(fields):
            if isinstance(value, Problem):
                self.values[i].append(None)
                self.raws[i].append(value.raw)
                self.kinds[i].append(value.kind)
            else:
                self.values[i].append(value)
                self.raws[i].append(None)
                self.kinds[i].append(None)

    def full(self) -> bool:
        return len(self.records) >= BATCH_ROWS

    def take(self) -> pa.RecordBatch | None:
        """The rows so far as a batch (None when there are none)."""
        n = len(self.records)
        if n == 0:
            return None
        arrays = [
            pa.array([self.file_index] * n, pa.int32()),
            pa.array(self.records, pa.int64()),
            pa.array(self.lines, pa.int64()),
        ]
        for (_, kind), values in zip(self.columns, self.values, strict=False):
            arrays.append(pa.array(values, ARROW_TYPES[kind]))
        for raws, kinds in zip(self.raws, self.kinds, strict=False):
            arrays.append(pa.array(raws, pa.string()))
            arrays.append(pa.array(kinds, pa.string()))
        arrays.append(pa.array(self.not_records, pa.bool_()))
        arrays.append(pa.nulls(n, pa.string()))
        self._reset()
        return pa.RecordBatch.from_arrays(arrays, schema=self.schema)


def error_batch(table: str, file_index: int, message: str) -> pa.RecordBatch:
    """The one-row batch that stands for a file that could not be read."""
    schema = arrow_schema(table)
    arrays = [pa.nulls(1, f.type) for f in schema]
    arrays[0] = pa.array([file_index], pa.int32())
    arrays[-1] = pa.array([message], pa.string())
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def read_file(path: str, table: str, fmt: str, file_index: int) -> Iterator[pa.RecordBatch]:
    """The batches of one file; a file that cannot be read ends with an error batch."""
    rows = Rows(table, file_index)
    try:
        if fmt == "parquet":
            yield from _read_parquet(path, rows)
        else:
            text = _read_text(path)
            if fmt == "csv":
                parsed = _csv_records(path, text, table)
            else:
                parsed = _json_records(path, text, table, by_lines=fmt == "ndjson")
            for record, line, fields, not_a_record in parsed:
                rows.add(record, line, fields, not_a_record)
                if rows.full():
                    yield rows.take()  # type: ignore[misc]
        last = rows.take()
        if last is not None:
            yield last
    except FileError as e:
        yield error_batch(table, file_index, str(e))


def _read_text(path: str) -> str:
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise FileError(f"cannot read {path}: {e.strerror}") from e
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise FileError(f"{path}:{line}: invalid UTF-8") from e
    return text[1:] if text.startswith(BOM) else text


def _line_column(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    start = text.rfind("\n", 0, offset) + 1
    return line, offset - start + 1


# --- JSON -----------------------------------------------------------------------------


class JsonObject(list):  # type: ignore[type-arg]
    """A JSON object as its (key, value) pairs in file order (a repeated key is kept
    twice; the first occurrence wins when fields are picked)."""


def _parse_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError("number out of range")
    return value


def _no_constants(name: str) -> None:
    raise ValueError(f"expected value, found {name}")


_DECODER = json.JSONDecoder(object_pairs_hook=JsonObject, parse_float=_parse_float, parse_constant=_no_constants)
_SEPARATORS = " \t\r\n,"
_WHITESPACE = " \t\r\n"


def _from_json(value: Any, kind: str) -> Any:
    """A JSON value into a field of `kind`, as ccc's JSON reader does it."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value if kind == BOOLEAN else wrong_type(kind, "true" if value else "false")
    if isinstance(value, int):
        if I64_MIN <= value <= I64_MAX:
            return value if kind == INTEGER else wrong_type(kind, str(value))
        # serde_json reads integers past u64 (or below i64) as floats.
        raw = str(value) if 0 < value <= U64_MAX else rust_float_text(float(value))
        return Problem(OUT_OF_RANGE, raw) if kind == INTEGER else wrong_type(kind, raw)
    if isinstance(value, float):
        if value == 0.0 and str(value).startswith("-"):
            return 0 if kind == INTEGER else wrong_type(kind, "-0")
        raw = rust_float_text(value)
        integral = value == int(value) and abs(value) >= 9.2e18
        if kind == INTEGER and integral:
            return Problem(OUT_OF_RANGE, raw)
        return wrong_type(kind, raw)
    if isinstance(value, str):
        if kind == STRING:
            return value
        if kind == TIMESTAMP:
            return parse_timestamp(value)
        return wrong_type(kind, value)
    if isinstance(value, JsonObject):
        return wrong_type(kind, "{…}")
    return wrong_type(kind, "[…]")


def _json_fields(value: Any, columns: list[tuple[str, str]]) -> tuple[list[Any], bool]:
    if not isinstance(value, JsonObject):
        return [None] * len(columns), True
    index = {name: i for i, (name, _) in enumerate(columns)}
    fields: list[Any] = [None] * len(columns)
    seen = [False] * len(columns)
    for key, field in value:
        i = index.get(key)
        if i is not None and not seen[i]:
            seen[i] = True
            fields[i] = _from_json(field, columns[i][1])
    return fields, False


def _json_error(path: str, text: str, offset: int, record: int, message: str) -> FileError:
    line, column = _line_column(text, offset)
    return FileError(f"{path}:{line}:{column}: invalid JSON in record {record}: {message}")


def _decode(path: str, text: str, pos: int, end: int, record: int) -> tuple[Any, int]:
    """The JSON value at `pos`, which must end by `end` (the end of its line, in NDJSON)."""
    try:
        value, value_end = _DECODER.raw_decode(text, pos)
    except json.JSONDecodeError as e:
        at = min(e.pos, end)
        message = "EOF while parsing a value" if e.pos > end else e.msg.lower()
        raise _json_error(path, text, at, record, message) from e
    except (ValueError, RecursionError) as e:
        raise _json_error(path, text, pos, record, str(e)) from e
    if value_end > end:
        raise _json_error(path, text, end, record, "EOF while parsing a value")
    return value, value_end


def _json_records(
    path: str, text: str, table: str, by_lines: bool
) -> Iterator[tuple[int, int | None, list[Any], bool]]:
    columns = s.SOURCE_COLUMNS[table]
    n = len(text)
    pos = 0
    while pos < n and text[pos] in _WHITESPACE:
        pos += 1
    if pos == n:
        if by_lines:
            return
        raise _json_error(path, text, n, 0, "empty file, expected a JSON array of records")
    in_array = False
    if not by_lines:
        if text[pos] == "[":
            in_array = True
            pos += 1
        elif text[pos] != "{":
            raise _json_error(
                path, text, pos, 0, f"expected '[' or '{{' at the start of a JSON file, found {text[pos]!r}"
            )
    record = 0
    line = 1
    counted = 0
    while True:
        while pos < n and text[pos] in _SEPARATORS:
            pos += 1
        if in_array and pos < n and text[pos] == "]":
            rest = text[pos + 1 :]
            if rest.strip(_WHITESPACE):
                offset = pos + 1 + (len(rest) - len(rest.lstrip(_WHITESPACE)))
                raise _json_error(path, text, offset, record, "trailing characters after the array")
            return
        if pos >= n:
            if in_array:
                raise _json_error(
                    path, text, n, record, "unexpected end of file: the array is not closed (truncated file?)"
                )
            return
        record += 1
        line += text.count("\n", counted, pos)
        counted = pos
        end = text.find("\n", pos) if by_lines else n
        end = n if end < 0 else end
        value, value_end = _decode(path, text, pos, end, record)
        if by_lines and text[value_end:end].strip(_WHITESPACE):
            raise _json_error(path, text, value_end, record, "trailing characters")
        fields, not_a_record = _json_fields(value, columns)
        yield record, line, fields, not_a_record
        pos = end if by_lines else value_end


# --- CSV ------------------------------------------------------------------------------

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


def _from_text(text: str, kind: str) -> Any:
    """A CSV field (or text in a typed Parquet column) into a field of `kind`."""
    if kind == STRING:
        return text
    if kind == INTEGER:
        return parse_integer(text)
    if kind == BOOLEAN:
        return parse_boolean(text)
    return parse_timestamp(text)


def _csv_records(path: str, text: str, table: str) -> Iterator[tuple[int, int | None, list[Any], bool]]:
    columns = s.SOURCE_COLUMNS[table]
    if not text:
        raise FileError(f"{path}:1: invalid CSV in record 0: empty file, expected a header row")
    first_line_end = text.find("\n")
    header_text = text if first_line_end < 0 else text[: first_line_end + 1]
    header = next(csv.reader(io.StringIO(header_text, newline="")), [])
    names = {name: i for i, (name, _) in enumerate(columns)}
    targets = [names.get(h.strip()) for h in header]
    if all(t is None for t in targets):
        found = ",".join(header)
        raise FileError(
            f"{path}:1: invalid CSV in record 0: the header names none of the columns of {table} (found: {found})"
        )
    body = text[first_line_end + 1 :] if first_line_end >= 0 else ""
    reader = csv.reader(io.StringIO(body, newline=""), strict=False)
    record = 0
    before = 1  # lines before the body: the header's
    try:
        while True:
            lines_read = reader.line_num
            try:
                row = next(reader)
            except StopIteration:
                return
            if not row:
                continue
            record += 1
            line = before + lines_read + 1
            if len(row) != len(targets):
                raise FileError(
                    f"{path}:{line}: invalid CSV in record {record}: "
                    f"record has {len(row)} fields, the header has {len(targets)}"
                )
            fields: list[Any] = [None] * len(columns)
            seen = [False] * len(columns)
            for field, target in zip(row, targets, strict=False):
                if target is None or seen[target]:
                    continue
                seen[target] = True
                if field:
                    fields[target] = _from_text(field, columns[target][1])
            yield record, line, fields, False
    except csv.Error as e:
        line = before + reader.line_num
        raise FileError(f"{path}:{line}: invalid CSV in record {record + 1}: {e}") from e


# --- Parquet --------------------------------------------------------------------------

_ARROW2_NAMES = {
    "double": "Float64",
    "float": "Float32",
    "halffloat": "Float16",
    "bool": "Boolean",
    "date32[day]": "Date32",
    "date64[ms]": "Date64",
    "binary": "Binary",
    "large_binary": "LargeBinary",
    "int8": "Int8",
    "int16": "Int16",
    "int32": "Int32",
    "int64": "Int64",
    "uint8": "UInt8",
    "uint16": "UInt16",
    "uint32": "UInt32",
    "uint64": "UInt64",
}
_UNIT_FACTOR = {"s": 1_000_000, "ms": 1_000, "us": 1, "ns": None}


def _coerce(array: pa.Array, kind: str) -> list[Any]:
    """A Parquet column into a field of `kind`, as ccc's Parquet reader coerces it."""
    t = array.type
    if pa.types.is_dictionary(t):
        return _coerce(array.dictionary_decode(), kind)
    if pa.types.is_null(t):
        return [None] * len(array)
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        values = array.to_pylist()
        if kind == STRING:
            return values
        return [None if v is None else _from_text(v, kind) for v in values]
    if kind == INTEGER and pa.types.is_integer(t):
        values = array.to_pylist()
        if t == pa.uint64():
            return [v if v is None or v <= I64_MAX else Problem(OUT_OF_RANGE, str(v)) for v in values]
        return values
    if kind == BOOLEAN and pa.types.is_boolean(t):
        return array.to_pylist()
    if kind == TIMESTAMP and pa.types.is_timestamp(t):
        factor = _UNIT_FACTOR[t.unit]
        out: list[Any] = []
        for v in array.cast(pa.int64()).to_pylist():
            if v is None:
                out.append(None)
                continue
            micros = v // 1000 if factor is None else v * factor
            in_range = I64_MIN <= micros <= I64_MAX and MIN_MICROS <= micros <= MAX_MICROS
            out.append(micros if in_range else Problem(TIMESTAMP_OUT_OF_RANGE, str(v)))
        return out
    name = _ARROW2_NAMES.get(str(t), str(t))
    return [wrong_type(kind, f"<{name} value>") if ok else None for ok in array.is_valid().to_pylist()]


def _same_type(array: pa.Array, kind: str) -> pa.Array | None:
    """The column as the table's type without looking at each value, when every value
    surely fits (the common case); None when some value needs `_coerce`'s rules."""
    t = array.type
    if kind == STRING and (pa.types.is_string(t) or pa.types.is_large_string(t)):
        return array.cast(pa.string())
    if kind == BOOLEAN and pa.types.is_boolean(t):
        return array
    if kind == INTEGER and pa.types.is_integer(t) and t != pa.uint64():
        return array.cast(pa.int64())
    if kind == TIMESTAMP and pa.types.is_timestamp(t):
        values = array.cast(pa.int64())
        low_high = pc.min_max(values)
        low, high = low_high["min"].as_py(), low_high["max"].as_py()
        if low is None:
            return values
        factor = _UNIT_FACTOR[t.unit]
        if factor is None:
            if low < 0:
                return None  # floor division of negative nanoseconds: value by value
            micros = pc.divide(values, 1000)
            low, high = low // 1000, high // 1000
        else:
            low, high = low * factor, high * factor
            if not (I64_MIN <= low and high <= I64_MAX):
                return None
            micros = pc.multiply(values, factor)
        return micros if MIN_MICROS <= low and high <= MAX_MICROS else None
    return None


def _read_parquet(path: str, rows: Rows) -> Iterator[pa.RecordBatch]:
    """Parquet batches coerced column by column: columns whose every value fits pass
    through as Arrow arrays, the others go value by value through `_coerce`."""
    columns = rows.columns
    try:
        file = pq.ParquetFile(path)
        names = file.schema_arrow.names
        present = [name for name, _ in columns if name in names]
        record = 0
        for batch in file.iter_batches(batch_size=BATCH_ROWS, columns=present or None):
            n = batch.num_rows
            values: list[pa.Array] = []
            raws: list[pa.Array] = []
            for name, kind in columns:
                target = ARROW_TYPES[kind]
                if name not in present:
                    values.append(pa.nulls(n, target))
                    raws += [pa.nulls(n, pa.string()), pa.nulls(n, pa.string())]
                    continue
                array = batch.column(batch.schema.get_field_index(name))
                fast = _same_type(array, kind)
                if fast is not None:
                    values.append(fast)
                    raws += [pa.nulls(n, pa.string()), pa.nulls(n, pa.string())]
                    continue
                coerced = _coerce(array, kind)
                values.append(pa.array([None if isinstance(v, Problem) else v for v in coerced], target))
                raws.append(pa.array([v.raw if isinstance(v, Problem) else None for v in coerced], pa.string()))
                raws.append(pa.array([v.kind if isinstance(v, Problem) else None for v in coerced], pa.string()))
            arrays = [
                pa.array(np.full(n, rows.file_index, dtype=np.int32)),
                pa.array(np.arange(record + 1, record + n + 1, dtype=np.int64)),
                pa.nulls(n, pa.int64()),
                *values,
                *raws,
                pa.array(np.zeros(n, dtype=bool)),
                pa.nulls(n, pa.string()),
            ]
            record += n
            if n:
                yield pa.RecordBatch.from_arrays(arrays, schema=rows.schema)
    except (OSError, pa.ArrowException) as e:
        raise FileError(f"{path}: not a readable Parquet file: {e}") from e
