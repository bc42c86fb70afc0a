# PCN primary mental health benchmark. `make run` and `make test` work on a fresh Debian machine
# with Python 3.11+: they create .venv with the pinned dependencies when it is missing or stale.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
BENCH_ARGS ?=

# offline and quiet (see README): set here too so every target behaves the same
export DO_NOT_TRACK := 1
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS := 90
export GX_ANALYTICS_ENABLED := false

.DEFAULT_GOAL := help
.PHONY: help setup run test test-fast bench lint format clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --constraint constraints.txt --editable '.[dev]'
	touch $(STAMP)

setup: $(STAMP) ## create .venv with the pinned dependencies

run: $(STAMP) ## run the whole job on the bundled sample into build/
	$(BIN)/pcn-benchmark run

test: $(STAMP) ## run every test (the national end-to-end test takes about 3 minutes)
	$(BIN)/pytest $(PYTEST_ARGS)

test-fast: $(STAMP) ## the quick loop: unit and fixture tests, not the national run
	$(BIN)/pytest -m "not slow" $(PYTEST_ARGS)

bench: $(STAMP) ## national-scale benchmark (24 monthly periods): per-stage time and memory, build/benchmark/results.json
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)

lint: $(STAMP) ## ruff lint and format check
	$(BIN)/ruff check flows tests benchmarks
	$(BIN)/ruff format --check flows tests benchmarks

format: $(STAMP) ## apply ruff's formatting and safe fixes
	$(BIN)/ruff check --fix flows tests benchmarks
	$(BIN)/ruff format flows tests benchmarks

clean: ## remove build outputs (not .venv)
	rm -rf build .pytest_cache .ruff_cache .prefect
