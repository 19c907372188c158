# povmon — the analyst's vocabulary. `make help` lists the verbs.
# Outputs are real files per quarter (pattern rules), so a rerun with nothing new does nothing;
# phony targets are only the verbs. Q selects the quarter (default 2020Q2).

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:
MAKEFLAGS += --no-builtin-rules
.SECONDARY:

# uv (pinned) is bootstrapped into .tools/ from PyPI unless one is already on the PATH
UV_VERSION := 0.13.9
UV ?= $(or $(shell command -v uv 2>/dev/null),.tools/bin/uv)
VENV := .venv
STAMP := $(VENV)/.povmon-installed
POVMON := $(VENV)/bin/povmon
DATA ?= data
RAW := $(DATA)/raw
PROCESSED := $(DATA)/processed
REPORTS ?= reports
HOUSEHOLDS ?= 20000
SEED ?= 20201231
Q ?= 2020Q2
# A blocking data-quality failure stops measures, risk and the report of that quarter; set
# ALLOW_FAILED_VALIDATION=1 to go on anyway (validate records the override; the report says so).
ALLOW_FAILED_VALIDATION ?=
VALIDATE_FLAGS := $(if $(ALLOW_FAILED_VALIDATION),--allow-failed-gate)
EQ := =
# a stage's file for a quarter, through the warehouse's stable path (current -> snapshots/<id>):
# $(call part,table,quarter). Snapshot files are immutable and hard-linked between snapshots, so
# make must never delete or touch them: they are .PRECIOUS (exempt from .DELETE_ON_ERROR).
part = $(PROCESSED)/current/$(1)/period$(EQ)$(2)/data.parquet

