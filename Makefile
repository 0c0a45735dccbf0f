# injector: see README.md. `make demo` and `make test` are the two entry points.
SHELL := /bin/bash
PYTHON_SYSTEM ?= /usr/bin/python3
VENV := .venv
PY := $(VENV)/bin/python
PYTEST := $(PY) -m pytest
STAMP := $(VENV)/.installed

.PHONY: demo test lint unit integration coverage e2e binary-tests container-tests bench clean help

help:
	@echo "make demo     run injector against a local S3-compatible server (no AWS account)"
	@echo "make test     the whole suite: lint, unit, integration, binary, containers"
	@echo "make binary   build dist/injector in the build container (binary-local: on the host)"
	@echo "make bench    start-up and scaling benchmarks -> bench/results.md"

$(STAMP): pyproject.toml
	$(PYTHON_SYSTEM) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -e '.[test,build]'
	touch $@

venv: $(STAMP)

demo: $(STAMP)
	$(PY) docs/demo.py

lint: $(STAMP)
	$(VENV)/bin/ruff check injector tests docs bench packaging
	$(VENV)/bin/ruff format --check injector
	$(VENV)/bin/mypy

unit: $(STAMP)
	$(PYTEST) tests/unit -q

integration: $(STAMP)
	$(PYTEST) tests/integration -q -n 2

# Unit + integration under coverage (line and branch), subprocesses included; fails below the
# floor in pyproject.toml ([tool.coverage.report] fail_under).
coverage: $(STAMP)
	rm -rf build/coverage && mkdir -p build/coverage
	INJECTOR_COVERAGE_RC=$(CURDIR)/pyproject.toml $(PYTEST) tests/unit tests/integration -q -n 2 \
		--cov --cov-report=
	$(PY) -m coverage report

# The whole suite, as CI runs it: lint, unit + integration (real servers), the binary built
# through the build container (the release path), then the binary and container tiers.
test: lint
	$(MAKE) --no-print-directory coverage
	$(MAKE) dist
	$(MAKE) binary-tests container-tests

clean:
	rm -rf build dist .pytest_cache .mypy_cache .ruff_cache

-include packaging/packaging.mk
-include tests/e2e/e2e.mk
-include bench/bench.mk
