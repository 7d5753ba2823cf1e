# Tierwise — two commands for a newcomer: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
STAMP = $(VENV)/.installed-stamp

.PHONY: install demo test lint format bench serve clean

# browser tests drive Debian's chromium (Playwright cannot download a browser here)
CHROMIUM = /usr/bin/chromium
SUDO = $(shell [ "$$(id -u)" = 0 ] || echo sudo)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

$(CHROMIUM):
	$(SUDO) apt-get install -y chromium || ($(SUDO) apt-get update && $(SUDO) apt-get install -y chromium)

demo: install  ## demo data → import → classify → serve http://127.0.0.1:8000
	TIERWISE_MODE=demo $(BIN)/tierwise demo

test: install $(CHROMIUM)  ## every test, SQLite and PostgreSQL, and the browser tests
	$(BIN)/pytest -q -n 2 --dist loadfile

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

format: install
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

bench: install  ## benchmarks (ratios, not timed tests); see bench/README.md
	$(BIN)/python bench/run.py

serve: install
	$(BIN)/tierwise serve

clean:
	rm -rf $(VENV) tierwise-data .pytest_cache .mypy_cache .ruff_cache
