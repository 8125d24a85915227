# purnajual: the two commands a newcomer needs are `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test walkthrough bench clean lint dead-letters rebuild-views

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "needs $(PYTHON)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

## Runs NATS and the five services on SQLite under var/ (Ctrl-C stops all).
run: $(STAMP)
	$(BIN)/python -m purnajual.launcher

## Lint and types, then unit, integration and end-to-end tests against real
## PostgreSQL and NATS.
test: lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## Style (ruff, 88 columns) and types (mypy --strict).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## Walks the example requests through every step over HTTP (needs `make run`).
walkthrough: $(STAMP)
	$(BIN)/python -m examples.walkthrough $(EXAMPLES)

## Lists the messages consumers set aside (see docs/operations.md).
dead-letters: $(STAMP)
	$(BIN)/python -m tools.deadletters list

## Rebuilds every read model from the events and checks it (needs `make run`).
rebuild-views: $(STAMP)
	$(BIN)/python -m tools.rebuild

## Commit-to-effect latency and memory at rest (starts its own system).
bench: $(STAMP)
	$(BIN)/python -m bench.latency

## Removes the embedded data: event stores, NATS streams, outbox, logs.
clean:
	rm -rf var
