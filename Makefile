# ccc — the seed's Makefile targets, adapted. `make help` lists them.
# Everything builds itself: cargo fetches crates, Python venvs are made on first use.

CARGO   ?= cargo
CCC     := target/release/ccc
SOURCE  ?= data/source
OUT     ?= data/processed
ORDERS  ?= 500
SEED    ?= 42

.DEFAULT_GOAL := help
REPORT_DIR ?= target/dq-report

.PHONY: help build run validate test python-envs interop-venv browser test-rust test-interop test-spark lint bench bench-scale clean_data prepare generate_data sample
.PHONY: spark-venv setup_spark run_spark_application shutdown_spark airflow-venv airflow_test

help: ## List the targets
	@grep -E '^[a-z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  %-14s %s\n", $$1, $$2}'

build: ## Build the release binary (target/release/ccc)
	@command -v $(CARGO) >/dev/null || { echo "cargo not found: install Rust (rustup) first"; exit 2; }
	$(CARGO) build --release --locked -p ccc-cli

run: build ## Build and run the whole job on $(SOURCE) into $(OUT)
	$(CCC) run --source $(SOURCE) --out $(OUT)

validate: build ## Source suite on $(SOURCE), output suite on $(OUT) (after make run); reports in $(REPORT_DIR)
	@test -d $(OUT) || $(CCC) run --quiet --source $(SOURCE) --out $(OUT)
	@mkdir -p $(REPORT_DIR)
	$(CCC) validate --suite source --source $(SOURCE) \
		--report markdown --report-file $(REPORT_DIR)/source.md --report junit --report-file $(REPORT_DIR)/source.xml
	$(CCC) validate --suite output --data $(OUT) \
		--report markdown --report-file $(REPORT_DIR)/output.md --report junit --report-file $(REPORT_DIR)/output.xml

# The Python environments install in the background while the Rust workspace builds and
# is tested (pip waits on downloads and disk, cargo on the CPU); their log is shown if
# they fail. Then the suites that need them, in order; the first failure stops the run.
test: ## Run the whole test suite (what CI runs)
	@mkdir -p target
	@$(MAKE) --no-print-directory python-envs > target/python-envs.log 2>&1 & envs=$$!; \
	$(MAKE) --no-print-directory lint test-rust; rust=$$?; \
	wait $$envs; made=$$?; \
	if [ $$made -ne 0 ]; then echo "== the Python environments failed:"; cat target/python-envs.log; fi; \
	test $$rust -eq 0 && test $$made -eq 0
	$(MAKE) --no-print-directory test-interop test-spark airflow_test

python-envs: interop-venv spark-venv airflow-venv browser ## Every Python environment the tests use, pinned (and the browser)

# Debian's Chromium renders the HTML report in tests/interop (the package manager needs root).
browser: ## Debian's Chromium for the HTML report's rendering test (apt-get install chromium when missing)
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || { \
		test "$$(id -u)" = 0 && command -v apt-get >/dev/null || { \
			echo "the HTML report test needs Chromium: install Debian's chromium package"; exit 2; }; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get install -y -q chromium >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }; }

test-rust: ## Unit, end-to-end and property tests of the Rust workspace
	@if $(CARGO) nextest --version >/dev/null 2>&1; then \
		$(CARGO) nextest run --workspace --locked --no-fail-fast; \
	else \
		$(CARGO) test --workspace --locked --no-fail-fast; \
	fi
	$(CARGO) test --workspace --locked --doc

INTEROP_VENV  := tests/interop/.venv
INTEROP_STAMP := $(INTEROP_VENV)/.installed

$(INTEROP_STAMP): tests/interop/requirements.txt
	@test -x $(INTEROP_VENV)/bin/python || python3 -m venv $(INTEROP_VENV)
	$(INTEROP_VENV)/bin/pip install -q -r tests/interop/requirements.txt
	@touch $@

interop-venv: $(INTEROP_STAMP) ## The interop tests' Python (tests/interop/.venv: DuckDB, Polars, pandas, pyarrow)

test-interop: interop-venv browser ## Other tools read ccc's outputs: DuckDB, Polars, pandas and pyarrow the Parquet, Prometheus the metrics, the W3C validator and Chromium the HTML report
	$(CARGO) build --locked -p ccc-cli
	CCC_BIN=target/debug/ccc tests/interop/.venv/bin/python -m pytest -q tests/interop

SPARK_VENV := deploy/spark/.venv
SPARK_PY   := $(SPARK_VENV)/bin/python
SPARK_STAMP := $(SPARK_VENV)/.installed

$(SPARK_STAMP): deploy/spark/requirements.txt
	@test -x $(SPARK_PY) || python3 -m venv $(SPARK_VENV)
	$(SPARK_PY) -m pip install -q -r deploy/spark/requirements.txt
	@touch $@

spark-venv: $(SPARK_STAMP) ## The Spark job's Python (deploy/spark/.venv: PySpark and friends, pinned)

test-spark: spark-venv ## The Spark job beside ccc: conformance, bad input, steps, a standalone cluster (needs Java 17+)
	$(CARGO) build --locked -p ccc-cli
	cd deploy/spark && .venv/bin/ruff format --check . && .venv/bin/ruff check .
	cd deploy/spark && CCC_BIN=$(abspath target/debug/ccc) .venv/bin/python -m pytest -n 2

