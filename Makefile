# jobcast: `make run` for a local stack, `make test` for the whole suite.
# Every install comes from the hashed lock files in requirements/ (`make lock` refreshes
# them); `make test-latest` tries the newest versions pyproject.toml allows instead.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
# Exactly the locked files, each checked against its hash; jobcast itself is built with
# the locked setuptools (no isolated build env fetching whatever is newest).
PIP_LOCKED := $(PIP) install --quiet --require-hashes --no-deps
INSTALL_SELF := $(PIP) install --quiet --no-deps --no-build-isolation -e .
UV_COMPILE := $(BIN)/uv pip compile --quiet --upgrade --universal --python-version 3.11 \
	--generate-hashes --custom-compile-command "make lock"

.PHONY: run migrate test test-latest test-model lint types pytest install clean browser bench lock

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/python requirements/app.txt pyproject.toml
	$(PIP_LOCKED) -r requirements/app.txt
	$(INSTALL_SELF)
	touch $@

$(VENV)/.installed-test: $(BIN)/python requirements/test.txt pyproject.toml
	$(PIP_LOCKED) -r requirements/test.txt
	$(INSTALL_SELF)
	touch $@

$(VENV)/.installed-bench: $(BIN)/python requirements/bench.txt pyproject.toml
	$(PIP_LOCKED) -r requirements/bench.txt
	$(INSTALL_SELF)
	touch $@

# llama-cpp-python is built from source (9 min on two busy cores) for any x86-64 with
# AVX2, not for this CPU: ggml's native build turns on its AMX kernels, which crashed
# (SIGSEGV in ggml_backend_amx_mul_mat) on a VM whose CPU reports AMX. pip's wheel cache
# is bypassed: it keys wheels by the source alone and would hand back one built otherwise.
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF
$(VENV)/.installed-model: $(BIN)/python requirements/model.txt pyproject.toml
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(PIP_LOCKED) --no-cache-dir -r requirements/model.txt
	$(INSTALL_SELF)
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

# The suite in 3 pytest-xdist workers, each file (and tests/browser/ as a whole) on one
# worker, the slowest first (tests/parallel.py). Most tests wait on subprocesses and
# sockets, so 3 workers beat 2 on 2 cores. `make pytest PYTEST_WORKERS=0` runs it in-process.
PYTEST_WORKERS ?= 3
pytest: $(VENV)/.installed-test
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile

test: lint types browser pytest

# The newest versions pyproject.toml allows, in a venv of their own: drift shows here
# before a fresh clone of a user meets it. Not part of `make test`.
test-latest:
	rm -rf .venv-latest
	$(PYTHON) -m venv .venv-latest
	.venv-latest/bin/python -m pip install --quiet --upgrade pip
	.venv-latest/bin/python -m pip install --quiet --upgrade --upgrade-strategy eager -e '.[test]'
	.venv-latest/bin/python -m pip list --format=freeze > .venv-latest/versions.txt
	touch .venv-latest/.installed .venv-latest/.installed-test
	$(MAKE) --no-print-directory test VENV=.venv-latest

# All six job types against a real OpenAI-compatible server (llama-cpp-python's) serving
# a real small model on loopback (tests/model/), a few minutes; prints a table of what each
# did. The server's and the stack's logs stay in .venv/test-model/. Not part of `make test`.
test-model: $(VENV)/.installed-model
	$(BIN)/pytest tests/model -o testpaths=tests/model --run-model -s --basetemp=$(VENV)/test-model

# Re-resolve every lock file to the newest versions pyproject.toml allows.
lock: $(BIN)/python
	$(PIP_LOCKED) -r requirements/tools.txt
	$(UV_COMPILE) requirements/tools.in -o requirements/tools.txt
	$(UV_COMPILE) pyproject.toml requirements/build.in -o requirements/app.txt
	$(UV_COMPILE) pyproject.toml requirements/build.in --extra test -c requirements/app.txt -o requirements/test.txt
	$(UV_COMPILE) pyproject.toml requirements/build.in --extra bench -c requirements/app.txt -o requirements/bench.txt
	$(UV_COMPILE) pyproject.toml requirements/build.in --extra test --extra model -c requirements/test.txt -o requirements/model.txt

# S1–S10 beside their baselines (about 10 minutes); writes docs/BENCHMARKS.md and its plots.
bench: $(VENV)/.installed-bench
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .venv-latest .mypy_cache .ruff_cache jobcast.db jobcast.db-shm jobcast.db-wal
