# Deskside: the two commands are `make run` and `make test`. Everything else supports them.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HTMX   := deskside/static/vendor/htmx.min.js

.PHONY: run test install install-dev assets lint demo bench clean

## run: install Deskside and start it on SQLite at http://127.0.0.1:8000
run: install assets
	$(BIN)/deskside serve

## test: install everything and run linters, type checks and every test (SQLite, PostgreSQL, browser)
test: install-dev assets
	bash bin/test

## demo: fill the local desk with example people and teams
demo: install
	$(BIN)/deskside demo

install: $(VENV)/.installed-run
install-dev: $(VENV)/.installed-dev

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-run: pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed-run

## assets: front-end libraries from the npm registry (lockfile), copied into static files
assets: $(HTMX)

$(HTMX): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	npm run --silent vendor
	touch $@

## bench: every benchmark beside django-helpdesk: SCALE=small (default, < 10 min) or SCALE=1m
SCALE ?= small
BENCH_ARGS ?=
bench: install-dev
	bash bin/bench "$(SCALE)" $(BENCH_ARGS)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy deskside conftest.py

clean:
	rm -rf $(VENV) node_modules deskside/static/vendor .pytest_cache .mypy_cache .ruff_cache
