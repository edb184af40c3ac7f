# Two commands set everything up: `make run` and `make test` (see README.md).
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
# Django 6 needs Python 3.12+: take the first one found.
PYTHON ?= $(shell for p in python3.13 python3.12 $$(ls -d $$HOME/.pyenv/versions/3.1[23]*/bin/python3 2>/dev/null) python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { echo $$p; break; }; done)

.PHONY: run test test-node install install-dev lint typecheck clean demo-pr-open demo-pr-close build-sandbox

$(VENV)/.installed: requirements.txt
	@test -n "$(PYTHON)" || { echo "Python 3.12 or newer is needed (Django 6)."; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# Builds run isolated (README, "Security model"): bubblewrap, iptables for the network
# guard, and the system Python with boto3 that the demo's build uses inside the sandbox.
build-sandbox:
	@missing=""; \
	command -v bwrap >/dev/null 2>&1 || missing="$$missing bubblewrap"; \
	command -v iptables >/dev/null 2>&1 || missing="$$missing iptables"; \
	/usr/bin/python3 -c "import boto3" >/dev/null 2>&1 || missing="$$missing python3-boto3"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing for isolated builds:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else \
	    echo "Isolated builds need:$$missing. Install them (apt-get install$$missing), or set BUILD_ISOLATION=off to run builds unisolated on purpose."; \
	    [ "$$BUILD_ISOLATION" = off ] || exit 1; \
	  fi; \
	fi

run: install build-sandbox
	CONSOLE_DEV=1 $(PY) manage.py runconsole

# While `make run` runs: a sample pull request against the demo repository.
demo-pr-open: install
	CONSOLE_DEV=1 $(PY) manage.py demo_pull_request open

demo-pr-close: install
	CONSOLE_DEV=1 $(PY) manage.py demo_pull_request close

# Unit tests run under moto's in-process mock, spread over 4 processes whatever the cores
# (pytest-xdist: each has its own test database, queue and cache prefix; they wait on I/O
# enough that 4 on 2 cores took 7:44 where 2 took 12:49, and 6 took 9:03). Tests of real
# processes (moto server, Celery worker, `make run`, Chromium, real builds) run in a second
# pytest session, so the two kinds of AWS fake never meet in one interpreter: two xdist
# processes, each a console of its own on the machine (var/test-gwN, build uids, firewall
# chain), one test file at a time each. The fault tests restart Redis, PostgreSQL and the
# emulator under running builds and time what happens: they run last, alone.
test: install-dev build-sandbox lint typecheck
	$(PY) -m pytest -m "not (browser or worker or emulator)" -n 4 $(PYTEST_ARGS)
	$(PY) -m pytest -m "browser or worker or emulator" --ignore=tests/faults -n 2 --dist loadfile $(PYTEST_ARGS)
	$(PY) -m pytest -m "browser or worker or emulator" tests/faults $(PYTEST_ARGS)

# Optional: the Node.js majors the build tests install under BUILD_NODE_DIR (README, "Node.js
# versions"), fetched from the npm registry into ~/.cache/amplify-console-tests; the tests fetch
# them themselves when missing.
test-node: install-dev
	$(PY) -m tests.node_installs

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: install-dev
	$(VENV)/bin/mypy .

clean:
	rm -rf var/ $(VENV)
