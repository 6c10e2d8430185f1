# One-command set-up on a fresh machine with Python 3.11 and pip:
#   make demo   runs the main job on the embedded synthetic dataset
#   make test   runs the whole test suite (pytest, import-linter, ruff)
# Each target creates .venv and installs with constraints.txt the first time.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt
# Tests and demo must never reach a model hub (REFERENCE: a hub load retries ~46 s before failing).
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: demo test lint bench clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "idprobe needs Python >= 3.11, found " + sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)

$(VENV)/.training-installed: $(BIN)/python pyproject.toml constraints.txt
	$(PIP) -e ".[training]"
	@touch $@

$(VENV)/.dev-installed: $(BIN)/python pyproject.toml constraints.txt
	$(PIP) -e ".[all,dev]"
	@touch $@ $(VENV)/.training-installed

# The demo trains t5-tiny on one CPU thread: small models run fastest on one (see README).
DEMO_TRAIN := --dataset synthetic --epochs 3 --learning-rate 0.003 --threads 1 --validation-users 200 --quiet

demo: $(VENV)/.training-installed
	$(BIN)/idprobe data stats synthetic
	@echo
	$(BIN)/idprobe ids build --dataset synthetic --strategy cid --set max_group_size=50 --out runs/demo/cid --force
	@echo
	$(BIN)/idprobe ids build --dataset synthetic --strategy meta --set n_clusters=8 \
	    --set walks_per_node=8 --set walk_length=32 --set epochs=2 --out runs/demo/meta --force
	@echo
	$(BIN)/idprobe metrics --assignment runs/demo/meta --initial-vectors --new-rows norm_matched \
	    --dataset synthetic --ds-method exact
	@echo
	rm -rf runs/demo/train-sid runs/demo/train-meta
	$(BIN)/idprobe train --strategy sid $(DEMO_TRAIN) --out runs/demo/train-sid
	$(BIN)/idprobe evaluate runs/demo/train-sid --threads 1
	@echo
	$(BIN)/idprobe train --strategy meta --set n_clusters=8 --set walks_per_node=8 \
	    --set walk_length=32 --set epochs=2 $(DEMO_TRAIN) --out runs/demo/train-meta
	$(BIN)/idprobe evaluate runs/demo/train-meta --threads 1
	$(BIN)/idprobe metrics --run runs/demo/train-meta --ds-method exact
	@echo
	@echo "Stages not built yet (no results are invented for them):"
	@echo "  figures -> HTML report (idprobe compare)"

test: $(VENV)/.dev-installed
	$(BIN)/lint-imports
	$(BIN)/ruff check idprobe baselines benchmarks tests
	$(BIN)/ruff format --check idprobe baselines benchmarks tests
	$(BIN)/python -m pytest -q

bench: $(VENV)/.dev-installed
	$(BIN)/python benchmarks/bench_data.py
	$(BIN)/python benchmarks/bench_ids.py --skip-paper
	$(BIN)/python benchmarks/bench_metrics.py
	$(BIN)/python benchmarks/bench_training.py --threads 1

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
