# Thin wrappers over the reviewflow command; the README's two commands are `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

ASSETS := web/static/build/.built
CHROMIUM ?= /usr/bin/chromium

.PHONY: install assets browser run test test-fast check bench chaos clean lock

# Python packages exactly as locked (versions and hashes): requirements-test.lock for this checkout (the
# product and its tests), requirements.lock for the image (the product alone). `make lock` refreshes both
# from pyproject.toml after a dependency changes there.
LOCK := requirements.lock
TEST_LOCK := requirements-test.lock
UV := var/lock-tools/bin/uv
LOCK_ARGS := --generate-hashes --universal --python-version 3.11 --quiet

$(STAMP): pyproject.toml $(TEST_LOCK)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r $(TEST_LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

lock:
	test -x $(UV) || ($(PYTHON) -m venv var/lock-tools && var/lock-tools/bin/pip install --quiet uv)
	$(UV) pip compile pyproject.toml $(LOCK_ARGS) -o $(LOCK)
	$(UV) pip compile pyproject.toml --extra test $(LOCK_ARGS) -o $(TEST_LOCK)

# Front-end assets (GOV.UK Frontend, MOJ Frontend, bpmn-js, dmn-js) from package-lock.json, built by esbuild.
$(ASSETS): package.json package-lock.json $(shell find web/frontend -type f 2>/dev/null)
	npm ci --no-audit --no-fund --loglevel=error
	npm run --silent build
	touch $(ASSETS)

# The browser tests drive Debian's Chromium; CI runs on a clean machine as root.
browser:
	@test -x $(CHROMIUM) || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)

install: $(STAMP) $(ASSETS)

assets: $(ASSETS)

# The demo serves plain http on this machine, so its session cookie cannot be Secure-only; production
# (REVIEWFLOW_ENV=production, behind TLS) refuses this setting.
run: install
	$(BIN)/reviewflow demo
	REVIEWFLOW_INSECURE_COOKIES=1 $(BIN)/reviewflow serve --host $(HOST) --port $(PORT)

test: install browser
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# While developing: everything but the tests marked slow (the wheel built and installed, long scenarios).
test-fast: install browser
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

check: install
	$(BIN)/reviewflow check

bench: install
	$(BIN)/python -m tests.bench.run $(BENCH_ARGS)

# Workers killed at random, a sink down and a relay hung, connections terminated, poison cases and
# hostile input, against PostgreSQL on this machine (a fresh schema, dropped after); about 5 minutes.
# Writes var/chaos/results.json; fails if a target is missed (README, "The chaos suite"). Smaller: CHAOS_ARGS="--cases 10 ...". CI runs it after the tests.
CHAOS_POSTGRES ?= $(or $(REVIEWFLOW_TEST_POSTGRES_URL),postgresql://postgres@127.0.0.1:5432/test)

chaos: install
	REVIEWFLOW_TEST_POSTGRES_URL='$(CHAOS_POSTGRES)' $(BIN)/python -m tests.chaos.run $(CHAOS_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache node_modules web/static/build
