# Two commands on a fresh machine:  `make serve`  runs the service;  `make test`  runs the tests.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: serve test lint format bench clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

serve: $(STAMP)
	$(BIN)/acctsync serve

test: $(STAMP)
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

# The benches at a smoke size, on SQLite (about a minute): they run end to end and print
# their figures, which at this size say nothing about speed. Full sizes and the latest
# figures: README "Benchmarks"; the matching benches (bench.matching_*) run on their own.
bench: $(STAMP)
	$(BIN)/python -m bench.webhooks --db sqlite --requests 300 --repeats 1 --time-cap 10
	$(BIN)/python -m bench.pull --small --runs 1 --no-pg
	$(BIN)/python -m bench.synced_records --db sqlite --rows 5000 --requests 20
	$(BIN)/python -m bench.push_reliability --payables 10 --receivables 10 --limit 60
	$(BIN)/python -m bench.sandbox_load

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) var .pytest_cache
