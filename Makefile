# Jiesu: `make run` serves the demo city; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export PORT

.PHONY: run test lint bench install clean messages crash-test

$(BIN)/jiesu: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(BIN)/jiesu

# Apache ECharts for the dashboards, from npm at install time (pinned and checked; see jiesu/insight/assets.py).
ECHARTS := jiesu/insight/static/jiesu/vendor/echarts/VERSION
$(ECHARTS): jiesu/insight/assets.py | $(BIN)/jiesu
	$(BIN)/python -m jiesu.insight.assets

install: $(BIN)/jiesu $(ECHARTS)

run: install
	$(BIN)/jiesu setup
	$(BIN)/jiesu serve --port $(PORT)

lint: install
	$(BIN)/ruff check jiesu tests bench
	$(BIN)/mypy jiesu
	$(BIN)/jiesu makemigrations --check --dry-run

test: lint
	$(BIN)/pytest

# QUICK=1: the short intake benchmark only (Jiesu vs django-helpdesk), one JSON line at the end.
bench: install
	$(BIN)/python -m bench $(if $(QUICK),--quick)

# SIGKILL the server under load and count what was acknowledged but lost (docs/reliability.md).
# SQLite always; PostgreSQL too with JIESU_CRASH_PG_URL=postgres://user@host:5432/<a scratch database>.
DURATION ?= 60
crash-test: install
	$(BIN)/python -m bench.crash_test --duration $(DURATION)

clean:
	rm -rf $(VENV) var

# After changing user-facing strings: refresh the Chinese catalogue (needs GNU gettext), translate
# the new entries in jiesu/locale/zh_Hans/LC_MESSAGES/django.po, run again, commit .po and .mo.
messages: install
	cd jiesu && ../$(BIN)/django-admin makemessages -l zh_Hans --settings=jiesu.settings --pythonpath=.. && ../$(BIN)/django-admin compilemessages -l zh_Hans