src = $(shell find $(1) -type f \( -name '*.py' -o -name '*.sql' -o -name '*.j2' \) 2>/dev/null)
COMMON_SRC := $(wildcard pipelines/config.py pipelines/periods.py pipelines/warehouse.py pipelines/cli.py \
  pipelines/graph.py pipelines/params.py pipelines/policy/*.py config/policy.toml config/warehouse.toml)
SYNTH_SRC := $(call src,pipelines/synth) pipelines/idcard.py config/synth.toml config/regions/townships.csv config/regions/villages.csv
INGEST_SRC := $(call src,pipelines/ingest) $(COMMON_SRC) pipelines/idcard.py config/header_aliases.toml config/code_labels.toml \
  config/thresholds.toml $(wildcard config/regions/*.csv)
CRITERIA_SRC := $(call src,pipelines/criteria) $(COMMON_SRC) config/thresholds.toml
# validate prints the 问题清单 with names read from data/raw by pipelines/risk/cards.py (raw_roster)
VALIDATE_SRC := $(call src,pipelines/validate) $(CRITERIA_SRC) $(wildcard expectations/*.json) config/validate.toml gx/great_expectations.yml \
  pipelines/risk/cards.py config/header_aliases.toml
MEASURES_SRC := $(call src,pipelines/measures) $(CRITERIA_SRC) config/measures.toml config/lines.toml
RISK_SRC := $(call src,pipelines/risk) $(CRITERIA_SRC) config/risk.toml config/lines.toml
REPORT_SRC := $(call src,pipelines/report) $(COMMON_SRC) config/report.toml config/lines.toml
CROSSCHECK_SRC := $(call src,pipelines/crosscheck) $(COMMON_SRC) config/departments.toml config/thresholds.toml

MANIFEST := $(PROCESSED)/current/ingest_manifest/data.parquet

# ---- what is in data/raw -----------------------------------------------------------------------
# The quarters come from the data (folders data/raw/registry/<YYYYQn>/, any year), never from this
# file: `povmon periods --make` writes QUARTERS and PREV_<quarter> (periods.py's arithmetic) into
# $(PERIODS_MK), remade whenever data/raw's content changes. $(RAW_STATE) records data/raw by
# content hash and is rewritten only when a file is added, removed or changed: it is ingest's input,
# so a county re-sending a corrected file re-runs ingest and what depends on it.
RAW_STATE := $(DATA)/.raw-state.json
PERIODS_MK := $(DATA)/.periods.mk
FIGURES_STATE := $(DATA)/.figures-state
QUARTERS :=
QUARTER_GOALS := quarters quarterly validate measures risk ingest known-q
QUARTER_GOALS += tasks
QUARTER_GOALS += crosscheck
ifneq ($(filter $(QUARTER_GOALS),$(MAKECMDGOALS)),)
-include $(PERIODS_MK)
$(PERIODS_MK): $(RAW_STATE) | $(STAMP)
	@$(POVMON) periods --raw $(RAW) --make > $@.tmp && mv $@.tmp $@
$(RAW_STATE): FORCE | $(STAMP)
	@$(POVMON) raw-state --raw $(RAW) --stamp $@
endif
# Whether PNG figures can be made (the browser report/pipeline.py's browser_path finds) is an input
# of every report: the state is rewritten only when it changes, so installing chromium remakes the
# reports once and their PNGs appear on the next normal run.
$(FIGURES_STATE): FORCE
	@mkdir -p $(@D); s="$$({ command -v $(BROWSER_PATH) chromium chromium-browser google-chrome google-chrome-stable chrome 2>/dev/null || true; } | head -n 1)"; \
	  [ -f $@ ] && [ "$$(cat $@)" = "$$s" ] || printf '%s\n' "$$s" > $@
FORCE:
.PRECIOUS: $(MANIFEST) $(foreach t,crosscheck_findings problems measures risk,$(foreach q,$(QUARTERS),$(call part,$(t),$(q))))

.PHONY: help env system-deps demo synth ingest validate measures risk quarterly quarters periods audit-pii test fuzz crash-test bench bench-national lab clean FORCE
.PHONY: tasks
.PHONY: crosscheck

help: ## list the verbs
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  make %-12s %s\n", $$1, $$2}'

# ---- environment -------------------------------------------------------------------------------
.tools/bin/uv:
	python3 -m venv .tools
	.tools/bin/pip install --quiet uv==$(UV_VERSION)

$(STAMP): pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --extra spark
	@touch $@

env: $(STAMP) ## create the Python environment (.venv) from the lock file

system-deps: ## Debian packages for PNG figures and the page test (chromium + a CJK font) and for --engine spark (a Java runtime); needs root
	@if command -v chromium >/dev/null && fc-list 2>/dev/null | grep -qiE 'wqy|noto sans cjk'; then \
	  echo "chromium and a CJK font are installed"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-wqy-microhei >/dev/null; \
	else \
	  echo "note: install chromium and fonts-wqy-microhei for PNG figures; HTML and xlsx reports work without them"; \
	fi
	@if command -v java >/dev/null; then \
	  echo "a Java runtime is installed: $$(java -version 2>&1 | head -n 1)"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends default-jre-headless >/dev/null; \
	else \
	  echo "note: install a Java 17+ runtime (Debian: default-jre-headless) for --engine spark and tests/spark"; \
	fi

# ---- data --------------------------------------------------------------------------------------
$(RAW)/.synth-done: $(STAMP) $(SYNTH_SRC)
	$(POVMON) synth --out $(DATA) --households $(HOUSEHOLDS) --seed $(SEED) --log-file $(DATA)/logs/synth.json
	@touch $@

synth: $(RAW)/.synth-done ## generate the synthetic sample city into data/raw (HOUSEHOLDS=20000 SEED=...)

$(MANIFEST): $(RAW_STATE) $(INGEST_SRC)
	$(POVMON) ingest --raw $(RAW) --processed $(PROCESSED)

ingest: $(MANIFEST) ## raw exports in data/raw -> canonical tables in data/processed (when data/raw changed)

periods: $(STAMP) ## the quarters data/raw holds (what the per-quarter targets cover)
	@$(POVMON) periods --raw $(RAW)

# One explicit rule per quarter and stage (make will not chain a pattern rule into itself, and
# validate / risk for Q read Q-1: the ledger's 新发现 / 持续 / 已整改 and the transitions). The stage
# gate: measures, risk and the report of Q need validate of Q to have passed (validate exits 1 on a
# blocking failure and writes no problems partition), and read the deprivation models it stores.
prev_part = $(if $(filter $(PREV_$(2)),$(QUARTERS)),$(call part,$(1),$(PREV_$(2))))
define quarter_rules
$$(call part,crosscheck_findings,$(1)): $(MANIFEST) $(CROSSCHECK_SRC)
	$(POVMON) crosscheck --period $(1) --processed $(PROCESSED)
$$(call part,problems,$(1)): $(MANIFEST) $(VALIDATE_SRC) $$(call part,crosscheck_findings,$(1)) $$(call prev_part,problems,$(1))
	$(POVMON) validate --period $(1) --processed $(PROCESSED) --reports $(REPORTS) --raw $(RAW) $(VALIDATE_FLAGS)
$$(call part,measures,$(1)): $(MANIFEST) $(MEASURES_SRC) $$(call part,problems,$(1))
	$(POVMON) measures --period $(1) --processed $(PROCESSED)
$$(call part,risk,$(1)): $(MANIFEST) $(RISK_SRC) $$(call part,problems,$(1)) $$(call prev_part,risk,$(1))
	$(POVMON) risk --period $(1) --processed $(PROCESSED)
$(REPORTS)/$(1)/summary.html: $$(call part,problems,$(1)) $$(call part,measures,$(1)) $$(call part,risk,$(1)) $(REPORT_SRC) $(FIGURES_STATE)
	$(POVMON) report --period $(1) --processed $(PROCESSED) --out $(REPORTS)/$(1)
endef
$(foreach q,$(QUARTERS),$(eval $(call quarter_rules,$(q))))

# The rectification tracker (issue 16 part 2): the task list's status for Q (povmon tasks; a
# quarter without a list writes empty partitions once and never over a good one), read by the report.
TASKS_SRC := $(call src,pipelines/tasks) $(COMMON_SRC) config/tasks.toml pipelines/validate/ledger.py
define tasks_rules
$$(call part,task_status,$(1)): $(MANIFEST) $(TASKS_SRC)
	$(POVMON) tasks --period $(1) --processed $(PROCESSED) --reports $(REPORTS)
$(REPORTS)/$(1)/summary.html: $$(call part,task_status,$(1)) config/tasks.toml
endef
$(foreach q,$(QUARTERS),$(eval $(call tasks_rules,$(q))))
.PRECIOUS: $(foreach q,$(QUARTERS),$(call part,task_status,$(q)))
tasks: known-q $(call part,task_status,$(Q)) ## rectification tracker for Q: task and 指令 status, reports/Q/整改清单/ (per unit)

known-q: FORCE
	@$(if $(filter $(Q),$(QUARTERS)),true,echo "make: Q=$(Q): data/raw/registry has no such quarter (found: $(or $(QUARTERS),none)); make synth writes a sample city" >&2; exit 2)

crosscheck: known-q $(call part,crosscheck_findings,$(Q)) ## department lists (data/raw/departments) against the registry for Q
validate: known-q $(call part,problems,$(Q)) ## data-quality gate + 两不愁三保障 checks for Q: Data Docs, problem ledger
measures: known-q $(call part,measures,$(Q)) ## incidence, FGT with survey SEs, multidimensional index for Q
risk: known-q $(call part,risk,$(Q)) ## risk levels, categories, transitions, assistance gaps for Q
quarterly: known-q $(REPORTS)/$(Q)/summary.html ## quarterly summary for Q (Q=2020Q2): reports/Q/summary.html, .xlsx, figures
	@echo "quarterly summary: $(REPORTS)/$(Q)/summary.html, $(REPORTS)/$(Q)/summary.xlsx, $(REPORTS)/$(Q)/figures/"

quarters: $(foreach q,$(QUARTERS),$(REPORTS)/$(q)/summary.html) ## every quarter found in data/raw: each stage where out of date

# The demo runs every stage of every quarter in ONE process (`povmon quarters`: the same stages and
# warehouse transactions as `make quarters`, without paying Python, Great Expectations and Chromium
# start-up per command), then audit-pii; it prints a short summary, each stage's JSON goes to
# $(DATA)/logs/quarters.jsonl. It records data/raw first, so `make quarters` afterwards has nothing to do.
DEMO_STARTED := $(if $(filter demo,$(MAKECMDGOALS)),$(shell date +%s.%N))
demo: $(FIGURES_STATE) | $(STAMP) ## set up, generate the sample city, run every stage, say where results are
	@$(MAKE) --no-print-directory synth
	$(POVMON) quarters --raw $(RAW) --processed $(PROCESSED) --reports $(REPORTS) --raw-state $(RAW_STATE) \
	  --log-file $(DATA)/logs/quarters.jsonl --audit-cards cards $(if $(DEMO_STARTED),--since $(DEMO_STARTED)) $(VALIDATE_FLAGS)

# ---- verbs -------------------------------------------------------------------------------------
audit-pii: $(STAMP) ## search processed/, reports/ and cards/ for names, IDs, phones, 户编号 of data/raw (exit 1 names each place)
	$(POVMON) audit-pii --raw $(RAW) --processed $(PROCESSED) --reports $(REPORTS) --cards cards

# the suite on TEST_WORKERS processes (pytest-xdist), one per core; --dist loadscope keeps a module's
# tests on one worker, so its module fixtures are built once (tests/conftest.py: the city once per run)
TEST_WORKERS ?= 2
test: $(STAMP) ## run the test suite (what CI runs; TEST_WORKERS=2 processes)
	$(VENV)/bin/pytest -q -n $(TEST_WORKERS) --dist loadscope

fuzz: $(STAMP) ## long property-based fuzz of ingest (1 000 random exports, ~30 min; make test runs 20)
	POVMON_FUZZ_PROFILE=long $(VENV)/bin/pytest -q tests/fuzz

crash-test: $(STAMP) ## kill every stage at every fault point, then check the warehouse (slow: ~20 min)
	$(VENV)/bin/pytest -q -m slow tests/test_crash_safety.py

bench: $(STAMP) ## benchmarks of every stage vs a plain baseline, ratios and peak memory (BENCH_SIZES=100000,1000000 BENCH_STAGES=ingest,risk)
	$(VENV)/bin/python -m benchmarks.run

bench-national: $(STAMP) ## raw -> report of one quarter at 1 M/10 M/100 M persons, Parquet + CSV, per stage vs hand-written DuckDB; table into README (NATIONAL_SIZES=1000000 NATIONAL_FORMATS=parquet NATIONAL_DIR=/tmp/povmon-national NATIONAL_BUDGET=seconds)
	nice -n 10 $(VENV)/bin/python -m benchmarks.national

lab: $(STAMP) ## open JupyterLab on the notebooks (paired py:percent scripts; --allow-root when run as root)
	$(VENV)/bin/jupyter lab notebooks/$(if $(filter 0,$(shell id -u)), --allow-root)

clean: ## remove generated data and outputs (keeps .venv)
	rm -rf $(RAW)/registry $(RAW)/pairing $(RAW)/survey $(RAW)/reference $(RAW)/projects $(RAW)/departments $(RAW)/.synth-done $(RAW)/SYNTHETIC.json $(DATA)/truth $(REPORTS) cards $(RAW_STATE) $(PERIODS_MK) $(FIGURES_STATE)
	find $(PROCESSED) -mindepth 1 ! -name .gitkeep -exec rm -rf {} +
	rm -rf $(RAW)/tasks $(DATA)/logs
