# Two commands for a newcomer (see README):
#   make myapp   set up .venv, then run the example app's suite through runtests.py
#   make test    set up .venv, then run every suite on SQLite, PostgreSQL and MariaDB,
#                under runtests.py, python -m unittest and pytest
PYTHON ?= $(shell command -v python3.13 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
# The example app's browser test loads Turbo from npm (package-lock.json).
TURBO := examples/myapp/node_modules/.package-lock.json

.PHONY: myapp test bench setup

setup: $(VENV)/.installed $(TURBO)

# Strict editable mode: the package is linked into build/ and that folder is
# put on the path, which mypy and pyright follow (the default mode's import
# hook hides the package from them when they run in another folder). A module
# added to the package is linked by the next `make setup` (the folders are
# prerequisites: adding a file changes their time).
$(VENV)/.installed: pyproject.toml Makefile proper_unittest $(filter-out %/__pycache__/,$(wildcard proper_unittest/*/))
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]" --config-settings editable_mode=strict
	touch $@

$(TURBO): examples/myapp/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  cd examples/myapp && npm ci --no-audit --no-fund --loglevel=error; \
	else echo "npm not found: the example app's Turbo browser test will be skipped"; fi

myapp: setup
	$(PY) runtests.py myapp

test: setup
	PYTHON=$(PY) bash scripts/test_all.sh

bench: setup
	$(PY) bench/run.py
