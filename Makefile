# The two set-up commands: `make demo` and `make test`. Each installs what it needs first.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# uv from PATH, else a private copy installed with pip into .tools/ (only PyPI is reachable here).
UV_VERSION := 0.13.9
UV := $(or $(shell command -v uv 2>/dev/null),$(CURDIR)/.tools/bin/uv)
export UV_PYTHON_DOWNLOADS := never
# The interpreter: Debian's python3.11 when there is one. It is built with profile-guided and link-time optimisation;
# pyenv's default build (first on PATH here) has neither and is a shared library. The same sync, CLI and dbt build
# took ~12% less CPU on Debian's (2026-12-06: 30.5 against 34.6 CPU-s, three alternated pairs); every test process
# is Python. The image (deploy/Dockerfile) uses python:3.11-slim, which is built the same optimised way. Changing the
# interpreter makes `uv sync` recreate .venv, hence the stamp's dependency on this file.
DEBIAN_PYTHON := $(wildcard /usr/bin/python3.11)
ifneq ($(DEBIAN_PYTHON),)
export UV_PYTHON ?= $(DEBIAN_PYTHON)
endif
export SENTRUM_HOME ?= $(CURDIR)/.sentrum
# These machines set PYTHONDONTWRITEBYTECODE. Without cached bytecode every process (the CLI, each Dagster run, dbt)
# compiles all it imports again: seconds per process, minutes over the tests. The locked environment is compiled when
# it is synced; our own modules write their cache (ignored by git) on first import.
unexport PYTHONDONTWRITEBYTECODE
# pytest-xdist workers, on 2 cores. `make test` is mostly whole pipelines, whose processes also wait (Dagster's SQLite
# commits, daemons' ticks, the sandbox's report jobs): a third worker fills those waits (2026-12-05: 13 min 42 s with
# the CPUs 97% busy, against 14 min 11 s and 90% on two). The unit tier often waits on local servers: three there too.
# tests/README.md has the figures.
TEST_WORKERS ?= 3
FAST_WORKERS ?= 3
SANDBOX_PORT ?= 8765
UI_PORT ?= 3000
DOCS_PORT ?= 8080

.PHONY: help setup demo test test-fast ui sandbox sentrum sync dbt docs docs-serve lint clean chromium postgres

help:
	@echo "make demo   - run the nightly pipeline on the embedded default (DuckDB + Graph API sandbox)"
	@echo "make test   - run the test suite"
	@echo "make test-fast - the unit tier only (no dbt builds, CLI runs or servers)"
	@echo "make ui     - Dagster UI on the demo's state (http://127.0.0.1:$(UI_PORT)), sandbox on :$(SANDBOX_PORT)"
	@echo "make sync WORKSPACE=acme [START=YYYY-MM-DD END=YYYY-MM-DD] - extract one workspace, then build the marts"
	@echo "make sentrum ARGS='workspaces list' - any sentrum command (sentrum --help)"
	@echo "make dbt ARGS='build --select marts' - dbt on the embedded warehouse (\$$SENTRUM_HOME/warehouse.duckdb)"
	@echo "make docs   - build the dbt docs site (overview, every mart column described) under \$$SENTRUM_HOME/dbt/docs"
	@echo "make docs-serve - serve it on http://127.0.0.1:$(DOCS_PORT) (DOCS_PORT=...)"
	@echo "make lint   - ruff, and sqlfluff over the dbt models"

$(CURDIR)/.tools/bin/uv:
	python3 -m venv $(CURDIR)/.tools
	$(CURDIR)/.tools/bin/pip install --quiet "uv==$(UV_VERSION)"

.venv/.synced: pyproject.toml uv.lock Makefile | $(UV)
	$(UV) sync --frozen --compile-bytecode
	@touch $@

setup: .venv/.synced

demo: setup
	$(UV) run --frozen --no-sync sentrum demo

test: setup chromium postgres
	$(UV) run --frozen --no-sync pytest -n $(TEST_WORKERS) --dist loadscope --no-loadscope-reorder

# The unit tier: every test outside the slow folders (tests/conftest.py SLOW_FOLDERS) and the BigQuery and deployed
# ones; no browser or Postgres needed.
test-fast: setup
	$(UV) run --frozen --no-sync pytest -n $(FAST_WORKERS) -m "not slow and not bigquery and not deployed"

# Headless Chromium for the report test (Debian's chromium-headless-shell); installed once, quiet when present.
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
chromium:
	@command -v chromium-headless-shell >/dev/null 2>&1 || test -x /usr/lib/chromium/chromium-headless-shell \
		|| { echo "installing chromium-headless-shell (apt)"; $(SUDO) apt-get update -qq \
		&& DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium-headless-shell >/dev/null; }

