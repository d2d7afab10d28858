# Portico. `make demo` and `make test` do all set-up on a fresh machine.
SHELL := /bin/bash
PY ?= python3.11
VENV := .venv
BIN = $(VENV)/bin
DEMO_DIR ?= $(HOME)/.cache/portico/demo

.PHONY: help prereqs venv binaries manifests lint unit e2e test demo demo-down clean

help:
	@echo "make demo       run Portico on a local control plane with the examples"
	@echo "make demo-down  stop it"
	@echo "make test       install everything and run lint, unit and e2e tests"
	@echo "make unit       fast tests only (no control plane)"
	@echo "make manifests  regenerate crds/ from the models"

prereqs:
	@PY=$(PY) hack/check-prereqs.sh

$(VENV)/.installed: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

venv: prereqs $(VENV)/.installed

binaries: prereqs
	@hack/build-binaries.sh >/dev/null

manifests: $(VENV)/.installed
	$(BIN)/portico crds -o crds

lint: $(VENV)/.installed
	$(BIN)/ruff check operator tests
	$(BIN)/ruff format --check operator tests
	$(BIN)/mypy
	$(BIN)/lint-imports

unit: $(VENV)/.installed
	$(BIN)/pytest tests/unit -q

e2e: venv binaries
	PORTICO_BIN_DIR=$$(hack/build-binaries.sh) $(BIN)/pytest tests/e2e -q -rA

test: venv binaries lint
	PORTICO_BIN_DIR=$$(hack/build-binaries.sh) $(BIN)/pytest tests -q

demo: venv binaries
	PORTICO_BIN_DIR=$$(hack/build-binaries.sh) PORTICO_DEMO_DIR=$(DEMO_DIR) hack/demo.sh

demo-down:
	@if [ -x $(BIN)/python ]; then $(BIN)/python -m portico.devcluster down --state-dir $(DEMO_DIR); \
	else echo "nothing to stop (no venv)"; fi

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
