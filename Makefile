# purnajual: the two commands a newcomer needs are `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test walkthrough bench clean lint

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "needs $(PYTHON)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

## Runs NATS and the five services on SQLite under var/ (Ctrl-C stops all).
run: $(STAMP)
	$(BIN)/python -m purnajual.launcher

## Unit, integration and end-to-end tests against real PostgreSQL and NATS.
test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## Walks the example requests through every step over HTTP (needs `make run`).
walkthrough: $(STAMP)
	$(BIN)/python -m examples.walkthrough $(EXAMPLES)

## Commit-to-effect latency and memory at rest (starts its own system).
bench: $(STAMP)
	$(BIN)/python -m bench.latency

## Removes the embedded data: event stores, NATS streams, outbox, logs.
clean:
	rm -rf var
