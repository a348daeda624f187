# Two commands for a newcomer (see README):
#   make myapp   set up .venv, then run the example app's suite through runtests.py
#   make test    set up .venv, then run every suite on SQLite, PostgreSQL and MariaDB,
#                under runtests.py, python -m unittest and pytest
PYTHON ?= $(shell command -v python3.13 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: myapp test bench setup

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

myapp: setup
	$(PY) runtests.py myapp

test: setup
	PYTHON=$(PY) bash scripts/test_all.sh

bench: setup
	$(PY) bench/run.py
