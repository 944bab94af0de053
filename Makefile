# govnews — two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
DEMO_PORT ?= 8765
DB     ?= data/archive.db

.PHONY: install demo test test-fast check bench clean

$(BIN)/govnews: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -U pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(BIN)/govnews

install: $(BIN)/govnews

## Serve the bundled demo government site on 127.0.0.1, crawl it into data/archive.db, summarise.
demo: install
	BIN="$(BIN)" DEMO_PORT="$(DEMO_PORT)" DB="$(DB)" bash scripts/demo.sh

## Run the whole test suite (SQLite always; PostgreSQL/Redis when reachable, required under CI=true).
test: install
	$(BIN)/python -m pytest

test-fast: install
	$(BIN)/python -m pytest -x -q -m 'not soak and not corpus'

## Layer contracts (import-linter), lint (ruff), types (mypy), models vs migrations (alembic check).
check: install
	$(BIN)/lint-imports --no-cache
	$(BIN)/ruff check .
	$(BIN)/mypy
	bash scripts/alembic_check.sh

bench: install
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf data/archive.db .pytest_cache build *.egg-info
