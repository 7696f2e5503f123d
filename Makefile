# make run | make test | make lint | make bench — each creates .venv and installs the project
# on first use (and again whenever pyproject.toml changes).

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000
# The embedded demo: SQLite in instance/, mounted Cronofy sandbox, demo Bookly, captured mail.
DEMO_ENV := BRIDGE_ENV=demo

.PHONY: run test lint bench install browser clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: install
	mkdir -p instance
	$(DEMO_ENV) $(FLASK) db upgrade
	$(DEMO_ENV) $(FLASK) demo seed
	@echo
	@echo "Calendar bridge: http://$(HOST):$(PORT)/  (Cronofy sandbox: http://$(HOST):$(PORT)/sandbox/cronofy/)"
	@echo "Log in as admin@demo.test / demo-admin, or as an instructor:"
	@echo "  ada@demo.test, grace@demo.test, alan@demo.test / demo-instructor"
	@echo
	$(DEMO_ENV) PUBLIC_BASE_URL=http://$(HOST):$(PORT) $(FLASK) run --host $(HOST) --port $(PORT) --with-threads

# Browser tests use Debian's chromium; install it when missing and we are root with apt.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian chromium for browser tests..."; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) \
	      >/dev/null 2>&1 || echo "could not install chromium; browser tests will skip"; \
	  fi; }

test: install browser
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: install
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
