"""The Spark path of ccc: `application.py SOURCE DEST [options]`, as the seed's job was
submitted (`spark-submit application.py SOURCE DEST`), with ccc's semantics, suites,
output layout and exit codes: 0 all good, 1 a check of severity error failed, 2 bad
usage or a bad suite, 3 input or output could not be read or written.
"""

from __future__ import annotations

import os
import signal
import sys
import tempfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from ccc_spark.errors import JobError  # noqa: E402

# Settings the job's semantics rely on; a user's --conf may not change them.
REQUIRED_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    "spark.hadoop.mapreduce.fileoutputcommitter.marksuccessfuljobs": "false",
    "spark.hadoop.fs.file.impl": "org.apache.hadoop.fs.RawLocalFileSystem",
    "spark.hadoop.fs.file.impl.disable.cache": "true",
}


# Defaults for settings a cluster usually tunes itself; --conf or spark-defaults win.
DEFAULT_CONF = {
    "spark.ui.showConsoleProgress": "false",
    # Let adaptive execution coalesce the shuffles of cached tables too.
    "spark.sql.optimizer.canChangeCachedPlanOutputPartitioning": "true",
}


def _package_zip() -> str:
    """The `ccc_spark` package as a zip for the executors' Python workers."""
    fd, path = tempfile.mkstemp(prefix="ccc_spark-", suffix=".zip")
    os.close(fd)
    with zipfile.ZipFile(path, "w") as z:
        for root, _, names in os.walk(os.path.join(HERE, "ccc_spark")):
            for name in names:
                if name.endswith(".py"):
                    full = os.path.join(root, name)
                    z.write(full, os.path.relpath(full, HERE))
    return path


def session():  # type: ignore[no-untyped-def]
    from pyspark.sql import SparkSession

    # Executors run the parsers in the same Python environment as this driver unless
    # the cluster says otherwise (PYSPARK_PYTHON or spark.pyspark.python).
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.appName("customer_courier_conversations")
    from pyspark import SparkConf

    given = SparkConf()
    for key, value in DEFAULT_CONF.items():
        if not given.contains(key):
            builder = builder.config(key, value)
    for key, value in REQUIRED_CONF.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    if not given.contains("spark.sql.shuffle.partitions"):
        # Spark's 200 suits a cluster; a job on a few cores spends most of its time
        # scheduling them. Two per core, unless the user set a number.
        cores = spark.sparkContext.defaultParallelism
        spark.conf.set("spark.sql.shuffle.partitions", str(max(2, 2 * cores)))
    return spark


_terminated = False


def _terminate(*_: object) -> None:
    """SIGTERM: ends the job with 143. The SystemExit it raises can land inside a Py4J
    call and leave its connection mid-answer, so whatever the next JVM call raises is
    the signal too, not a failure of the job: the flag says so."""
    global _terminated
    _terminated = True
    sys.exit(143)


def main(argv: list[str]) -> int:
    from ccc_spark.job import parse_args, run

    signal.signal(signal.SIGTERM, _terminate)
    try:
        options = parse_args(argv)
    except JobError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    spark = session()
    spark.sparkContext.setLogLevel("ERROR")
    package = _package_zip()
    try:
        spark.sparkContext.addPyFile(package)
        code = run(options, spark)
    except KeyboardInterrupt:
        print("error: interrupted; nothing was published", file=sys.stderr)
        code = 130
    except SystemExit as e:
        # SIGTERM (the handler above): the staging folder is already removed.
        print("error: terminated; nothing was published", file=sys.stderr)
        code = e.code if isinstance(e.code, int) else 143
    except Exception as e:
        code = _failed(e)
    finally:
        os.remove(package)
    try:
        spark.stop()
    except Exception:
        pass  # a connection to the JVM that a signal broke; the JVM ends with this process
    return code


def _failed(e: Exception) -> int:
    """Prints why the job failed and gives its exit code."""
    if _terminated:
        print("error: terminated; nothing was published", file=sys.stderr)
        return 143
    if isinstance(e, JobError):
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    # Whatever Spark raises past the job's own checks is a failure to read, compute or
    # write (exit 3), never a check's verdict (1); nothing was published.
    first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    print(f"error: the Spark job failed: {first}; nothing was published", file=sys.stderr)
    return 3


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
