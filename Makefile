# Two commands: `make demo` (SQLite, in-process tasks) and `make test`.
# Set DATABASE_URL and CELERY_BROKER_URL to run either on PostgreSQL and Redis.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
DEMO_ENV := DEBUG=1

.PHONY: demo demo-setup worker test venv venv-test lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

venv: $(BIN)/python
	$(BIN)/pip install --quiet -e .

venv-test: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'

demo-setup: venv
	$(DEMO_ENV) $(BIN)/python manage.py migrate --noinput
	$(DEMO_ENV) $(BIN)/python manage.py load_instruments
	$(DEMO_ENV) $(BIN)/python manage.py seed_demo

demo: demo-setup
	@echo "Serving the demo at http://127.0.0.1:8000 (Ctrl-C to stop)"
	$(DEMO_ENV) $(BIN)/python manage.py runserver 127.0.0.1:8000

# With CELERY_BROKER_URL set, run this beside `make demo` so publishing has a worker.
worker: venv
	$(DEMO_ENV) $(BIN)/celery -A belonging worker --loglevel=INFO

test: venv-test
	$(BIN)/ruff check .
	DEBUG=1 DATABASE_URL=sqlite:///:memory: $(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: venv-test
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) belonging.sqlite3 staticfiles test-media
