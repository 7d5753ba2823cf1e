# Tierwise — two commands for a newcomer: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
STAMP = $(VENV)/.installed-stamp

.PHONY: install demo test lint format bench serve clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: install  ## demo data → import → (classify, serve: later issues)
	TIERWISE_MODE=demo $(BIN)/tierwise demo

test: install  ## every test, SQLite and PostgreSQL
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
