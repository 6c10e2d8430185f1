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
	$(PIP) -e ".[training,analysis,reports]"
	@touch $@

$(VENV)/.dev-installed: $(BIN)/python pyproject.toml constraints.txt
	$(PIP) -e ".[all,dev]"
	@touch $@ $(VENV)/.training-installed

# The demo: five strategies on the embedded synthetic dataset, two runs side by side with one
# torch thread each (small models train fastest on one thread; see README), the five classic
# baselines with their synthetic recipes in the same table, then the report.
# reports/demo keeps the figures, numbers and report (no model, no dataset file).
DEMO := --strategies rid,sid,cid,iid,meta --dataset synthetic --epochs 3 --learning-rate 0.003 \
	--set validation_users=200 --set cid.max_group_size=50 --set meta.n_clusters=8 \
	--set meta.walks_per_node=8 --set meta.walk_length=32 --set meta.epochs=2 \
	--baselines pop,sasrec,gru4rec,caser,bert4rec --workers 2 --threads 1

demo: $(VENV)/.training-installed
	$(BIN)/idprobe compare $(DEMO) --out runs/demo
	rm -rf reports/demo && mkdir -p reports/demo
	cp -r runs/demo/results.json runs/demo/compare.toml runs/demo/figures reports/demo/
	$(BIN)/idprobe report reports/demo

test: $(VENV)/.dev-installed
	$(BIN)/lint-imports
	$(BIN)/ruff check idprobe baselines benchmarks tests
	$(BIN)/ruff format --check idprobe baselines benchmarks tests
	$(BIN)/python -m pytest -q

bench: $(VENV)/.dev-installed
	$(BIN)/python benchmarks/bench_data.py
	$(BIN)/python benchmarks/bench_ids.py --skip-paper
	$(BIN)/python benchmarks/bench_metrics.py
	$(BIN)/python benchmarks/bench_ranking.py
	$(BIN)/python benchmarks/bench_training.py --threads 1

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
