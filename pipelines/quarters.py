"""`povmon quarters`: ingest, then every stage of every quarter in data/raw, in one process.

The same stages, in the same order and with the same arguments as `make quarters` runs them one
command each (crosscheck → validate → measures → risk → tasks → report per quarter, quarters in
order: validate and risk of Q read Q-1). Each stage still commits its own warehouse transaction
per quarter, so a crash leaves the warehouse as a crash of `make quarters` at the same point
would. What one process saves is the fixed costs a command pays each time: Python start-up and
imports (Great Expectations alone is several seconds), the policy load, and the headless Chromium
the report's PNG export starts (one browser serves every quarter's figures).

Wiring only: each stage's `run` does the work; this module orders them, times them (progress on
stderr, pipelines/progress.py), and returns their results for the command to log and summarise.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pipelines import progress
from pipelines.periods import quarters_in
from pipelines.policy import Policy, load_policy

STAGES = ("crosscheck", "validate", "measures", "risk", "tasks", "report")


@dataclass
class Step:
    stage: str
    period: str | None
    result: dict
    seconds: float
    cpu: float  # this process's CPU seconds (a loaded machine stretches `seconds`, not this)


@dataclass
class Run:
    quarters: list[str]
    steps: list[Step] = field(default_factory=list)

    def result(self, stage: str, period: str | None = None) -> dict | None:
        return next((s.result for s in self.steps if s.stage == stage and s.period == period), None)

    def seconds(self, stage: str) -> float:
        return round(sum(s.seconds for s in self.steps if s.stage == stage), 2)


def stage_runner(stage: str, raw: Path, processed: Path, reports: Path, policy: Policy,
                 allow_failed_gate: bool, read_ahead=None) -> Callable[[str], dict]:
    """The stage's `run` for one quarter, called as `make quarters` calls the command."""
    if stage == "crosscheck":
        from pipelines.crosscheck.pipeline import run as crosscheck
        return lambda q: crosscheck(processed, q, policy=policy)
    if stage == "validate":
        from pipelines.validate.pipeline import run as validate
        return lambda q: validate(processed, q, reports_dir=reports, raw_dir=raw, policy=policy,
                                  allow_failed_gate=allow_failed_gate, read_ahead=read_ahead)
    if stage == "measures":
        from pipelines.measures.pipeline import run as measures
        return lambda q: measures(processed, q, policy=policy)
    if stage == "risk":
        from pipelines.risk.pipeline import run as risk
        return lambda q: risk(processed, q, policy=policy)
    if stage == "tasks":
        from pipelines.tasks.pipeline import run as tasks
        return lambda q: tasks(processed, q, reports, policy=policy)
    if stage == "report":
        from pipelines.report.pipeline import run as report
        return lambda q: report(processed, q, reports / q, policy=policy)
    raise ValueError(f"unknown stage {stage!r}; expected one of {', '.join(STAGES)}")


def run(raw: Path, processed: Path, reports: Path, *, ingest: bool = True, allow_failed_gate: bool = False,
        policy: Policy | None = None, on_step: Callable[[Step], None] | None = None, read_ahead=None) -> Run:
    """Ingest raw (unless `ingest` is False), then every stage for every quarter raw holds.
    `on_step` sees each step's result as it ends (the command prints warnings and logs it).
    `read_ahead` (pipelines/readahead.py, started by the caller on raw with the default
    configuration) hands validate each quarter's roster read in a side process.
    A stage's error (validate's DataQualityError included) stops the run there, as it stops make."""
    from pipelines.report.pipeline import browser_session

    raw, processed, reports = Path(raw), Path(processed), Path(reports)
    policy = policy or load_policy()
    quarters = [str(q) for q in quarters_in(raw)]
    if not quarters:
        raise FileNotFoundError(f"{raw}/registry: no quarter folder (YYYYQn) to run; `povmon synth` writes a sample city")
    done = Run(quarters)

    def record(stage: str, period: str | None, call: Callable[[], dict]) -> None:
        label = f"{stage} {period}" if period else stage
        cpu = time.process_time()
        with progress.step(label) as info:
            result = call()
        done.steps.append(step := Step(stage, period, result, info["seconds"], round(time.process_time() - cpu, 2)))
        if on_step:
            on_step(step)

    if ingest:
        from pipelines.ingest.pipeline import run as ingest_run
        record("ingest", None, lambda: ingest_run(raw, processed, policy=policy))
    runners = {s: stage_runner(s, raw, processed, reports, policy, allow_failed_gate, read_ahead) for s in STAGES}
    with browser_session(policy):
        for q in quarters:
            for stage in STAGES:
                record(stage, q, lambda stage=stage, q=q: runners[stage](q))
    return done


