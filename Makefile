# The two commands of the README are `make run` and `make test`; the rest are for operators.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000

# The suite's services (override for your machine).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/cdt
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
TEST_REDIS_CACHE_URL ?= redis://127.0.0.1:6379/14
# Test processes: the suite waits on PostgreSQL, Redis and subprocesses about half the time, so two fill two cores.
TEST_WORKERS ?= 2
TEST_ENV := DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) REDIS_CACHE_URL=$(TEST_REDIS_CACHE_URL) DEBUG=false \
	SECRET_KEY=test-only-secret-key-0123456789abcdefghijklmnop ALLOWED_HOSTS=testserver,localhost,127.0.0.1 \
	SECURE_SSL_REDIRECT=false
# The security suite also runs on the embedded default: SQLite and in-process tasks, no Redis.
EMBEDDED_TEST_ENV := TEST_EMBEDDED=1 DEBUG=false \
	SECRET_KEY=test-only-secret-key-0123456789abcdefghijklmnop ALLOWED_HOSTS=testserver,localhost,127.0.0.1 \
	SECURE_SSL_REDIRECT=false

.PHONY: install run test test-security screenshots lint format worker beat web migrate bench bench-quick clean client

$(VENV)/.installed: pyproject.toml requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --disable-pip-version-check -c requirements.lock -e '.[dev]'
	touch $@

# The dashboard's CSS (package-lock.json pins it; nothing is fetched at run time).
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	touch $@

install: $(VENV)/.installed node_modules/.package-lock.json

## Serve the API on the embedded default (SQLite, in-process tasks) with the real map and demo data.
run: install
	@mkdir -p var
	DEBUG=true $(PY) manage.py migrate --noinput -v 0
	DEBUG=true $(PY) manage.py load_areas
	DEBUG=true $(PY) manage.py seed_demo --base-url http://$(HOST):$(PORT)
	DEBUG=true $(PY) manage.py runserver --noreload $(HOST):$(PORT)

## Run the whole test suite on PostgreSQL and Redis, then the security suite again on the embedded SQLite default.
## TEST_WORKERS processes (pytest-xdist, a file at a time), each with its own test database and Redis databases
## (tests/parallel.py).
test: install
	$(TEST_ENV) $(PY) -m pytest -p tests.parallel -n $(TEST_WORKERS) --dist loadfile --create-db $(PYTEST_ARGS)
	env -u DATABASE_URL -u REDIS_URL $(EMBEDDED_TEST_ENV) $(VENV)/bin/pytest -p no:cacheprovider tests/security

## Only the security suite, on both databases.
test-security: install
	$(TEST_ENV) $(VENV)/bin/pytest --create-db tests/security $(PYTEST_ARGS)
	env -u DATABASE_URL -u REDIS_URL $(EMBEDDED_TEST_ENV) $(VENV)/bin/pytest -p no:cacheprovider tests/security $(PYTEST_ARGS)

## A Python client generated from the schema (as the mobile team generates theirs), into var/client; any
## generator warning fails.
client: install
	@mkdir -p var
	DEBUG=true $(PY) manage.py spectacular --file var/schema.yaml
	$(VENV)/bin/openapi-python-client generate --path var/schema.yaml --config tests/contract/client-config.yaml \
		--output-path var/client --overwrite --fail-on-warning

## The dashboard's screenshots in docs/dashboard.md, as the browser tests take them (var/screenshots).
screenshots: install
	$(TEST_ENV) $(VENV)/bin/pytest --create-db tests/web tests/browser/test_dashboard.py
	mkdir -p docs/screenshots && cp var/screenshots/dashboard-*.png docs/screenshots/

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

migrate: install
	$(PY) manage.py migrate --noinput

## Production-style processes (set DATABASE_URL, REDIS_URL, SECRET_KEY, ALLOWED_HOSTS first).
web: install
	$(VENV)/bin/gunicorn config.wsgi --bind $(HOST):$(PORT) --workers 2 --access-logfile -

worker: install
	$(VENV)/bin/celery -A config worker --loglevel INFO --concurrency 2

beat: install
	$(VENV)/bin/celery -A config beat --loglevel INFO --schedule var/celerybeat-schedule

clean:
	rm -rf var .pytest_cache

## Benchmarks (bench/, not tests): own database and Redis db, gunicorn, a Celery worker. BENCH_ARGS=--ten-million etc.
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/cdt_bench
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/9
BENCH_ENV := BENCH_DATABASE_URL=$(BENCH_DATABASE_URL) BENCH_REDIS_URL=$(BENCH_REDIS_URL)

bench: install
	$(BENCH_ENV) $(PY) -m bench.run $(BENCH_ARGS)

bench-quick: install
	$(BENCH_ENV) $(PY) -m bench.run --quick $(BENCH_ARGS)
