"""The Spark path of ccc: the same job as `ccc run`, as a PySpark application.

The data flow is ccc's, stage by stage, one module each:

    discover  -> files by name, in ccc's order
    parse     -> one source file into typed columns and field problems (pure Python,
                 run inside Spark tasks, one task per file)
    ingest    -> the parsed files as Spark DataFrames with explicit schemas
    suites    -> the YAML suites, checked against the shipped JSON Schema and bound
                 to the tables before any data is read
    checks    -> every expectation as Spark aggregations; results as ccc's JSON
    transform -> usable / unusable / orphan messages, orders deduplicated, the
                 conversations table under ccc's total order
    publish   -> the output in ccc's layout, staged, then swapped in with a rename
    job       -> the pipeline, from options to an exit code (0/1/2/3 as ccc's)
"""

# The version of ccc whose semantics, suites and layout this job implements (the
# workspace version in Cargo.toml; a test keeps them equal).
JOB_VERSION = "0.1.0"
