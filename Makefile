# Every target works on a fresh clone: the first one that needs it builds .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install test lint format record bench demo clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,lint,langchain,serve]"
	touch $(STAMP)

install: $(STAMP)

# Four workers on two cores: most of the suite waits on loopback servers and subprocesses.
# Work stealing: a worker that runs out takes tests queued for another, so the run does not end
# with one worker finishing its share of slow tests alone (about 10 s of every run before).
# The plugins the suite uses are named rather than discovered: discovery imports every installed
# pytest plugin and assertion-rewrites its whole package (langsmith's 227 modules among them) in
# each worker, about 2 s of the workers' start. A plain `pytest` still works, only slower to start.
PYTEST_PLUGINS := -p xdist -p pytest_asyncio.plugin -p pytest_timeout -p pytest_socket \
	-p pytest_recording.plugin -p _hypothesis_pytestplugin -p pytest_benchmark.plugin
# Bytecode is written even where PYTHONDONTWRITEBYTECODE is set (into the ignored __pycache__/):
# without it each worker assertion-rewrites every test module and compiles the package again
# (about 3 s of its 6 s start), and so does every script a test runs in a fresh interpreter.
test: $(STAMP)
	PYTHONDONTWRITEBYTECODE= PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 $(BIN)/python -m pytest -n 4 --dist worksteal $(PYTEST_PLUGINS) tests

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Re-records every cassette: against the MemOS cloud when MEMOS_API_KEY is set,
# otherwise against the loopback server that answers with the documented bodies.
record: $(STAMP)
	$(BIN)/python -m pytest tests/integration_tests --record-mode=all -p no:randomly

# Every benchmark that needs no external data (locomo_recall.py reads a data set: run it by hand).
bench: $(STAMP)
	$(BIN)/python bench/client_overhead.py
	$(BIN)/python bench/engine_scale.py
	$(BIN)/python bench/forget.py
	$(BIN)/python bench/disk_usage.py
	$(BIN)/python bench/agent_turn.py
	$(BIN)/python bench/load.py
	$(BIN)/python bench/soak.py
	$(BIN)/python bench/serve_http.py

demo: $(STAMP)
	$(BIN)/python examples/quickstart.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
	find langchain_memos tests examples bench -name __pycache__ -prune -exec rm -rf {} +
