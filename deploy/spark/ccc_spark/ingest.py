"""The source files as Spark DataFrames with explicit schemas: one Spark task per file
runs `parse.read_file` and hands its Arrow batches to Spark (`mapInArrow`). A file that
cannot be read stops the job with ccc's message and exit code 3."""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa
from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from ccc_spark import parse
from ccc_spark import schema as s
from ccc_spark.discover import SourceFile
from ccc_spark.errors import InputError
from ccc_spark.values import BOOLEAN, INTEGER, STRING, TIMESTAMP

_SPARK_TYPES = {STRING: T.StringType(), INTEGER: T.LongType(), BOOLEAN: T.BooleanType(), TIMESTAMP: T.LongType()}


def spark_schema(table: str) -> T.StructType:
    """The Spark schema of parsed rows: `parse.arrow_schema`, field for field."""
    fields = [
        T.StructField(s.FILE, T.IntegerType()),
        T.StructField(s.RECORD, T.LongType()),
        T.StructField(s.LINE, T.LongType()),
    ]
    fields += [T.StructField(name, _SPARK_TYPES[kind]) for name, kind in s.SOURCE_COLUMNS[table]]
    for name, _ in s.SOURCE_COLUMNS[table]:
        fields += [
            T.StructField(s.raw_column(name), T.StringType()),
            T.StructField(s.kind_column(name), T.StringType()),
        ]
    fields += [T.StructField(s.NOT_A_RECORD, T.BooleanType()), T.StructField(s.ERROR, T.StringType())]
    return T.StructType(fields)


def _parse_files(table: str) -> object:
    def parse_files(tasks: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in tasks:
            for index, path, fmt in zip(*(batch.column(i).to_pylist() for i in range(3)), strict=False):
                yield from parse.read_file(path, table, fmt, index)

    return parse_files


def read_table(spark: SparkSession, files: list[SourceFile], table: str) -> DataFrame:
    """The rows of `table` from its files, cached (every later stage reads them)."""
    mine = [(f.index, f.path, f.format) for f in files if f.table == table]
    tasks = spark.sparkContext.parallelize(mine, max(1, len(mine))).toDF(
        T.StructType(
            [
                T.StructField("index", T.IntegerType()),
                T.StructField("path", T.StringType()),
                T.StructField("format", T.StringType()),
            ]
        )
    )
    df = tasks.mapInArrow(_parse_files(table), spark_schema(table))
    time_columns = [name for name, kind in s.SOURCE_COLUMNS[table] if kind == TIMESTAMP]
    for name in time_columns:
        df = df.withColumn(name, F.timestamp_micros(F.col(name)))
    return df.persist(StorageLevel.MEMORY_AND_DISK)


def check_readable(tables: dict[str, DataFrame]) -> None:
    """Raises ccc's error for the first file (in discovery order) that could not be read."""
    for df in tables.values():
        errors = df.filter(F.col(s.ERROR).isNotNull()).select(s.FILE, s.ERROR).orderBy(s.FILE).limit(1).collect()
        if errors:
            raise InputError(errors[0][s.ERROR])
