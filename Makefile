# Two commands on a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
ROOT := $(CURDIR)

export CCHC_HOME := $(ROOT)
export CCHC_DATA_DIR ?= $(ROOT)/data
export GX_ANALYTICS_ENABLED := false
export AIRFLOW_HOME := $(ROOT)/.airflow
export AIRFLOW__CORE__DAGS_FOLDER := $(ROOT)/dags
export AIRFLOW__CORE__PLUGINS_FOLDER := $(ROOT)/plugins
export AIRFLOW__CORE__LOAD_EXAMPLES := False
export AIRFLOW__CORE__DEFAULT_TIMEZONE := Asia/Ho_Chi_Minh
export AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION := True
export AIRFLOW__CORE__UNIT_TEST_MODE := False
export AIRFLOW__LOGGING__LOGGING_LEVEL := WARNING
export NO_PROXY := *

GOLDEN := $(ROOT)/../shared/domain/golden_h1_2024.csv

.PHONY: install demo test test-fast lint corpus bench lock clean airflow-db up down stack-status

$(BIN)/cchc: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.lock
	$(BIN)/pip install -q --no-deps -e .
	touch $@

install: $(BIN)/cchc

$(AIRFLOW_HOME)/airflow.db: | install
	mkdir -p $(AIRFLOW_HOME)
	$(BIN)/airflow db migrate > /dev/null

airflow-db: $(AIRFLOW_HOME)/airflow.db

# Sample submissions → landing folder → cchc_ingest → cchc_period_report, on the embedded SQLite default.
demo: install airflow-db
	rm -rf $(CCHC_DATA_DIR)/landing $(CCHC_DATA_DIR)/samples
	$(BIN)/cchc sample --out $(CCHC_DATA_DIR)/samples
	mkdir -p $(CCHC_DATA_DIR)/landing && cp $(CCHC_DATA_DIR)/samples/h1/*.xlsx $(CCHC_DATA_DIR)/landing/
	time $(BIN)/airflow dags test cchc_ingest -c '{"received_on": "2024-06-17"}' > $(CCHC_DATA_DIR)/ingest.log 2>&1 || (tail -50 $(CCHC_DATA_DIR)/ingest.log; exit 1)
	grep -E "^Tổng cộng|new file" $(CCHC_DATA_DIR)/ingest.log || true
	$(BIN)/airflow dags test cchc_period_report -c '{"period": "2024-H1", "approval": false}' > $(CCHC_DATA_DIR)/report.log 2>&1 || (tail -50 $(CCHC_DATA_DIR)/report.log; exit 1)
	grep -E "^(Draft|Chart|Workbook|CSV):" $(CCHC_DATA_DIR)/report.log
	$(BIN)/cchc report --period 2024-H1 --compare $(GOLDEN)

# The whole suite, set up as CI sets it up (.ci/setup-test-env): the system packages the tests use (apt,
# as root; otherwise it says what to install), PostgreSQL (CCHC_TEST_PG_URL if set, else a local server
# .ci/pg-start starts) and CCHC_REQUIRE_PG=1, so nothing is skipped for want of a tool or a server.
# PYTEST_ARGS passes options on: `make test PYTEST_ARGS="-x tests/test_golden.py"`.
test: install airflow-db
	.ci/setup-test-env $(BIN)/pytest -q $(PYTEST_ARGS)

# Under two minutes: no end-to-end Airflow runs, no PostgreSQL variants, nothing slow, no LibreOffice
# (markers given by tests/conftest.py); needs no server and installs nothing.
FAST := not (e2e or postgres or slow or libreoffice)
test-fast: install airflow-db
	$(BIN)/pytest -q -m "$(FAST)" $(PYTEST_ARGS)

# Style: ruff's checks and its formatting, as configured in pyproject.toml; changes nothing.
LINT_PATHS := include dags plugins tests bench stack
lint: install
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)

# The bad/hostile file corpus: what reading each file costs in a fresh process (time, peak memory).
corpus: install
	cd tests && ../$(BIN)/python corpus.py --out $(CCHC_DATA_DIR)/corpus

# Speed at scale (not part of `make test`): N provinces of ~253 files each; `make bench N=63` ≈ 16,000.
# PostgreSQL too with PG=postgresql+psycopg2://… (or CCHC_BENCH_WAREHOUSE_URL; a role with CREATEDB);
# AIRFLOW_RESULT=file.json prints the run through Airflow/Celery beside them.
N ?= 1
bench: install
	$(BIN)/python bench/run.py --provinces $(N) $(if $(PG),--pg $(PG)) $(if $(AIRFLOW_RESULT),--airflow-result $(AIRFLOW_RESULT))

# The production shape on this machine (no Docker): PostgreSQL, Redis, Airflow on Celery workers, all on
# 127.0.0.1, state in $(CCHC_DATA_DIR)/stack. Drop files into $(CCHC_DATA_DIR)/landing; `make down` stops it all.
up: install
	$(BIN)/python stack/stack.py up

down:
	$(BIN)/python stack/stack.py down

stack-status:
	$(BIN)/python stack/stack.py status

# Regenerate the lock from what is installed (after changing pyproject.toml's dependencies).
lock:
	$(BIN)/pip freeze --exclude-editable | grep -v '^cchc' > requirements.lock

clean:
	rm -rf $(CCHC_DATA_DIR) $(AIRFLOW_HOME)