def write_log(path: Path, steps: list[Step]) -> Path:
    """Every step's JSON result, one line each (stage, period, seconds, result), written atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        for s in steps:
            fh.write(json.dumps({"stage": s.stage, "period": s.period, "seconds": s.seconds, "cpu_seconds": s.cpu,
                                 "result": s.result},
                                ensure_ascii=False, default=str) + "\n")
    os.replace(tmp, path)
    return path


def households(processed: Path, period: str) -> int | None:
    """Registered households of the quarter in the warehouse (None when the partition is missing)."""
    from pipelines import warehouse

    source = warehouse.scan(Path(processed), "households", period)
    if source is None:
        return None
    with warehouse.connect() as con:
        return int(con.execute(f"select count(*) from {source}").fetchone()[0])


def summary_lines(done: Run, raw: Path, processed: Path, reports: Path, log: Path | None,
                  started: float | None = None) -> list[str]:
    """The short text `make demo` ends with: quarters, households, rows, problems, where, seconds."""
    q = done.quarters
    last = q[-1]
    n = households(processed, last)
    lines = [f"povmon: {len(q)} quarters ({', '.join(q)}); {n:,} households in {last}" if n is not None
             else f"povmon: {len(q)} quarters ({', '.join(q)})"]
    if (ing := done.result("ingest")) is not None:
        f = ing["files"]
        lines.append(f"  ingest: {f['count']} files, {f['rows_read']:,} rows read: {f['rows_loaded']:,} loaded, "
                     f"{f['rows_quarantined']:,} quarantined (with a reason: "
                     f"{processed}/current/quarantine/)")
    problems = [(p, (done.result("validate", p) or {}).get("ledger", {}).get("rows")) for p in q]
    lines.append("  problems (问题清单): " + ", ".join(f"{p} {r:,}" for p, r in problems if r is not None))
    findings = [(p, (done.result("crosscheck", p) or {}).get("findings")) for p in q]
    if any(r for _, r in findings):
        lines.append("  department cross-check findings: " + ", ".join(f"{p} {r:,}" for p, r in findings if r is not None))
    lines += [
        f"  raw exports:                          {raw}/",
        f"  canonical and stage tables (Parquet): {processed}/current/<table>/period=<quarter>/data.parquet",
        f"  warehouse for notebooks and SQL:      {processed}/povmon.duckdb",
        f"  quarterly summaries:                  {reports}/<quarter>/summary.html, summary.xlsx, figures/",
        f"  problem ledgers (问题清单) per county: {reports}/<quarter>/问题清单/",
        f"  rectification tracker (整改清单):      {reports}/<quarter>/整改清单/",
        f"  Data Docs:                            {reports}/<quarter>/data_docs/index.html",
    ]
    if log is not None:
        lines.append(f"  every stage's JSON result:            {log}")
    stages = ", ".join(f"{s} {done.seconds(s):.1f}" for s in ("ingest", *STAGES) if any(x.stage == s for x in done.steps))
    total = f"{time.time() - started:.1f} s in all; " if started is not None else ""
    lines.append(f"  {total}seconds by stage: {stages}")
    return lines
