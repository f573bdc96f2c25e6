# Two entry points for a fresh clone: `make demo` and `make test` (see README Quickstart).
PYTHON ?= python3
VENV := .venv
CONNECTORS := .connectors
UV := $(VENV)/bin/uv
CONNECTOR_DIRS := $(wildcard taps/*/pyproject.toml targets/*/pyproject.toml)
CONNECTOR_NAMES := $(foreach f,$(CONNECTOR_DIRS),$(notdir $(patsubst %/,%,$(dir $(f)))))
export PATH := $(CURDIR)/$(CONNECTORS)/bin:$(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: setup demo test lint bench connectors clean

setup: $(VENV)/.installed connectors

$(VENV)/.installed: pyproject.toml $(shell find libs -name '*.py' -o -name pyproject.toml)
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check uv
	$(UV) pip install --quiet --compile-bytecode --python $(VENV)/bin/python -e '.[dev]'
	$(VENV)/bin/python -m compileall -q orchestrator   # fast starts under PYTHONDONTWRITEBYTECODE
	touch $@

# One isolated virtual environment per first-party connector; executables linked into
# .connectors/bin, so the orchestrator's own environment never holds connector packages.
connectors: $(foreach n,$(CONNECTOR_NAMES),$(CONNECTORS)/$(n)/.installed)

.SECONDEXPANSION:
$(CONNECTORS)/%/.installed: $(VENV)/.installed $$(shell find taps/$$* targets/$$* libs -type f \
		-not -path '*/tests/*' -not -path '*/__pycache__/*' 2>/dev/null)
	@src=$$(ls -d taps/$* targets/$* 2>/dev/null | head -n 1); \
	echo "installing $* from $$src"; \
	$(UV) venv --quiet --allow-existing --python $(PYTHON) $(CONNECTORS)/$* && \
	$(UV) pip install --quiet --compile-bytecode --python $(CONNECTORS)/$*/bin/python "./$$src" && \
	mkdir -p $(CONNECTORS)/bin && \
	if [ -e $(CONNECTORS)/$*/bin/$* ]; then ln -sf ../$*/bin/$* $(CONNECTORS)/bin/$*; fi && touch $@

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
	pytest

bench: setup
	$(VENV)/bin/python bench/relay_bench.py

clean:
	rm -rf $(VENV) $(CONNECTORS) .dativo output
