# povmon — the analyst's vocabulary. `make help` lists the verbs.
# File targets do the work (so a rerun with nothing new does nothing); phony targets are verbs.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:
MAKEFLAGS += --no-builtin-rules

# uv (pinned) is bootstrapped into .tools/ from PyPI unless one is already on PATH
UV_VERSION := 0.13.9
UV ?= $(or $(shell command -v uv 2>/dev/null),.tools/bin/uv)
VENV := .venv
STAMP := $(VENV)/.povmon-installed
POVMON := $(VENV)/bin/povmon
DATA ?= data
RAW := $(DATA)/raw
PROCESSED := $(DATA)/processed
HOUSEHOLDS ?= 20000
SEED ?= 20201231
Q ?= 2020Q2

SRC := $(shell find pipelines config -type f \( -name '*.py' -o -name '*.sql' -o -name '*.toml' -o -name '*.csv' \) 2>/dev/null)
SYNTH_SRC := $(shell find pipelines/synth -name '*.py' 2>/dev/null) pipelines/idcard.py config/synth.toml

.PHONY: help env demo synth ingest test bench lab clean

help: ## list the verbs
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  make %-10s %s\n", $$1, $$2}'

.tools/bin/uv:
	python3 -m venv .tools
	.tools/bin/pip install --quiet uv==$(UV_VERSION)

$(STAMP): pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen
	@touch $@

env: $(STAMP) ## create the Python environment (.venv) from the lock file

$(RAW)/.synth-done: $(STAMP) $(SYNTH_SRC)
	$(POVMON) synth --out $(DATA) --households $(HOUSEHOLDS) --seed $(SEED)
	@touch $@

synth: $(RAW)/.synth-done ## generate the synthetic sample city into data/raw (HOUSEHOLDS=20000 SEED=...)

$(PROCESSED)/povmon.duckdb: $(RAW)/.synth-done $(SRC)
	$(POVMON) ingest --raw $(RAW) --processed $(PROCESSED)

ingest: $(STAMP) ## raw exports in data/raw -> canonical tables in data/processed
	$(POVMON) ingest --raw $(RAW) --processed $(PROCESSED)

demo: $(PROCESSED)/povmon.duckdb ## set up, generate the sample city, run every stage, say where results are
	@echo
	@echo "povmon demo done."
	@echo "  raw exports (synthetic, git-ignored):  $(RAW)/"
	@echo "  canonical tables (Parquet):            $(PROCESSED)/<table>/period=<quarter>/data.parquet"
	@echo "  warehouse for notebooks and SQL:       $(PROCESSED)/povmon.duckdb"
	@echo "  quarantined rows and ingest manifest:  tables quarantine, findings, ingest_manifest"

test: $(STAMP) ## run the test suite (what CI runs)
	$(VENV)/bin/pytest -q

bench: $(STAMP) ## benchmarks: ingest at 100k/1M/10M persons (BENCH_SIZES=...), as ratios and peak memory
	$(VENV)/bin/python -m pipelines.bench

lab: $(STAMP) ## open JupyterLab on the notebooks
	$(VENV)/bin/jupyter lab notebooks/

clean: ## remove generated data and outputs (keeps .venv)
	rm -rf $(RAW)/registry $(RAW)/pairing $(RAW)/survey $(RAW)/reference $(RAW)/.synth-done $(DATA)/truth
	find $(PROCESSED) -mindepth 1 ! -name .gitkeep -exec rm -rf {} +
	rm -rf reports
