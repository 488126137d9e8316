# jobcast: `make run` for a local stack, `make test` for the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run migrate test lint types unit install clean browser bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

$(VENV)/.installed-bench: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	touch $@

install: $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/python scripts/run.py

migrate: $(VENV)/.installed
	$(BIN)/python -m store.migrate

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: $(VENV)/.installed-test
	$(BIN)/mypy

# Debian's chromium for tests/browser/: installed once when missing (root + apt-get),
# otherwise those tests skip and say why.
browser:
	@bash scripts/ensure_browser.sh

test: lint types browser
	$(BIN)/pytest

# S1–S7 beside their baselines (about 8 minutes); writes docs/BENCHMARKS.md and its plots.
bench: $(VENV)/.installed-bench
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache jobcast.db jobcast.db-shm jobcast.db-wal