# PostgreSQL server binaries for the deployed-mode tests (Debian's postgresql): the tests start their own server on a
# private data directory and a free port. Installed once, quiet when present, without a default cluster.
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 \
		|| { echo "installing postgresql (apt)"; $(SUDO) mkdir -p /etc/postgresql-common/createcluster.d \
		&& echo "create_main_cluster = false" | $(SUDO) tee /etc/postgresql-common/createcluster.d/sentrum.conf >/dev/null \
		&& $(SUDO) apt-get update -qq \
		&& DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq postgresql >/dev/null; }

ui: setup
	SANDBOX_PORT=$(SANDBOX_PORT) UI_PORT=$(UI_PORT) UV="$(UV)" ./scripts/ui.sh

sandbox: setup
	$(UV) run --frozen --no-sync sentrum sandbox serve --port $(SANDBOX_PORT)

# The command line and dbt as the README writes them, through the locked environment (no `uv` on PATH needed).
sentrum: setup
	$(UV) run --frozen --no-sync sentrum $(ARGS)

sync: setup
	@test -n "$(WORKSPACE)" || { echo "usage: make sync WORKSPACE=<id> [START=YYYY-MM-DD END=YYYY-MM-DD]" >&2; exit 2; }
	$(UV) run --frozen --no-sync sentrum sync --workspace $(WORKSPACE) $(if $(START),--start $(START)) \
		$(if $(END),--end $(END))

# dbt by hand on the embedded warehouse: its target and logs under SENTRUM_HOME (never in the repository).
DBT_CLI_DIR = $(SENTRUM_HOME)/dbt/cli
dbt: setup
	@test -n "$(ARGS)" || { echo "usage: make dbt ARGS='build --select marts' (any dbt command)" >&2; exit 2; }
	@mkdir -p -m 700 $(DBT_CLI_DIR)
	SENTRUM_DUCKDB_PATH=$${SENTRUM_DUCKDB_PATH:-$(SENTRUM_HOME)/warehouse.duckdb} \
	SENTRUM_DUCKDB_TEMP_DIR=$${SENTRUM_DUCKDB_TEMP_DIR:-$(SENTRUM_HOME)/duckdb_tmp} \
		$(UV) run --frozen --no-sync dbt $(ARGS) --project-dir dbt_project --profiles-dir dbt_project \
		--target-path $(DBT_CLI_DIR) --log-path $(DBT_CLI_DIR)

# dbt writes under SENTRUM_HOME, never into the repository (which may be read-only). Column types come from the demo's
# warehouse; before any `make demo` the site is built without them (--empty-catalog, on a throwaway DuckDB file).
DOCS_DIR = $(SENTRUM_HOME)/dbt/docs
DBT_DOCS = $(UV) run --frozen --no-sync dbt docs
DBT_DIRS = --project-dir dbt_project --profiles-dir dbt_project --target-path $(DOCS_DIR) --log-path $(DOCS_DIR)
docs: setup
	@mkdir -p -m 700 $(SENTRUM_HOME)
	@if [ -f $(SENTRUM_HOME)/warehouse.duckdb ]; then \
		SENTRUM_DUCKDB_PATH=$(SENTRUM_HOME)/warehouse.duckdb $(DBT_DOCS) generate $(DBT_DIRS) --quiet; \
	else \
		echo "no warehouse in $(SENTRUM_HOME) yet (make demo): building the docs without column types"; \
		SENTRUM_DUCKDB_PATH=$(DOCS_DIR)/empty.duckdb $(DBT_DOCS) generate $(DBT_DIRS) --quiet --empty-catalog \
			&& rm -f $(DOCS_DIR)/empty.duckdb; \
	fi
	@echo "dbt docs: $(DOCS_DIR)/index.html (make docs-serve: http://127.0.0.1:$(DOCS_PORT))"

docs-serve: setup
	@test -f $(DOCS_DIR)/index.html || $(MAKE) --no-print-directory docs
	@echo "dbt docs on http://127.0.0.1:$(DOCS_PORT) (Ctrl-C stops it; DOCS_PORT=... for another port)"
	@$(DBT_DOCS) serve $(DBT_DIRS) --host 127.0.0.1 --port $(DOCS_PORT) --no-browser

# SQL through dbt's own templating (dbt_project/.sqlfluff), compiled against a throwaway DuckDB file under SENTRUM_HOME.
LINT_DIR = $(SENTRUM_HOME)/lint
lint: setup
	$(UV) run --frozen --no-sync ruff check .
	$(UV) run --frozen --no-sync ruff format --check .
	@mkdir -p -m 700 $(LINT_DIR)
	cd dbt_project && SENTRUM_DUCKDB_PATH=$(LINT_DIR)/lint.duckdb SENTRUM_DUCKDB_TEMP_DIR=$(LINT_DIR)/tmp \
		$(UV) run --frozen --no-sync sqlfluff lint models analyses

clean:
	rm -rf .sentrum dbt_project/target dbt_project/logs .pytest_cache