setup_spark: spark-venv ## Start a Spark standalone master and worker on 127.0.0.1:7077 (no Docker; Java 17+)
	$(SPARK_PY) deploy/spark/cluster.py start

run_spark_application: spark-venv ## Submit the Spark job to that cluster: $(SOURCE) into $(OUT)
	PYSPARK_PYTHON=$(abspath $(SPARK_PY)) $(SPARK_VENV)/bin/spark-submit \
		--master $$($(SPARK_PY) deploy/spark/cluster.py url) \
		--driver-java-options -Dlog4j2.configurationFile=$(abspath deploy/spark/log4j2.properties) \
		deploy/spark/application.py $(SOURCE) $(OUT)

shutdown_spark: ## Stop the Spark master and worker (and everything they started)
	$(SPARK_PY) deploy/spark/cluster.py stop

AIRFLOW_VENV  := deploy/airflow/.venv
AIRFLOW_STAMP := $(AIRFLOW_VENV)/.installed

# Airflow's published constraints cannot be fetched here: constraints.txt is the frozen
# resolution of requirements.txt, committed (deploy/airflow/README.md).
$(AIRFLOW_STAMP): deploy/airflow/requirements.txt deploy/airflow/constraints.txt
	@test -x $(AIRFLOW_VENV)/bin/python || python3.11 -m venv $(AIRFLOW_VENV)
	$(AIRFLOW_VENV)/bin/pip install -q -r deploy/airflow/requirements.txt -c deploy/airflow/constraints.txt
	@touch $@

airflow-venv: $(AIRFLOW_STAMP) ## The DAG's Airflow 3 (deploy/airflow/.venv, pinned by a committed constraints file)

airflow_test: airflow-venv spark-venv ## The Airflow DAG in a real Airflow 3: every task, retries, alerts, metrics, the Spark engine
	$(CARGO) build --locked -p ccc-cli
	cd deploy/airflow && .venv/bin/ruff format --check . && .venv/bin/ruff check .
	cd deploy/airflow && CCC_BIN=$(abspath target/debug/ccc) .venv/bin/python -m pytest -q -n 2

lint: ## rustfmt and clippy, warnings are errors
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

bench: ## ccc beside DuckDB (BENCH_ARGS="--sizes 1m --repeat 1"), then an incremental run beside a full one (INCR_ARGS="--size 1m --repeat 1"), GX aggregates on any table beside DuckDB (AGG_ARGS="--size 1m"), then Spark local beside both (SPARK_ARGS="--size 1m"); see docs/performance.md
	python3 -m venv bench/.venv && bench/.venv/bin/pip install -q -r bench/requirements.txt && bench/.venv/bin/python bench/run.py $(BENCH_ARGS)
	bench/.venv/bin/python bench/incremental.py $(INCR_ARGS)
	bench/.venv/bin/python bench/aggregates.py --no-build $(AGG_ARGS)
	$(MAKE) spark-venv
	bench/.venv/bin/python bench/spark.py $(SPARK_ARGS)

bench-scale: ## Time per message of the checked run from 1M to 200M messages, sizes interleaved (SCALE_ARGS="--sizes 1m,10m --rounds 1"; 200M needs 5.3 GB of disk and 17 GiB to generate); see docs/performance.md
	$(CARGO) build --release --locked -p ccc-cli
	python3 -m venv bench/.venv && bench/.venv/bin/pip install -q -r bench/requirements.txt && bench/.venv/bin/python bench/scale.py $(SCALE_ARGS)

clean_data: ## Remove generated and processed data (keeps the committed sample)
	rm -rf $(OUT) data/generated data/state bench/data

prepare: ## Create the data folders
	mkdir -p $(SOURCE) $(OUT) data/generated

generate_data: build prepare ## Generate sources into data/generated (ORDERS=, SEED=, FORMAT=json)
	$(CCC) generate --orders $(ORDERS) --seed $(SEED) --format $(or $(FORMAT),json) --out data/generated

sample: build ## Regenerate the committed sample in data/source (500 orders, JSON arrays, seed 42)
	rm -f data/source/customer_courier_chat_messages* data/source/orders* data/source/_generated.json
	$(CCC) generate --orders 500 --seed 42 --format json --out data/source

FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= json_array ndjson csv parquet suite published_output
FUZZ_ARGS    ?=
.PHONY: fuzz

fuzz: ## Fuzz the readers and the suite loader, FUZZ_SECONDS (60) per target (FUZZ_TARGETS=, FUZZ_ARGS=); crashes in fuzz/artifacts/
	@$(CARGO) fuzz --version >/dev/null 2>&1 || $(CARGO) install cargo-fuzz --locked
	$(CARGO) +nightly fuzz build -O
	@failed=""; for t in $(FUZZ_TARGETS); do \
		echo "== fuzz $$t for $(FUZZ_SECONDS)s"; \
		$(CARGO) +nightly fuzz run -O $$t -- -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=4096 -timeout=10 $(FUZZ_ARGS) \
			|| failed="$$failed $$t"; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz: findings in:$$failed (see fuzz/artifacts/<target>/)"; exit 1; fi
