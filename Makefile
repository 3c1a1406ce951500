# IPR Watch: the README's commands. `make help` lists them.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help setup up down status test lint unit chaos bench bench-rebuild clean demo chart

help: ## List the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*## "}{printf "  make %-14s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "needs $(PYTHON)"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	@touch $(STAMP)

setup: $(STAMP) ## Create the virtualenv and install the packages

up: $(STAMP) ## Start Kafka, PostgreSQL, the mail sink and the three services
	$(BIN)/iprwatch stack up

demo: up ## The job end to end: the real city 2021 to now (scale 1), checked, next to the published figures
	$(BIN)/iprwatch demo

# For the services `up` starts: the demo's alerts fire after 30 s held instead of a day.
demo: export IPRWATCH_ALERTS_FOR_SECONDS ?= 30
demo: export IPRWATCH_ALERTS_HOLD_DOWN_SECONDS ?= 30
demo: export IPRWATCH_ALERTS_GROUP_WAIT_SECONDS ?= 2
demo: export IPRWATCH_ALERTS_EVALUATION_INTERVAL_SECONDS ?= 10
demo: export IPRWATCH_ALERTS_SETTLE_SECONDS ?= 30

down: $(STAMP) ## Stop what `make up` started
	$(BIN)/iprwatch stack down

status: $(STAMP) ## Show each part of the stack, its port, pid and restarts
	$(BIN)/iprwatch stack status

lint: $(STAMP) ## ruff, ruff format --check, mypy --strict, import-linter contracts
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/lint-imports

test: lint ## Lint, then the whole test suite on a real Kafka, PostgreSQL and SMTP server
	$(BIN)/pytest

unit: $(STAMP) ## The unit tests only (no broker, no database)
	$(BIN)/pytest tests/unit

clean: $(STAMP) ## Stop the stack and delete all its data (.iprwatch/ and the PostgreSQL cluster)
	$(BIN)/iprwatch stack clean

chart: $(STAMP) ## Check the Helm chart: helm lint, helm template, kubeconform (part of `make test`)
	$(BIN)/pytest tests/deploy

chaos: $(STAMP) ## The long crash tests (SIGKILLs under load, restarts), outside `make test`
	$(BIN)/pytest -m slow -v

bench: $(STAMP) ## Run every benchmark in bench/ but the long rebuild (prints JSON)
	@for b in bench/*.py; do [ $$b = bench/rebuild.py ] && continue; echo "== $$b"; $(BIN)/python $$b || exit 1; done

bench-rebuild: $(STAMP) ## Rebuild benchmark: 10M events replayed into shadow tables (EVENTS=...)
	$(BIN)/python bench/rebuild.py --events $(or $(EVENTS),10000000)
