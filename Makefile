# The two Quick-start commands (README): `make demo` and `make test`; and `make check`, the
# edit loop's (lint, types and the tests not marked slow, in about a minute and a half).
# Each creates .venv and installs what it needs when missing, then says what it did.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# An install is redone whenever pyproject.toml changes.
RUNTIME_STAMP := $(VENV)/.installed-runtime
TEST_STAMP    := $(VENV)/.installed-test
BENCH_STAMP   := $(VENV)/.installed-bench

.PHONY: demo test check lint typecheck pytest fast-pytest bench clean install

demo: $(RUNTIME_STAMP)
	$(BIN)/roomsync demo

test: $(TEST_STAMP) lint typecheck pytest

check: $(TEST_STAMP) lint typecheck fast-pytest

lint: $(TEST_STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports

typecheck: $(TEST_STAMP)
	$(BIN)/mypy

# The whole suite on two processes (pytest-xdist, grouped by module): most tests wait on
# servers, subprocesses and databases rather than on a core. PYTEST_ARGS="-n 0" runs it in one.
pytest: $(TEST_STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadfile $(PYTEST_ARGS)

# The tests not marked slow (those start servers, workers or processes), on SQLite only
# (make test runs the PostgreSQL variants), on two processes (pytest-xdist).
fast-pytest: $(TEST_STAMP)
	$(BIN)/python -m pytest -m "not slow and not postgres" -n 2 -q $(PYTEST_ARGS)

bench: $(BENCH_STAMP)
	$(BIN)/python -m bench

install: $(RUNTIME_STAMP)

$(VENV)/bin/python:
	@echo "make: creating the virtual environment $(VENV) with $(PYTHON)"
	$(PYTHON) -c 'import sys; sys.exit("roomsync needs Python >= 3.11, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)

$(RUNTIME_STAMP): pyproject.toml | $(VENV)/bin/python
	@echo "make: installing roomsync and its dependencies into $(VENV)"
	$(BIN)/python -m pip install --disable-pip-version-check -e .
	@touch $@

$(TEST_STAMP): pyproject.toml | $(VENV)/bin/python
	@echo "make: installing roomsync with its test tools (pytest, pytest-xdist, hypothesis, mypy, ruff, import-linter, msgraph-sdk) into $(VENV)"
	$(BIN)/python -m pip install --disable-pip-version-check -e '.[test]'
	@touch $@ $(RUNTIME_STAMP)

$(BENCH_STAMP): $(TEST_STAMP)
	@echo "make: installing the benchmarks' plotting library (matplotlib) into $(VENV)"
	$(BIN)/python -m pip install --disable-pip-version-check -e '.[test,bench]'
	@touch $@

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
