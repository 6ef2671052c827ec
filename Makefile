# Jiesu: `make run` serves the demo city; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export PORT

.PHONY: run test lint bench install clean

$(BIN)/jiesu: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(BIN)/jiesu

install: $(BIN)/jiesu

run: install
	$(BIN)/jiesu setup
	$(BIN)/jiesu serve --port $(PORT)

lint: install
	$(BIN)/ruff check jiesu tests bench
	$(BIN)/mypy jiesu
	$(BIN)/jiesu makemigrations --check --dry-run

test: lint
	$(BIN)/pytest

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var
