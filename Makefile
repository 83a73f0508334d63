# Gongzhi (共治): the two commands a person needs are `make demo` and `make test` (see README.md).
# Everything goes through .venv/bin/...; nothing needs to be activated.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALL_STAMP := $(VENV)/.gongzhi-installed
NODE_STAMP := node_modules/.gongzhi-installed
VAR_DIR := $(or $(GONGZHI_VAR_DIR),var)

# The demo: plain http on localhost, so a development secret key and non-secure cookies; DEBUG stays off and
# static files come from collectstatic through whitenoise, as in production.
DEMO_ENV := GONGZHI_DEMO=1 DEBUG=0
GONGZHI_BIND ?= 127.0.0.1:8000
DEMO_WORKERS ?= 3
GUNICORN := $(BIN)/gunicorn gongzhi.config.wsgi -c src/gongzhi/config/gunicorn.conf.py

# Extra arguments for pytest, e.g. `make test PYTEST_ARGS='-k territory'`.
PYTEST_ARGS ?=
PYTEST_WORKERS ?= 2
PYTEST := $(BIN)/pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

.PHONY: help demo serve test test-pg lint bench openapi install node chromium migrate static seed \
	check-ruff check-mypy check-imports check-pytest clean

help:
	@echo "make demo     install everything, build the demo subdistrict and serve it on http://$(GONGZHI_BIND)"
	@echo "make test     install everything (chromium too), then ruff, mypy, import contracts and the whole pytest suite"
	@echo ""
	@echo "make lint     ruff, mypy and the import-layer contracts only"
	@echo "make serve    serve the existing local database without re-seeding it"
	@echo "make test-pg  the pytest suite against \$$DATABASE_URL (PostgreSQL; used by .ci/run)"
	@echo "make bench    the benchmark suite on a throw-away PostgreSQL (BENCH_SCALE=10: 1 M cases; 100: 10 M) -> bench/results.json"
	@echo "make clean    remove .venv, node_modules, var/ and caches"

# --- Installation ---------------------------------------------------------------------------------------------

install: $(INSTALL_STAMP)

# Re-install only when pyproject.toml changed (or the virtualenv is new).
$(INSTALL_STAMP): pyproject.toml
	@if [ ! -x $(BIN)/python ]; then \
		echo "==> Creating $(VENV) with $(PYTHON)"; \
		if ! $(PYTHON) -m venv $(VENV); then \
			rm -rf $(VENV); \
			if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
				echo "==> python3 -m venv failed: installing python3-venv"; \
				apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y python3-venv; \
				$(PYTHON) -m venv $(VENV); \
			else \
				echo "ERROR: '$(PYTHON) -m venv' failed; install python3-venv (apt-get install python3-venv)." >&2; \
				exit 1; \
			fi; \
		fi; \
	fi
	@echo "==> Installing gongzhi and its dev tools into $(VENV)"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

node: $(NODE_STAMP)

# Create a lock file only when there is none; never rewrite an existing one.
package-lock.json: | package.json
	npm install --no-audit --no-fund

$(NODE_STAMP): package.json package-lock.json
	@echo "==> Installing front-end packages (npm ci)"
	npm ci --no-audit --no-fund
	@touch $@

# Browser tests drive Debian's chromium through Playwright (Playwright's own browser download does not work
# everywhere, so it is never used). A Chinese font keeps the pages (and the screenshots) readable.
BROWSER_PACKAGES := chromium chromium-driver fonts-wqy-microhei
chromium:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v chromedriver >/dev/null 2>&1 || missing="$$missing chromium-driver"; \
	if [ -z "$$(fc-list :lang=zh 2>/dev/null)" ]; then missing="$$missing fonts-wqy-microhei"; fi; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" != 0 ]; then \
			echo "ERROR: the browser tests need Debian packages that are missing:$$missing. Run as root, or first:" >&2; \
			echo "       sudo apt-get update && sudo apt-get install -y $(BROWSER_PACKAGES)" >&2; \
			exit 1; \
		fi; \
		echo "==> Installing$$missing (apt-get)"; \
		apt-get update; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y $$missing; \
	fi

# --- The demo -------------------------------------------------------------------------------------------------

# var/ (not in git; GONGZHI_VAR_DIR) holds the SQLite database, collected static files and uploads.
migrate: install
	@mkdir -p "$(VAR_DIR)"
	$(DEMO_ENV) $(BIN)/gongzhi migrate --noinput

# Collect (and compress) static files only when a source changed: it takes a while (ECharts is large).
STATIC_MANIFEST := $(VAR_DIR)/static/staticfiles.json
STATIC_SOURCES := $(shell find src/gongzhi -path '*/static/*' -type f 2>/dev/null) src/gongzhi/config/settings.py
static: $(STATIC_MANIFEST)
$(STATIC_MANIFEST): $(INSTALL_STAMP) $(NODE_STAMP) $(STATIC_SOURCES)
	@echo "==> Collecting static files into $(VAR_DIR)/static"
	$(DEMO_ENV) $(BIN)/gongzhi collectstatic --noinput --verbosity 0
	@touch $@

