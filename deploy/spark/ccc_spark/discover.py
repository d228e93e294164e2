"""Finding the source files by ccc's name rules: `customer_courier_chat_messages*` and
`orders*` with a known extension, in one folder (not recursive), sorted by table then
name, links followed, and anything with a source's name that is not a regular file an
error (never skipped)."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass

from ccc_spark import schema as s
from ccc_spark.errors import InputError

FORMATS = {"json": "json", "ndjson": "ndjson", "jsonl": "ndjson", "csv": "csv", "parquet": "parquet"}


@dataclass(frozen=True)
class SourceFile:
    """One source file; `index` is its position in discovery order."""

    index: int
    path: str
    name: str
    table: str
    format: str
    size: int


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a device"


def local_path(path: str) -> str:
    """A `file:` URI or a plain path as a plain path (the job reads shared folders)."""
    return path[len("file://") :] if path.startswith("file://") else path.removeprefix("file:")


def discover(folder: str) -> list[SourceFile]:
    """The source files of both tables in `folder`; both tables must have one."""
    folder = local_path(folder)
    if not os.path.isdir(folder):
        raise InputError(f"source folder {folder} does not exist or is not a folder")
    found = []
    for name in os.listdir(folder):
        table = next((t for t in s.SOURCE_TABLES if name.startswith(t)), None)
        ext = name.rsplit(".", 1)[1].lower() if "." in name else ""
        if table is None or ext not in FORMATS:
            continue
        path = os.path.join(folder, name)
        try:
            info = os.stat(path)
        except OSError as e:
            raise InputError(f"cannot read {path}: {e.strerror}") from e
        if not stat.S_ISREG(info.st_mode):
            raise InputError(f"cannot read {path}: {_kind(info.st_mode)}, where ccc expects a regular file")
        found.append((s.SOURCE_TABLES.index(table), name, path, table, FORMATS[ext], info.st_size))
    found.sort(key=lambda f: (f[0], f[1].encode("utf-8")))
    for table in s.SOURCE_TABLES:
        if not any(f[3] == table for f in found):
            raise InputError(
                f"no {table} files in {folder} (expected {table}*.json, .ndjson, .jsonl, .csv or .parquet)"
            )
    return [SourceFile(i, path, name, table, fmt, size) for i, (_, name, path, table, fmt, size) in enumerate(found)]
