# make run | make test | make lint | make bench — each creates .venv and installs the project
# on first use (and again whenever requirements.lock or pyproject.toml changes), with every
# dependency at the version and hash pinned in requirements.lock. make lock regenerates it.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
LOCK := requirements.lock
# Install from PyPI only, whatever a pip.conf or PIP_* variable on this machine adds (local
# wheel folders, extra indexes, constraints): the hashes in $(LOCK) are PyPI's files.
PIP := env -u PIP_FIND_LINKS -u PIP_EXTRA_INDEX_URL -u PIP_CONSTRAINT -u PIP_REQUIRE_HASHES \
	PIP_CONFIG_FILE=/dev/null $(BIN)/python -m pip
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000
# The embedded demo: SQLite in instance/, mounted Cronofy sandbox, demo Bookly, captured mail.
DEMO_ENV := BRIDGE_ENV=demo

.PHONY: run test lint bench install lock browser axe clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(LOCK) pyproject.toml | $(BIN)/python
	$(PIP) install --quiet --require-hashes -r $(LOCK)
	$(PIP) install --quiet --no-deps -e .
	$(PIP) check || { echo "$(LOCK) lacks a dependency of pyproject.toml: run make lock"; exit 1; }
	touch $(STAMP)

install: $(STAMP)

# Re-resolve pyproject.toml's ranges (runtime + dev extra) to the newest versions on PyPI,
# for every platform and Python >= 3.11, with hashes. Commit requirements.lock with the change.
# Versions already in the lock are kept where still allowed; `make lock UPGRADE=1` moves all.
lock: | $(BIN)/python
	$(PIP) install --quiet --require-hashes -r $(LOCK)
	$(BIN)/uv pip compile pyproject.toml --extra dev --universal --python-version 3.11 \
	  --generate-hashes --quiet $(if $(UPGRADE),--upgrade) --output-file $(LOCK)

run: install
	mkdir -p instance
	$(DEMO_ENV) $(FLASK) db upgrade
	$(DEMO_ENV) $(FLASK) demo seed
	@echo
	@echo "Calendar bridge: http://$(HOST):$(PORT)/  (Cronofy sandbox: http://$(HOST):$(PORT)/sandbox/cronofy/)"
	@echo "Log in as admin@demo.test / demo-admin, or as an instructor:"
	@echo "  ada@demo.test, grace@demo.test, alan@demo.test / demo-instructor"
	@echo "Captured e-mail: http://$(HOST):$(PORT)/sandbox/cronofy/mailbox"
	@echo "Keeps running until Ctrl-C; run make test in another terminal."
	@echo
	$(DEMO_ENV) IN_PROCESS_BEAT=1 PUBLIC_BASE_URL=http://$(HOST):$(PORT) $(FLASK) run --host $(HOST) --port $(PORT) --with-threads

# Browser tests use Debian's chromium; install it when missing and we are root with apt.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian chromium for browser tests..."; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) \
	      >/dev/null 2>&1 || echo "could not install chromium; browser tests will skip"; \
	  fi; }

# axe-core (accessibility rules the browser suite injects), pinned by package-lock.json.
AXE := node_modules/axe-core/axe.min.js
$(AXE): package.json package-lock.json
	@command -v npm >/dev/null 2>&1 && npm ci --no-audit --no-fund --loglevel=error \
	  || echo "npm is missing or failed: the browser suite's accessibility check will skip"
	@test ! -f $(AXE) || touch $(AXE)

axe: $(AXE)

test: install browser axe
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: install
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache node_modules
