"""The Parquet output is read as-is by DuckDB, pyarrow, Polars and pandas, with the
same rows, types and values as the CSV output (the brief: "Spark, DuckDB, Polars and
pandas must read the Parquet output as-is")."""

import csv
import json
import os
import pathlib
import shutil
import subprocess
import tempfile

import duckdb
import pandas as pd
import polars as pl
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
CCC = ROOT / os.environ.get("CCC_BIN", "target/release/ccc")


@pytest.fixture(scope="module")
def out():
    tmp = pathlib.Path(tempfile.mkdtemp())
    src = tmp / "src"
    subprocess.run([CCC, "generate", "--orders", "300", "--seed", "7", "--format", "ndjson", "--files", "3",
                    "--out", src], check=True, capture_output=True)
    subprocess.run([CCC, "run", "--checks", "off", "--quiet", "--source", src, "--out", tmp / "out"], check=True)
    yield tmp / "out"
    shutil.rmtree(tmp)


def csv_rows(out):
    rows = []
    for part in sorted((out / "csv" / "customer_courier_conversations").glob("*/part-*.csv")):
        with open(part, newline="") as f:
            rows.extend(csv.DictReader(f))
    return rows


def test_duckdb_reads_hive_partitions_with_utc_timestamps(out):
    glob = str(out / "parquet" / "customer_courier_conversations" / "**" / "*.parquet")
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    rel = con.sql(f"SELECT * FROM read_parquet('{glob}', hive_partitioning = true)")
    types = dict(zip(rel.columns, [str(t) for t in rel.types]))
    assert types["order_id"] == "BIGINT"
    assert types["conversation_started_at"] == "TIMESTAMP WITH TIME ZONE"
    assert types["first_responsetime_delay_seconds"] == "BIGINT"
    n, bad_dates = con.sql(
        f"SELECT count(*), count(*) FILTER (WHERE CAST(conversation_started_at AS DATE) <> CAST(conversation_date AS DATE)) "
        f"FROM read_parquet('{glob}', hive_partitioning = true)").fetchone()
    assert n == len(csv_rows(out)) and n > 0
    assert bad_dates == 0
    report = json.loads((out / "_run.json").read_text())
    assert n == report["conversations"]


def test_pyarrow_and_pandas_read_the_same_values_as_csv(out):
    table = ds.dataset(out / "parquet" / "customer_courier_conversations", format="parquet", partitioning="hive").to_table()
    assert str(table.schema.field("last_message_time").type) == "timestamp[us, tz=UTC]"
    df = table.to_pandas().sort_values("order_id").reset_index(drop=True)
    expected = sorted(csv_rows(out), key=lambda r: int(r["order_id"]))
    assert list(df["order_id"]) == [int(r["order_id"]) for r in expected]
    assert list(df["city_code"]) == [r["city_code"] for r in expected]
    delays = [None if pd.isna(v) else int(v) for v in df["first_responsetime_delay_seconds"]]
    assert delays == [int(r["first_responsetime_delay_seconds"]) if r["first_responsetime_delay_seconds"] else None
                      for r in expected]
    started = [ts.strftime("%Y-%m-%dT%H:%M:%S") for ts in df["conversation_started_at"]]
    assert started == [r["conversation_started_at"][:19] for r in expected]


def test_polars_reads_every_part(out):
    frame = pl.read_parquet(str(out / "parquet" / "customer_courier_conversations" / "*" / "*.parquet"))
    assert frame.height == len(csv_rows(out))
    assert frame.schema["num_messages_courier"] == pl.Int64
    assert frame["order_id"].null_count() == 0


def test_each_part_file_holds_its_hour_sorted_by_order_id(out):
    """The layout as DuckDB sees it: `conversation_date=D/part-HH.parquet` holds the rows of
    date D that started in UTC hour HH, sorted by order_id, and every date has its hours'
    files only."""
    glob = str(out / "parquet" / "customer_courier_conversations" / "**" / "*.parquet")
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    rows = con.sql(
        f"SELECT filename, order_id, hour(conversation_started_at) AS h, "
        f"CAST(conversation_started_at AS DATE) AS d, conversation_date "
        f"FROM read_parquet('{glob}', hive_partitioning = true, filename = true, file_row_number = true) "
        f"ORDER BY filename, file_row_number").fetchall()
    assert rows
    by_file: dict[str, list[int]] = {}
    for filename, order_id, hour, day, date in rows:
        name = pathlib.Path(filename).name
        assert name == f"part-{hour:02}.parquet", (filename, order_id)
        assert str(day) == str(date), (filename, order_id)
        by_file.setdefault(filename, []).append(order_id)
    assert len(by_file) > len({pathlib.Path(f).parent for f in by_file}), "dates hold several parts"
    for filename, ids in by_file.items():
        assert ids == sorted(ids) and len(set(ids)) == len(ids), filename


def test_the_output_suite_gives_the_same_results_on_one_file_per_date(out, tmp_path):
    """`ccc validate --suite output` on the hourly parts and on the same table rewritten as
    one file per date (pyarrow, rows sorted by order_id): the same verdict and the same
    figures, expectation by expectation."""
    one = tmp_path / "one"
    table_dir = one / "parquet" / "customer_courier_conversations"
    dataset = ds.dataset(out / "parquet" / "customer_courier_conversations", format="parquet", partitioning="hive")
    table = dataset.to_table()
    for date in sorted(set(table.column("conversation_date").to_pylist())):
        rows = table.filter(ds.field("conversation_date") == date).drop(["conversation_date"]).sort_by("order_id")
        folder = table_dir / f"conversation_date={date}"
        folder.mkdir(parents=True)
        pq.write_table(rows, folder / "part-0.parquet")
    shutil.copy(out / "_run.json", one / "_run.json")

    def results(data):
        report = tmp_path / f"{data.name}.json"
        done = subprocess.run([CCC, "validate", "--suite", "output", "--data", data, "--quiet",
                               "--report", "json", "--report-file", report], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        suite = json.loads(report.read_text())
        return suite["success"], suite["statistics"], [
            (r["id"], r["success"], r.get("observed_value"), r.get("unexpected_count"), r.get("element_count"))
            for r in suite["results"]]

    parts, per_date = results(out), results(one)
    assert parts[0] is True
    assert parts == per_date
