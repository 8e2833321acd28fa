# Jilin pension portal. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORTAL := $(BIN)/portal
PORTAL_HOST ?= 127.0.0.1
PORTAL_PORT ?= 8000
HTMX_VERSION := $(shell sed -n 's/.*"htmx.org": "\(.*\)".*/\1/p' package.json)
CATALOGS := $(patsubst %.po,%.mo,$(wildcard i18n/*/LC_MESSAGES/messages.po))
PYTEST_FLAGS ?= -q

.PHONY: help setup run test lint unit e2e bench i18n i18n-extract i18n-update i18n-compile system-deps db clean

help: ## List the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 16

setup: $(VENV)/.installed node_modules/.installed static/vendor/htmx.min.js $(CATALOGS) ## Install Python and npm packages, build catalogs (skips what is done)

$(VENV)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

static/vendor/htmx.min.js: node_modules/.installed
	@mkdir -p static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js $@
	@echo "htmx $(HTMX_VERSION)" > static/vendor/VERSION

i18n/%/LC_MESSAGES/messages.mo: i18n/%/LC_MESSAGES/messages.po $(VENV)/.installed
	$(BIN)/pybabel compile --statistics -d i18n -D messages -l $* 2>&1 | grep -v "^$$" || true

db: setup ## Migrate the database and seed the demo data when missing
	$(PORTAL) db upgrade
	@$(PORTAL) seed --demo

run: db ## Set everything up and serve on http://$PORTAL_HOST:$PORTAL_PORT
	@echo "Serving on http://$(PORTAL_HOST):$(PORTAL_PORT)  (Ctrl-C to stop)"
	$(BIN)/uvicorn --factory portal.app:create_app --host $(PORTAL_HOST) --port $(PORTAL_PORT) --no-access-log

system-deps: ## Install Debian's chromium, fonts-noto-cjk and wrk when missing (needs root)
	@missing=""; \
	test -x /usr/bin/chromium || missing="$$missing chromium"; \
	dpkg -s fonts-noto-cjk >/dev/null 2>&1 || missing="$$missing fonts-noto-cjk"; \
	test -x /usr/bin/wrk || missing="$$missing wrk"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing$$missing"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "Missing Debian packages:$$missing. Run: sudo apt-get install -y$$missing"; exit 1; \
	  fi; \
	fi

lint: setup ## Ruff and the translation catalogs' checks
	$(BIN)/ruff check portal tests e2e
	$(BIN)/python -m pytest $(PYTEST_FLAGS) tests/test_i18n.py -p no:cacheprovider

unit: setup ## Unit and integration tests on SQLite, then on PostgreSQL when PORTAL_TEST_PG_URL is set
	@if [ "$$CI" = "true" ] && [ -z "$$PORTAL_TEST_PG_URL" ]; then echo "CI needs PORTAL_TEST_PG_URL"; exit 1; fi
	$(BIN)/python -m pytest $(PYTEST_FLAGS) tests
	@if [ -n "$$PORTAL_TEST_PG_URL" ]; then \
	  echo "== again on PostgreSQL =="; \
	  PORTAL_TEST_DB=postgres $(BIN)/python -m pytest $(PYTEST_FLAGS) tests -m db; \
	fi

e2e: setup system-deps ## Browser tests (Playwright + Debian Chromium + axe-core) against a live server
	$(BIN)/python -m pytest $(PYTEST_FLAGS) e2e

test: setup system-deps lint unit e2e ## Everything CI runs: lint, unit and integration, end to end

bench: setup system-deps ## Print measured performance figures (run alone: nothing else on the machine)
	$(BIN)/python -m portal.devtools.bench

i18n: i18n-extract i18n-update i18n-compile ## Refresh the catalogs after changing strings

i18n-extract: setup
	$(BIN)/pybabel extract -F babel.cfg -k N_ -k flash --no-location --sort-output -o i18n/messages.pot . >/dev/null

i18n-update: setup
	$(BIN)/pybabel update -i i18n/messages.pot -d i18n -D messages --no-fuzzy-matching --ignore-obsolete >/dev/null

i18n-compile: setup
	$(BIN)/pybabel compile -d i18n -D messages >/dev/null

clean: ## Remove the virtualenv, node_modules, build output and the local database
	rm -rf $(VENV) node_modules static/vendor var test-results
	find i18n -name '*.mo' -delete
