# Two commands: `make run` (the service on its embedded defaults) and `make test` (the suite).
PYTHON ?= python3
PORT ?= 8000
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test lint bench venv

$(BIN)/plaudit: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(BIN)/plaudit

venv: $(BIN)/plaudit

run: venv
	$(BIN)/plaudit demo --port $(PORT)

# Each run gets a temporary root of its own: pytest prunes older runs' folders under a shared
# root, which would pull files from under a run still going beside this one.
test: venv
	$(BIN)/ruff check .
	PYTEST_DEBUG_TEMPROOT=$$(mktemp -d) $(BIN)/python -m pytest -q

bench: venv
	$(BIN)/python bench/sync_google.py
	$(BIN)/python bench/sync_facebook.py
	$(BIN)/python bench/webhooks.py
	$(BIN)/python bench/feedback_email.py
	$(BIN)/python bench/privacy.py
	$(BIN)/python bench/inbox.py
