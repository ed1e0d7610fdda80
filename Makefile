# Two commands on a fresh machine:  `make serve`  runs the service;  `make test`  runs the tests.
# `make help` lists every target. PY picks the interpreter for .venv (make serve PY=python3.12).
PY ?= python3
HOST ?= 127.0.0.1
PORT ?= 8000
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Does a Python satisfy pyproject.toml's requires-python? (exit 0/1, one line why not)
PYTHON_OK := scripts/python_ok.py
INSTALL ?= $(BIN)/pip install -q --upgrade pip && $(BIN)/pip install -q -e '.[test]'

.DEFAULT_GOAL := help
.PHONY: help serve test lint format bench clean

# A .venv whose Python is missing or does not satisfy requires-python (say, left by a failed
# install with an older Python) is rebuilt, whatever the age of its stamp.
ifneq ($(shell $(BIN)/python $(PYTHON_OK) >/dev/null 2>&1 && echo ok),ok)
.PHONY: $(STAMP)
endif

help: ## this list
	@awk 'BEGIN {FS = ":.*## "} /^[a-z]+:.*## / {printf "  make %-7s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): pyproject.toml
	@$(PY) $(PYTHON_OK) || { echo "make: $(PY) cannot run acctsync; install a Python that can and pass it: make PY=python3.12 ..." >&2; exit 2; }
	@if [ -d $(VENV) ] && ! $(BIN)/python $(PYTHON_OK) >/dev/null 2>&1; then \
		echo "make: $(VENV)'s Python is missing or too old: rebuilding $(VENV)"; rm -rf $(VENV); fi
	$(PY) -m venv $(VENV)
	$(INSTALL)
	touch $(STAMP)

serve: $(STAMP) ## run the service on http://127.0.0.1:8000 (make serve HOST=0.0.0.0 PORT=9000)
	$(BIN)/acctsync serve --host $(HOST) --port $(PORT)

test: $(STAMP) ## run the tests (SQLite; PostgreSQL too with ACCTSYNC_TEST_DATABASE_URL)
	$(BIN)/pytest -q

lint: $(STAMP) ## ruff check, ruff format --check, import contracts (lint-imports)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

# The benches at a smoke size, on SQLite (about a minute): they run end to end and print
# their figures, which at this size say nothing about speed. Full sizes and the latest
# figures: README "Benchmarks"; the matching benches (bench.matching_*) run on their own.
bench: $(STAMP) ## the benches at a smoke size (about a minute; figures in the README)
	$(BIN)/python -m bench.webhooks --db sqlite --requests 300 --repeats 1 --time-cap 10
	$(BIN)/python -m bench.pull --small --runs 1 --no-pg
	$(BIN)/python -m bench.synced_records --db sqlite --rows 5000 --requests 20
	$(BIN)/python -m bench.push_reliability --payables 10 --receivables 10 --limit 60
	$(BIN)/python -m bench.sandbox_load
	$(BIN)/python -m bench.smarty_reliability --documents 20 --limit 60
	$(BIN)/python -m bench.smarty_pull --contacts 400 --items 40 --invoices 400 --bills 200

format: $(STAMP) ## ruff format and ruff check --fix
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean: ## remove .venv, ./var (the embedded database) and caches
	rm -rf $(VENV) var .pytest_cache
