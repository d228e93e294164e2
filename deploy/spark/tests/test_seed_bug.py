"""The seed's bug, kept out: its job took `first()`/`last()` of each order's messages
without an order Spark keeps, so the first message (and who sent it, and the last
stage) depended on how rows were shuffled. Ours takes the min/max of one total-order
key; this test shows the seed's aggregation moving with the shuffle while ours gives
the same bytes for every partitioning and file order."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from conftest import generate, run_job, tree
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from ccc_spark import ingest
from ccc_spark import schema as s
from ccc_spark.discover import discover
from ccc_spark.transform import role


def seed_aggregation(messages: DataFrame) -> DataFrame:
    """The seed's way: group, then `first`/`last` with no order Spark keeps — whatever
    row a partition happens to see first or last."""
    return (
        messages.withColumn("role", role(F.col(s.SENDER_APP_TYPE)))
        .groupBy(s.ORDER_ID)
        .agg(
            F.first("role").alias("first_message_by"),
            F.last(s.ORDER_STAGE).alias("last_message_order_stage"),
        )
    )


def table_bytes(out: Path) -> dict[str, bytes]:
    return {name: path.read_bytes() for name, path in tree(out).items() if name.startswith(("parquet/", "csv/"))}


def test_ours_is_stable_where_the_seeds_moves(spark: Any, tmp_path: Path) -> None:
    source = generate(tmp_path / "source", format="ndjson", orders=300, seed=61, files=3)
    before = spark.conf.get("spark.sql.shuffle.partitions")
    outputs = []
    try:
        # One run as the files come with one shuffle partition; one with the first file's
        # messages moved to the last and seven shuffle partitions: the same records (checks
        # off: the table is what is compared).
        spark.conf.set("spark.sql.shuffle.partitions", "1")
        assert run_job(spark, str(source), str(tmp_path / "out-1"), "--checks", "off", "-q").code == 0
        outputs.append(table_bytes(tmp_path / "out-1"))
        moved = tmp_path / "moved"
        shutil.copytree(source, moved)
        first, last = sorted(moved.glob("customer_courier_chat_messages*"))[0::2]
        first.rename(moved / "swap")
        last.rename(first)
        (moved / "swap").rename(last)
        spark.conf.set("spark.sql.shuffle.partitions", "7")
        assert run_job(spark, str(moved), str(tmp_path / "out-moved"), "--checks", "off", "-q").code == 0
        outputs.append(table_bytes(tmp_path / "out-moved"))

        ours = spark.read.parquet(f"file://{tmp_path / 'out-1' / 'parquet' / s.CONVERSATIONS}")
        ours = ours.select("order_id", "first_message_by", "last_message_order_stage")
        messages = ingest.read_table(spark, discover(str(source)), s.MESSAGES)
        seeds = []
        for shuffle, partitions in ((1, 1), (2, 3), (3, 7)):
            # The same rows, as other file splits and another shuffle would hand them over.
            spark.conf.set("spark.sql.shuffle.partitions", str(partitions))
            shuffled = messages.orderBy(F.rand(shuffle))
            seeds.append(sorted(seed_aggregation(shuffled).collect()))
    finally:
        spark.conf.set("spark.sql.shuffle.partitions", before)
    assert all(o == outputs[0] for o in outputs[1:]), "our table changed with the partitioning or file order"
    ours_rows = sorted(tuple(r) for r in ours.collect())
    assert len({tuple(map(tuple, rows)) for rows in seeds}) > 1, "the seed's aggregation did not move"
    disagree = [rows for rows in seeds if sorted(tuple(r) for r in rows) != ours_rows]
    assert disagree, "the seed's first()/last() happened to match ours on every shuffle"