# seed_demo prints the log-ins at the address the demo is served on (GONGZHI_BIND).
seed: migrate
	$(DEMO_ENV) GONGZHI_BIND=$(GONGZHI_BIND) $(BIN)/gongzhi seed_demo

# gunicorn in the foreground (a master and DEMO_WORKERS worker processes); next to it the background-task worker
# (gongzhi task_worker: django-tasks-db's worker, surviving database errors, with a heartbeat the pages read) and the
# one scheduler of periodic work (gongzhi scheduler: deadline check and KPI refresh every 5 minutes, monthly reports,
# registry sweep, holidays; `gongzhi scheduler --list`), each under its own `gongzhi supervise`, which starts it again
# whenever it exits. Ctrl-C stops all of them.
define serve_with_worker
	$(DEMO_ENV) $(BIN)/gongzhi supervise "task_worker --queue-name '*' --interval 2" & worker=$$!; \
	$(DEMO_ENV) $(BIN)/gongzhi supervise "scheduler" >/dev/null & scheduler=$$!; \
	trap 'kill $$worker $$scheduler 2>/dev/null || true; wait $$worker $$scheduler 2>/dev/null || true' EXIT; \
	trap 'exit 130' INT TERM; \
	$(DEMO_ENV) GONGZHI_BIND=$(GONGZHI_BIND) GONGZHI_WORKERS=$(DEMO_WORKERS) $(GUNICORN)
endef

# The log-ins are printed once, by seed_demo (building the demo, or finding it built), just before the server starts.
demo: install node migrate static seed
	@echo "==> Serving the demo on http://$(GONGZHI_BIND)/ (Ctrl-C to stop)"
	@$(serve_with_worker)

serve: install node migrate static
	@echo "==> Serving on http://$(GONGZHI_BIND)/ (Ctrl-C to stop)"
	@$(serve_with_worker)

# --- Checks ---------------------------------------------------------------------------------------------------

# Runs every step even when an earlier one fails, then reports which ones failed.
define run_steps
	failed=""; \
	for step in $(1); do \
		echo ""; echo "==> $$step"; \
		if ! $(MAKE) $$step; then failed="$$failed $$step"; fi; \
	done; \
	echo ""; \
	if [ -n "$$failed" ]; then echo "FAILED:$$failed" >&2; exit 1; fi; \
	echo "All passed: $(1)"
endef

test: install node chromium
	@$(call run_steps,check-ruff check-mypy check-imports check-pytest)

lint: install
	@$(call run_steps,check-ruff check-mypy check-imports)

test-pg: install node chromium
	@case "$${DATABASE_URL:-}" in \
		postgres://*|postgresql://*|pgsql://*) ;; \
		*) echo "ERROR: make test-pg needs DATABASE_URL=postgres://user:password@host:port/name" >&2; exit 1;; \
	esac
	@GONGZHI_TESTING=1 DJANGO_SETTINGS_MODULE=gongzhi.config.settings $(BIN)/python -c 'from django.conf import settings as s; d = s.DATABASES["default"]; \
		print("==> pytest on", d["ENGINE"], "at", "%s:%s," % (d["HOST"], d["PORT"]), "test databases test_%s*" % d["NAME"])'
	@$(MAKE) check-pytest

# tests/ holds the browser tests; it may not exist yet in a fresh clone.
check-ruff:
	$(BIN)/ruff check $(wildcard src tests)

# The django-stubs plugin loads the settings, which need a secret key unless they see a test run.
check-mypy:
	GONGZHI_TESTING=1 $(BIN)/mypy

check-imports:
	$(BIN)/lint-imports --no-cache

# Exit code 5 means pytest collected nothing: that is a failure, not a pass.
check-pytest:
	@echo "$(PYTEST)"; \
	rc=0; $(PYTEST) || rc=$$?; \
	if [ $$rc = 5 ]; then echo "ERROR: pytest collected no tests." >&2; exit 1; fi; \
	exit $$rc

# --- Benchmarks (not part of make test) ------------------------------------------------------------------------

# bench/run.sh starts its own PostgreSQL 15 (apt-get installs it when missing, as root) unless BENCH_PG_URL is set;
# BENCH_DB=sqlite is a smoke run. BENCH_ARGS passes more options to bench/run.py (e.g. --duration 30).
BENCH_SCALE ?= 10
BENCH_DB ?= postgres
BENCH_ARGS ?=
bench: install
	BENCH_DB=$(BENCH_DB) bash bench/run.sh --scale $(BENCH_SCALE) $(BENCH_ARGS)

# Regenerate the committed OpenAPI snapshot (docs/openapi.json) after an API change.
openapi: install
	UPDATE_OPENAPI=1 $(BIN)/pytest -q -p no:xdist src/gongzhi/config/tests/test_openapi.py

# --- Housekeeping ---------------------------------------------------------------------------------------------

clean:
	rm -rf $(VENV) node_modules var .mypy_cache .ruff_cache .pytest_cache .import_linter_cache test-results
	find src tests -name __pycache__ -type d -prune -exec rm -rf {} + 2>/dev/null || true
