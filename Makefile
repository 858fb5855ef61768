# Two commands do everything on a fresh machine:
#   make book   create .venv and install the project on first use, then render the book (_build/html)
#   make test   the same install, then the whole test suite (library tests and every chapter, scale ci)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

RUNS ?= runs/paper

.PHONY: install test book bench pass1 scan1 clean

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

# The shipped network gslib/data/pretrained/pass1, from scratch: the paper's three splits (resumable),
# 600 epochs of training (resumable), evaluation on the test split, provenance. Hours on a CPU.
pass1: $(STAMP)
	for split in train val test; do $(BIN)/gslib dataset --split $$split --scale paper --out $(RUNS)/$$split || exit 1; done
	$(BIN)/gslib train --train $(RUNS)/train --val $(RUNS)/val --out $(RUNS)/pass1 --epochs 300 --schedule cosine
	$(BIN)/gslib package-model --run $(RUNS)/pass1 --train $(RUNS)/train --val $(RUNS)/val --test $(RUNS)/test \
		--dest gslib/data/pretrained/pass1

# The shipped scan gslib/data/scans/pass1: the paper's 5481 points simulated and classified by the shipped
# network (resumable; the samples are kept in $(RUNS)/scan_samples for other networks), then packaged with
# the embeddings of the train and val splits (for discovery) and example patterns of every class.
scan1: $(STAMP)
	$(BIN)/gslib scan --model pass1 --points paper --scale paper --out $(RUNS)/scan1 --samples $(RUNS)/scan_samples
	$(BIN)/gslib package-scan --scan $(RUNS)/scan1 --train $(RUNS)/train --val $(RUNS)/val \
		--samples $(RUNS)/scan_samples --dest gslib/data/scans/pass1

clean:
	rm -rf _build .pytest_cache
