# Two commands do everything on a fresh machine:
#   make book   create .venv and install the project on first use, then render the book (_build/html)
#   make test   the same install, then the whole test suite (library tests and every chapter, scale ci)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

RUNS ?= runs/paper
HOLDOUT_EPOCHS ?= 150
HOLDOUT_FILE ?= holdout.json

.PHONY: install install-cells lint format test book bench pass1 scan1 pass2 scan2 holdout clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

# Lint and format checks (also part of `make test`); `make format` applies the formatting.
lint: $(STAMP)
	$(BIN)/ruff check gslib tests
	$(BIN)/ruff format --check gslib tests

format: $(STAMP)
	$(BIN)/ruff check --fix gslib tests
	$(BIN)/ruff format gslib tests

test: $(STAMP)
	$(BIN)/python -m pytest

book: $(STAMP)
	$(BIN)/jupyter-book build .

bench: $(STAMP)
	$(BIN)/gslib bench

# The first code cell of every chapter (installs gslib where it is missing), from gslib.notebook.install_cell_source.
install-cells: $(STAMP)
	$(BIN)/python -m gslib.notebook sync-install-cells book/*.ipynb

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

# The second pass (chapter 3) from scratch: train2 and val2 with the new class pi (16 classes, resumable), a network
# trained from scratch (resumable), evaluated on the paper's test split, packaged into gslib/data/pretrained/pass2.
pass2: $(STAMP)
	for split in train2 val2 test; do $(BIN)/gslib dataset --split $$split --scale paper --out $(RUNS)/$$split || exit 1; done
	$(BIN)/gslib train --train $(RUNS)/train2 --val $(RUNS)/val2 --out $(RUNS)/pass2 --epochs 200 --schedule cosine
	$(BIN)/gslib package-model --run $(RUNS)/pass2 --train $(RUNS)/train2 --val $(RUNS)/val2 --test $(RUNS)/test \
		--dest gslib/data/pretrained/pass2

# The shipped scan gslib/data/scans/pass2, after `make scan1`: the samples that scan kept are classified by the
# pass-2 network without simulating again, and packaged with the train2/val2 embeddings.
scan2: $(STAMP)
	$(BIN)/gslib scan --model pass2 --points paper --scale paper --out $(RUNS)/scan2 --samples $(RUNS)/scan_samples
	$(BIN)/gslib package-scan --scan $(RUNS)/scan2 --train $(RUNS)/train2 --val $(RUNS)/val2 \
		--samples $(RUNS)/scan_samples --simulated-by $(RUNS)/scan1 --dest gslib/data/scans/pass2

# The held-out-class benchmark gslib/data/discovery/holdout.json, after `make pass1` and `make scan1` (their splits
# and kept samples): one network per class trained without it, the kept samples classified, discovery run and
# scored (resumable); each network trains for about 8 s per epoch on a 2-core CPU (the record's train_seconds).
# The shorter benchmark of chapter 3: make holdout HOLDOUT_EPOCHS=50 HOLDOUT_FILE=holdout_50epochs.json
holdout: $(STAMP)
	$(BIN)/gslib discovery-benchmark --train $(RUNS)/train --val $(RUNS)/val --samples $(RUNS)/scan_samples \
		--scan pass1 --classes kappa,mu,theta,lambda --epochs $(HOLDOUT_EPOCHS) --out $(RUNS)/holdout$(HOLDOUT_EPOCHS)
	cp $(RUNS)/holdout$(HOLDOUT_EPOCHS)/holdout.json gslib/data/discovery/$(HOLDOUT_FILE)

clean:
	rm -rf _build .pytest_cache
