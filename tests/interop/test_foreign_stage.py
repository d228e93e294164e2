"""A staged output written by another program — here pyarrow, as a Spark job would lay it
out — is audited by `ccc validate --suite output --data` and swapped in by
`ccc publish`, and a bad one is refused: the write step of write–audit–publish can be
another engine (the brief's Spark path)."""

import os
import pathlib
import subprocess

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
CCC = ROOT / os.environ.get("CCC_BIN", "target/release/ccc")
TABLE = "customer_courier_conversations"
PARTITIONING = ds.partitioning(pa.schema([("conversation_date", pa.string())]), flavor="hive")


def ccc(*args, cwd):
    return subprocess.run([str(CCC), *map(str, args)], cwd=cwd, capture_output=True, text=True)


@pytest.fixture()
def table(tmp_path):
    """ccc's own table, read by pyarrow: what the other engine computes."""
    src = tmp_path / "src"
    subprocess.run([CCC, "generate", "--orders", "300", "--seed", "11", "--format", "ndjson",
                    "--out", src], check=True, capture_output=True)
    subprocess.run([CCC, "run", "--quiet", "--source", src, "--out", tmp_path / "one"], check=True)
    return ds.dataset(tmp_path / "one" / "parquet" / TABLE, format="parquet",
                      partitioning=PARTITIONING).to_table()


def write_stage(table, staged):
    """The table as pyarrow writes a Hive-partitioned dataset, with a Spark-style marker."""
    ds.write_dataset(table, staged / "parquet" / TABLE, format="parquet", partitioning=PARTITIONING,
                     basename_template="part-{i}-pyarrow.parquet")
    (staged / "parquet" / TABLE / "_SUCCESS").write_text("")


def rows(out):
    glob = str(out / "parquet" / TABLE / "**" / "*.parquet")
    return duckdb.sql(f"SELECT * FROM read_parquet('{glob}', hive_partitioning = true) "
                      "ORDER BY order_id").fetchall()


def test_a_folder_pyarrow_wrote_is_audited_then_published(tmp_path, table):
    staged = tmp_path / "staged"
    write_stage(table, staged)

    refused = ccc("publish", "--staged", staged, "--out", "out", cwd=tmp_path)
    assert refused.returncode == 2, refused.stderr
    assert "has no audit" in refused.stderr

    audit = ccc("validate", "--suite", "output", "--data", staged, cwd=tmp_path)
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert (staged / "_audit.json").exists()

    published = ccc("publish", "--staged", staged, "--out", "out", cwd=tmp_path)
    assert published.returncode == 0, published.stderr
    assert not staged.exists()
    assert rows(tmp_path / "out") == rows(tmp_path / "one")
    assert len(rows(tmp_path / "out")) == table.num_rows > 0


def test_a_folder_whose_audit_fails_is_not_published(tmp_path, table):
    staged = tmp_path / "staged"
    # A bug in the other engine: courier message counts come out negative.
    bad = pc.multiply(table["num_messages_courier"], pa.scalar(-1, pa.int64()))
    write_stage(table.set_column(table.schema.get_field_index("num_messages_courier"),
                                 "num_messages_courier", bad), staged)

    audit = ccc("validate", "--suite", "output", "--data", staged, "--quiet", cwd=tmp_path)
    assert audit.returncode == 1, audit.stdout + audit.stderr
    published = ccc("publish", "--staged", staged, "--out", "out", cwd=tmp_path)
    assert published.returncode == 1, published.stderr
    assert "failed" in published.stderr
    assert not (tmp_path / "out").exists()
