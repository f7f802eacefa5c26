# One entry point for set-up, tests, conformance, benchmarks and the demo.
# Everything installs itself on a fresh machine: uv (with pip, if missing), the Python
# environments (uv.lock), node packages (npm ci, where a tier needs them).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))

PYENV_ROOT ?= $(shell pyenv root 2>/dev/null || echo $$HOME/.pyenv)
# Python 3.12 runs the workspace (Django 6.1); 3.11 runs the Django 5.2 LTS leg; 3.13 runs the
# package tests once more on the newest Python (Django 6.1).
PYTHON ?= $(firstword $(wildcard $(PYENV_ROOT)/versions/3.12.*/bin/python3.12) $(shell command -v python3.12 2>/dev/null))
PYTHON311 ?= $(firstword $(wildcard $(PYENV_ROOT)/versions/3.11.*/bin/python3.11) $(shell command -v python3.11 2>/dev/null))
PYTHON313 ?= $(firstword $(wildcard $(PYENV_ROOT)/versions/3.13.*/bin/python3.13) $(shell command -v python3.13 2>/dev/null))
BOOTSTRAP_PYTHON ?= $(shell command -v python3)

UV ?= $(or $(shell command -v uv 2>/dev/null),$(ROOT)/.tools/bin/uv)
export PATH := $(dir $(UV)):$(PATH)
export UV_PYTHON_DOWNLOADS := never

VENV := $(ROOT)/.venv
VENV311 := $(ROOT)/.venv-py311
VENV313 := $(ROOT)/.venv-py313
PY := $(VENV)/bin/python
PY311 := $(VENV311)/bin/python

