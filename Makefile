# aml-lifecycle: `make run` starts the app locally, `make test` runs every test. Both install what is missing.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip

.PHONY: setup run demo test bench clean

setup: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt client/pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(PIP) install --quiet --disable-pip-version-check --upgrade pip
	$(PIP) install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

run: setup
	$(PY) -m local.stack

demo: setup
	$(PY) -m local.stack --demo

test: setup
	$(PY) -m pytest

bench: setup
	$(PY) bench/run_all.py

clean:
	rm -rf $(VENV) node_modules .pytest_cache .hypothesis
