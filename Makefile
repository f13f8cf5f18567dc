# Two commands a newcomer needs:
#   make run    set everything up, build the index from corpus/ when missing, start the web app
#   make test   set everything up and run the checks CI runs (ruff, mypy, pytest)
# Everything else here is a step of those two.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False
export GRADIO_ANALYTICS_ENABLED := False

.PHONY: run test setup browser langchain-mcp lint typecheck pytest bench clean

run: setup
	$(BIN)/assistant index
	$(BIN)/python app.py $(ARGS)

test: setup browser langchain-mcp lint typecheck pytest

# torch goes in first and pinned: a CPU build; an unpinned torch would pull a multi-GB CUDA build.
setup: $(STAMP)
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Debian's Chromium for the browser tests (never `playwright install`: it downloads a browser).
browser:
	@test -x /usr/bin/chromium || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || echo "warning: could not install chromium; browser tests will be skipped (fail under CI=true)"; }

# The LangChain agent's side of the MCP tests, in its own venv: langchain-mcp-adapters needs
# mcp<2 and the server uses mcp 2 (tests/test_mcp.py finds it here).
LC_VENV := .venv-langchain-mcp
langchain-mcp: $(LC_VENV)/.installed
$(LC_VENV)/.installed:
	test -x $(LC_VENV)/bin/python || $(PYTHON) -m venv $(LC_VENV)
	$(LC_VENV)/bin/python -m pip install --quiet 'langchain-mcp-adapters==0.3.2'
	touch $@

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck:
	$(BIN)/mypy

pytest:
	$(BIN)/pytest $(PYTEST_ARGS)

bench: setup
	$(BIN)/python benchmarks/quality.py

clean:
	rm -rf indexes/* runs .pytest_cache .ruff_cache .mypy_cache
