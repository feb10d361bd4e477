# newsflow — `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.setup-done
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help setup demo test unit lint typecheck bench eval soak stack-up stack-down schemas clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml constraints.txt deploy/install-browser.sh
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "newsflow needs Python >= 3.11 (set PYTHON=...)"; exit 1; }
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	$(BIN)/newsflow stack fetch
	bash deploy/install-browser.sh || echo "newsflow: no Chromium at /usr/bin/chromium; the browser tests of newsflow ui will be skipped"
	touch $(STAMP)

setup: $(STAMP) ## Create .venv, install every dependency and the spaCy model, fetch Kafka and Elasticsearch

demo: $(STAMP) ## Start the stack and a worker, replay the sample corpus, print a summary
	$(BIN)/newsflow demo

test: $(STAMP) ## The whole suite against real Kafka and Elasticsearch (started when needed)
	$(BIN)/python -m tests.hermetic $(BIN)/newsflow stack up
	$(BIN)/python -m pytest -m "not slow" --durations=15 $(PYTEST_ARGS)

unit: $(STAMP) ## Unit tests only (no servers)
	$(BIN)/python -m pytest tests/unit $(PYTEST_ARGS)

lint: $(STAMP) ## ruff, mypy --strict on every package, the import layers (docs/ARCHITECTURE.md)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(STAMP) ## Benchmarks; each prints its ratio to a baseline measured in the same run
	$(BIN)/newsflow stack up
	$(BIN)/python -m benchmarks

eval: $(STAMP) ## Quality on real news labelled by others (../shared/data; DATA=DIR to point elsewhere)
	$(BIN)/newsflow stack up
	$(BIN)/python -m evaluation.external $(if $(DATA),--data $(DATA))

soak: $(STAMP) ## Long fault and soak tests, and 12,000 generated hostile inputs
	$(BIN)/python -m tests.hermetic $(BIN)/newsflow stack up
	HYPOTHESIS_PROFILE=long $(BIN)/python -m pytest tests/unit/test_hostile_input.py $(PYTEST_ARGS)
	$(BIN)/python -m pytest -m slow $(PYTEST_ARGS)

stack-up: $(STAMP) ## Start the local Kafka and Elasticsearch
	$(BIN)/newsflow stack up

stack-down: $(STAMP) ## Stop the local Kafka and Elasticsearch
	$(BIN)/newsflow stack down

schemas: $(STAMP) ## Regenerate the JSON Schema files from the pydantic models
	$(BIN)/python -m schemas.generate

clean: ## Remove the virtualenv and caches (keeps downloaded Kafka/ES)
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