PACKAGES := $(notdir $(wildcard packages/*))
# Backends whose conformance smoke set gates `make test` (each added when it passes).
CONFORMANCE_BACKENDS ?= sqlite3 dbms jsonlines_git d1 prisma
# The suites that also run on Python 3.11 + Django 5.2, each in its own pytest process (each
# package configures Django settings for its tests).
PY311_PACKAGES ?= shared/django-backend-core/tests $(foreach p,$(PACKAGES),packages/$(p)/tests)
SMOKE_DJANGO ?= 5.2.19
# The smoke set on the newest supported Django too, for the backends where it takes about two
# minutes (dbms covers the remote-SQLite dialect that d1 shares; d1 and prisma: `make
# conformance BACKEND=d1 DJANGO=6.1.3`, about 8 and 6 minutes).
CONFORMANCE_BACKENDS_NEWEST ?= dbms jsonlines_git

SET ?= smoke
# `make conformance` defaults to the newest supported Django (the one .venv runs); the backends'
# targets are stated on the LTS, so their reports are made with DJANGO=5.2.19.
DJANGO ?= 6.1.3

.PHONY: help setup setup-py311 setup-py313 lint test test-core test-packages test-pkg test-py311 test-py313 \
        conformance conformance-smoke conformance-smoke-newest bench build wheel-check docs demo demo-test clean

help:
	@echo "make demo | test | conformance BACKEND=x SET=smoke|orm|full | bench BACKEND=x | build | docs"

$(ROOT)/.tools/bin/uv:
	$(BOOTSTRAP_PYTHON) -m venv $(ROOT)/.tools
	$(ROOT)/.tools/bin/pip install -q uv

$(VENV)/.synced: uv.lock pyproject.toml $(wildcard packages/*/pyproject.toml) shared/django-backend-core/pyproject.toml | $(UV)
	@test -n "$(PYTHON)" || { echo "Python 3.12 not found: set PYTHON=/path/to/python3.12"; exit 1; }
	$(UV) sync --locked --all-packages --all-extras --python $(PYTHON)
	@touch $@

$(VENV311)/.synced: uv.lock pyproject.toml $(wildcard packages/*/pyproject.toml) shared/django-backend-core/pyproject.toml | $(UV)
	@test -n "$(PYTHON311)" || { echo "Python 3.11 not found: set PYTHON311=/path/to/python3.11"; exit 1; }
	UV_PROJECT_ENVIRONMENT=$(VENV311) $(UV) sync --locked --all-packages --all-extras --python $(PYTHON311)
	@touch $@

$(VENV313)/.synced: uv.lock pyproject.toml $(wildcard packages/*/pyproject.toml) shared/django-backend-core/pyproject.toml | $(UV)
	@test -n "$(PYTHON313)" || { echo "Python 3.13 not found: set PYTHON313=/path/to/python3.13"; exit 1; }
	UV_PROJECT_ENVIRONMENT=$(VENV313) $(UV) sync --locked --all-packages --all-extras --python $(PYTHON313)
	@touch $@

setup: $(VENV)/.synced
setup-py311: $(VENV311)/.synced
setup-py313: $(VENV313)/.synced

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy --config-file shared/django-backend-core/pyproject.toml shared/django-backend-core/src

test-core: setup
	$(PY) -m pytest -q shared/django-backend-core/tests

# One package's tests: make test-pkg PKG=django-d1
test-pkg: setup
	$(PY) -m pytest -q packages/$(PKG)/tests

test-packages: setup
	@for p in $(PACKAGES); do \
	  echo "== $$p"; $(PY) -m pytest -q packages/$$p/tests || exit 1; \
	done

# Unit tests of the runners, harness and proxies (no Django suite runs here).
test-integration-units: setup
	$(PY) -m pytest -q tests-integration

test-py311: setup-py311
	$(PY311) -c "import django, sys; assert sys.version_info[:2] == (3, 11) and django.VERSION[:2] == (5, 2), (sys.version, django.__version__)"
	@for t in $(PY311_PACKAGES); do \
	  echo "== $$t (Python 3.11)"; $(PY311) -m pytest -q $$t || exit 1; \
	done

# Every package's tests and the core's on Python 3.13 (Django 6.1 from uv.lock).
test-py313: setup-py313
	$(VENV313)/bin/python -c "import django, sys; assert sys.version_info[:2] == (3, 13) and django.VERSION[:2] == (6, 1), (sys.version, django.__version__)"
	$(VENV313)/bin/python -m pytest -q shared/django-backend-core/tests
	@for p in $(PACKAGES); do \
	  echo "== $$p (Python 3.13)"; $(VENV313)/bin/python -m pytest -q packages/$$p/tests || exit 1; \
	done

conformance: setup
	$(PY) tests-integration/django_suite/run.py --backend $(or $(BACKEND),sqlite3) --set $(SET) --django $(DJANGO)

conformance-smoke: setup
	@for b in $(CONFORMANCE_BACKENDS); do \
	  echo "== conformance smoke: $$b (Django $(SMOKE_DJANGO))"; \
	  $(PY) tests-integration/django_suite/run.py --backend $$b --set smoke --django $(SMOKE_DJANGO) || exit 1; \
	done

conformance-smoke-newest: setup
	@for b in $(CONFORMANCE_BACKENDS_NEWEST); do \
	  echo "== conformance smoke: $$b (Django $(DJANGO))"; \
	  $(PY) tests-integration/django_suite/run.py --backend $$b --set smoke --django $(DJANGO) || exit 1; \
	done

bench: setup
	@test -n "$(BACKEND)" || { echo 'usage: make bench BACKEND=<name>'; exit 2; }
	$(PY) tests-integration/bench/run.py --backend $(BACKEND)

build: setup
	rm -rf dist
	$(UV) build -q --all-packages --no-sources -o dist

wheel-check: build
	$(PY) tests-integration/wheels/check_wheels.py dist

docs: setup
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --site-dir site

demo: setup
	$(PY) tests-integration/demo/run.py $(if $(BACKEND),--backend $(BACKEND)) $(if $(SERVE),--serve)

# The reference app's own tests (pytest-django) on each SQL backend's local server; astra is
# listed with its reason (its party finder is tested by packages/django-astra/tests).
demo-test: setup
	$(PY) tests-integration/demo/run.py --test $(if $(BACKEND),--backend $(BACKEND))

test: lint test-core test-packages test-integration-units test-py311 test-py313 wheel-check docs conformance-smoke conformance-smoke-newest
	@echo "make test: all green"

clean:
	rm -rf dist site .cache/conformance
