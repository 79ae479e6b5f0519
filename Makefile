# Two commands work on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck bench demo emulator clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

## Start the server on SQLite in ./.incidentflow (API, UI, webhooks and workers).
run: $(STAMP)
	$(BIN)/incidentflow serve

## The whole test suite (PostgreSQL tests run when CI is set or
## INCIDENTFLOW_TEST_DATABASE_URL points at a server; skipped with a message otherwise),
## on four pytest-xdist workers: the tests mostly wait, so four share two cores well.
## Units of work (a module, or the paced lane): tests/parallel.py. One test: plain pytest.
test: $(STAMP)
	$(BIN)/python -m pytest -q -ra -n 4 --dist loadscope

lint: $(STAMP)
	$(BIN)/ruff check incidentflow tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/pip install --quiet -e ".[dev,bench]"
	$(BIN)/python -m bench.run

demo: $(STAMP)
	$(BIN)/incidentflow demo

emulator: $(STAMP)
	$(BIN)/incidentflow emulator

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
