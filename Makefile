# The two commands: `make run` and `make test`. Everything else is a step they call.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
CELERY := $(VENV)/bin/celery
# The web server's port; exported so the workers' e-mail links (SITE_URL, when unset) match it.
export PORT ?= 8000
PYTHON ?= python3
# The suite runs on every core (pytest-xdist); PYTEST_WORKERS=0 runs it in one process.
PYTEST_WORKERS ?= auto

.PHONY: run test bench setup lint format messages clean lock

$(VENV)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -c requirements.lock -e '.[dev]'
	touch $@

# Pin every package again from pyproject.toml's ranges, in a fresh environment.
lock:
	rm -rf var/lock-venv
	$(PYTHON) -m venv var/lock-venv
	var/lock-venv/bin/pip install --quiet --upgrade pip
	var/lock-venv/bin/pip install --quiet '.[dev]'
	{ head -n 2 requirements.lock; var/lock-venv/bin/pip freeze --exclude-editable | grep -v '^citedesmetiers'; } > requirements.lock.new
	mv requirements.lock.new requirements.lock
	rm -rf var/lock-venv

# Install, compile translations, migrate. Safe to run again.
setup: $(VENV)/.installed
	mkdir -p var
	$(PY) manage.py compilemessages --ignore=.venv --ignore=var -v0
	$(PY) manage.py migrate --noinput -v0

# Web + Celery workers + beat on the embedded defaults (SQLite, filesystem broker under var/):
# reports have a worker of their own, so a month of PDFs never delays e-mails and imports.
# Ctrl-C stops them all.
run: export DEBUG ?= true
run: setup
	$(PY) manage.py seed_demo --history 13
	@echo
	@echo "  Cité des métiers is starting on http://127.0.0.1:$(PORT)/"
	@echo "  reception tablet  http://127.0.0.1:$(PORT)/reception/"
	@echo "  waiting room      http://127.0.0.1:$(PORT)/display/demo/"
	@echo "  staff login       http://127.0.0.1:$(PORT)/accounts/login/  (password: demo-password)"
	@echo
	@trap 'kill 0' INT TERM EXIT; \
	$(CELERY) -A citedesmetiers worker --loglevel=WARNING --concurrency=2 -Q celery -n main@%h & \
	$(CELERY) -A citedesmetiers worker --loglevel=WARNING --concurrency=1 -Q reports -n reports@%h & \
	$(CELERY) -A citedesmetiers beat --loglevel=WARNING & \
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

# ruff, the apps' layers (import-linter), migrations in step with models, then the suite.
# DATABASE_URL/REDIS_URL choose the backends.
test: export DEBUG ?= true
test: setup
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

# Benchmarks need PostgreSQL: DATABASE_URL=postgres://… make bench
bench: export DEBUG ?= true
bench: setup
	$(PY) -m bench $(BENCH)

format: $(VENV)/.installed
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Extract strings for every language into locale/*/LC_MESSAGES/django.po.
messages: $(VENV)/.installed
	DEBUG=true $(PY) manage.py makemessages --add-location=file --ignore=.venv --ignore=var --ignore=static/vendor --ignore=bench --ignore=tests -l fr -l en -l it -l es -l pt
	DEBUG=true $(PY) manage.py makemessages -d djangojs --add-location=file --ignore=.venv --ignore=var --ignore=static/vendor --ignore=bench --ignore=tests -l fr -l en -l it -l es -l pt

clean:
	rm -rf var $(VENV)
