# Two commands do everything on a fresh machine:
#   make book   create .venv and install the project on first use, then render the book (_build/html)
#   make test   the same install, then the whole test suite (library tests and every chapter, scale ci)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install test book bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest

book: $(STAMP)
	$(BIN)/jupyter-book build .

bench: $(STAMP)
	$(BIN)/gslib bench

clean:
	rm -rf _build .pytest_cache
