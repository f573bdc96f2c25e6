# Two entry points for a fresh clone: `make demo` and `make test` (see README Quickstart).
PYTHON ?= python3
VENV := .venv
CONNECTORS := .connectors
UV := $(VENV)/bin/uv
export PATH := $(CURDIR)/$(CONNECTORS)/bin:$(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: setup demo test lint bench connectors clean

setup: $(VENV)/.installed connectors

$(VENV)/.installed: pyproject.toml $(shell find libs -name '*.py' -o -name pyproject.toml)
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check uv
	$(UV) pip install --quiet --compile-bytecode --python $(VENV)/bin/python -e '.[dev]'
	$(VENV)/bin/python -m compileall -q orchestrator   # fast starts under PYTHONDONTWRITEBYTECODE
	touch $@

# One isolated virtual environment per first-party connector, installed by dativo itself into
# the project's .dativo/connectors (the one install location `dativo run` and
# `dativo connectors list` use); executables are linked into .connectors/bin for use by hand.
# dativo skips connectors whose environment matches their source (a fingerprint).
connectors: $(VENV)/.installed
	$(VENV)/bin/dativo install --bin-dir $(CONNECTORS)/bin

demo: setup
	dativo run jobs/demo/csv_to_jsonl.yaml
	@echo "--- second run: the stored state is handed back to the tap ---"
	dativo run jobs/demo/csv_to_jsonl.yaml
	dativo runs --limit 2
	@echo "--- each run's full log, connectors' INFO lines included: dativo logs [RUN_ID] ---"

test: setup
	scripts/postgres-test-setup.sh
	ruff check .
	ruff format --check .
	lint-imports
	mypy
	pytest -n 4 --dist loadfile   # files spread over 4 workers; a file stays on one

bench: setup
	$(VENV)/bin/python bench/relay_bench.py

clean:
	rm -rf $(VENV) $(CONNECTORS) .dativo output
