# Two commands set everything up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501

.PHONY: run test lint bench demo clean browser

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

## Start the dashboard (demo data is used automatically while the store is empty).
run: $(VENV)/.runtime
	$(BIN)/python dashboard.py --server.port $(PORT)

## Install what tests need (incl. Debian chromium for browser tests) and run the whole suite.
test: $(VENV)/.dev browser
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n 2 --dist loadfile

## Debian's chromium for the Playwright tests (installed via apt when missing and we are root).
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null; \
	  else \
	    echo "Installera chromium: sudo apt-get install chromium" >&2; \
	  fi; \
	fi

lint: $(VENV)/.dev
	$(BIN)/ruff check .

bench: $(VENV)/.dev
	$(BIN)/python benchmarks/bench_ingest.py
	$(BIN)/python benchmarks/bench_pages.py
	$(BIN)/python benchmarks/bench_load.py

demo: $(VENV)/.runtime
	$(BIN)/python -m hjo_data demo

clean:
	rm -rf $(VENV) data/store .pytest_cache .ruff_cache
