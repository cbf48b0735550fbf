# zonetracker's front door. `make run` serves the app; `make test` runs the whole suite.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1:8000
DEMO ?= 1
DEV_ENV := DJANGO_DEBUG=1

.PHONY: run test install install-dev lint format migrations-check check-deploy messages bench

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.installed $@

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

run: install
	$(DEV_ENV) $(PY) manage.py migrate --noinput
	$(DEV_ENV) $(PY) manage.py load_register
	$(DEV_ENV) $(PY) manage.py load_framework
	$(DEV_ENV) $(PY) manage.py create_demo_accounts
	@if [ "$(DEMO)" != "0" ]; then $(DEV_ENV) $(PY) manage.py seed_demo; fi
	$(DEV_ENV) $(PY) manage.py runserver $(HOST)

test: install-dev
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

migrations-check: install-dev
	$(DEV_ENV) $(PY) manage.py makemigrations --check --dry-run

check-deploy: install
	DJANGO_SECRET_KEY=check-deploy-$$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n') \
	DJANGO_ALLOWED_HOSTS=zonetracker.example.org \
	$(PY) manage.py check --deploy --fail-level WARNING

# The Chinese catalogue: collect the marked strings into locale/zh_Hans (LOCALE_PATHS[0]; the
# django_filters catalogue is not touched), then compile every catalogue. Translate what comes
# out empty or fuzzy in locale/zh_Hans/LC_MESSAGES/django.po and run it again.
messages: install
	DJANGO_DEBUG=1 $(PY) manage.py makemessages -l zh_Hans --no-obsolete --ignore=.venv --ignore=bench --ignore=staticfiles && DJANGO_DEBUG=1 $(PY) manage.py compilemessages --ignore=.venv

# Synthetic registers of 165, 2,000 and 10,000 zones: timings and query counts (bench/README.md).
bench: install-dev
	$(PY) -m bench $(BENCH_ARGS)
