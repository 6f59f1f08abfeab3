# kalshi-sandbox: `make run` sets up and runs the sandbox; `make test` sets up and runs the tests.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
STAMP := $(VENV)/.installed
TS_DIR := tests/conformance/ts
NPM_STAMP := $(TS_DIR)/node_modules/.installed

.PHONY: run test lint typecheck unit bench clean

SHELL := bash
.SHELLFLAGS := -o pipefail -c
RUN_STAMP := $(VENV)/.installed-run
# pip's one line per package, so a first install shows its progress instead of going quiet.
PIP_PROGRESS := sed -un -E 's/^(Collecting|Successfully installed)/  \1/p'

$(VENV)/bin/pip:
	@echo "creating $(VENV) ..."
	$(PYTHON) -m venv $(VENV)
	@$(BIN)/pip install --quiet --upgrade pip

$(RUN_STAMP): pyproject.toml | $(VENV)/bin/pip
	@echo "installing kalshi-sandbox into $(VENV) (the first time takes a minute) ..."
	@$(BIN)/pip install --progress-bar off -e . | $(PIP_PROGRESS)
	@touch $(RUN_STAMP)

$(STAMP): pyproject.toml | $(VENV)/bin/pip
	@echo "installing kalshi-sandbox and its test tools into $(VENV) (the first time takes a minute or two) ..."
	@$(BIN)/pip install --progress-bar off -e '.[dev]' | $(PIP_PROGRESS)
	@touch $(STAMP) $(RUN_STAMP)

# Kalshi's TypeScript SDK for the conformance tests, at the versions package-lock.json pins.
$(NPM_STAMP): $(TS_DIR)/package.json $(TS_DIR)/package-lock.json
	cd $(TS_DIR) && npm ci --no-audit --no-fund --loglevel=error
	touch $(NPM_STAMP)

run: $(RUN_STAMP)
	$(BIN)/kalshi-sandbox serve --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

test: lint typecheck $(NPM_STAMP)
	$(BIN)/pytest

BENCH_STAMP := $(VENV)/.installed-bench

$(BENCH_STAMP): $(STAMP) pyproject.toml
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BIN)/python -m bench
	$(BIN)/python -m bench.ws
	$(BIN)/python -m bench.orders
	$(BIN)/python -m bench.bookws
	$(BIN)/python -m bench.matching
	$(BIN)/python -m bench.journal
	$(BIN)/python -m bench.settlement
	$(BIN)/python -m bench.timers
	$(BIN)/python -m bench.scale
	$(BIN)/python -m bench.pg

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
