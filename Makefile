# laborai: two entry points, each doing all of its own set-up on a fresh machine.
#   make report  -> create .venv, install from requirements.lock, run the report build
#   make test    -> create .venv, install from requirements.lock, run ruff, mypy and pytest
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.laborai-installed
LABORAI_DATA_DIR ?= $(abspath ../shared/data)
export LABORAI_DATA_DIR
export PYTHONHASHSEED := 0
export TZ := UTC
export OMP_NUM_THREADS := 1
export OPENBLAS_NUM_THREADS := 1
export MKL_NUM_THREADS := 1
export NUMBA_NUM_THREADS := 1
export MPLBACKEND := Agg

.PHONY: report check-report test lint typecheck pytest bench install clean docs

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

report: $(STAMP)
	$(BIN)/laborai report

check-report: $(STAMP)
	$(BIN)/laborai report --check

test: lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check laborai tests benchmarks analyses

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python benchmarks/panel_build.py

clean:
	rm -rf build figures/*.svg figures/*.png figures/*.csv figures/MANIFEST.sha256 figures/INDEX.md $(VENV) .mypy_cache .ruff_cache .pytest_cache

# The documentation site (Sphinx + MyST + numpydoc), offline, warnings as errors: build/docs/index.html
docs: $(STAMP)
	$(BIN)/sphinx-build -W --keep-going -q -b html docs build/docs
