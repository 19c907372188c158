"""`povmon quarters`: ingest, then every stage of every quarter in data/raw, in one process.

The same stages, in the same order and with the same arguments as `make quarters` runs them one
command each (crosscheck → validate → measures → risk → tasks → report per quarter, quarters in
order: validate and risk of Q read Q-1). Each stage still commits its own warehouse transaction
per quarter, so a crash leaves the warehouse as a crash of `make quarters` at the same point
would. What one process saves is the fixed costs a command pays each time: Python start-up and
imports (Great Expectations alone is several seconds), the policy load, and the headless Chromium
the report's PNG export starts (one browser serves every quarter's figures).

The report of a quarter reads only that quarter's snapshot (partitions up to it) and writes only
reports/<quarter>/, never the warehouse: on the machine's second core it runs in a side process
(ReportWorker, `spawn`: its own Python, plotly and Chromium, started while ingest runs), on the
snapshot committed by the quarter's last stage, while the next quarter's stages go on here. The
snapshot it reads is the one `make quarters` would give it (pinned when handed over), and it stays
on disk until the report has read it: config/warehouse.toml [snapshots] keep removes a snapshot
after `keep` newer commits, so the next quarter's stages wait for that (`Pins`) before committing
one too many. A report's failure stops the run at the end of the stage during which it arrives:
unlike make, stages of the next quarter may have committed by then (their outputs are what make
would have written had it gone on; the failed quarter has no report).

Wiring only: each stage's `run` does the work; this module orders them, times them (progress on
stderr, pipelines/progress.py), and returns their results for the command to log and summarise.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
        policy: Policy | None = None, on_step: Callable[[Step], None] | None = None, read_ahead=None,
        report_process: bool | None = None) -> Run:
    """Ingest raw (unless `ingest` is False), then every stage for every quarter raw holds.
    `on_step` sees each step's result as it ends (the command prints warnings and logs it).
    `read_ahead` (pipelines/readahead.py, started by the caller on raw with the default
    configuration) hands validate each quarter's roster read in a side process.
    `report_process` (default: when no `policy` is given, i.e. the configuration the side process
    loads itself) makes the reports in a ReportWorker, overlapping the next quarter's stages.
    A stage's error (validate's DataQualityError included) stops the run there, as it stops make."""
    raw, processed, reports = Path(raw), Path(processed), Path(reports)
    side = policy is None if report_process is None else report_process
    policy = policy or load_policy()
    quarters = [str(q) for q in quarters_in(raw)]
    if not quarters:
        raise FileNotFoundError(f"{raw}/registry: no quarter folder (YYYYQn) to run; `povmon synth` writes a sample city")
    done = Run(quarters)

    def add(step: Step) -> None:
        done.steps.append(step)
        if on_step:
            on_step(step)

    def record(stage: str, period: str | None, call: Callable[[], dict]) -> None:
        label = f"{stage} {period}" if period else stage
        cpu = time.process_time()
        with progress.step(label) as info:
            result = call()
        add(Step(stage, period, result, info["seconds"], round(time.process_time() - cpu, 2)))

    worker = ReportWorker(processed, reports) if side else None
    try:
        if ingest:
            from pipelines.ingest.pipeline import run as ingest_run
            record("ingest", None, lambda: ingest_run(raw, processed, policy=policy))
        compute = [s for s in STAGES if s != "report" or worker is None]
        runners = {s: stage_runner(s, raw, processed, reports, policy, allow_failed_gate, read_ahead) for s in compute}
        if worker is None:
            from pipelines.report.pipeline import browser_session

            with browser_session(policy):
                for q in quarters:
                    for stage in STAGES:
                        record(stage, q, lambda stage=stage, q=q: runners[stage](q))
            return done
        pins = Pins(snapshots_kept())
        for q in quarters:
            for stage in compute:
                pins.before_stage(worker)
                record(stage, q, lambda stage=stage, q=q: runners[stage](q))
                for step in worker.finished():
                    add(step)
            pins.handed(worker.submit(q, warehouse_snapshot(processed)))
        for step in worker.finished(wait=True):
            add(step)
        return done
    except Exception:  # not on Ctrl-C: the side process gets the interrupt too, and nothing is made here
        if worker is not None:  # the reports handed over are made, as make makes them before the next stage
            with contextlib.suppress(Exception):
                for step in worker.finished(wait=True):
                    add(step)
        raise
    finally:
        if worker is not None:
            worker.close()


def snapshots_kept() -> int:
    from pipelines.config import load_toml

    return max(1, int(load_toml("warehouse")["snapshots"]["keep"]))


def warehouse_snapshot(processed: Path) -> Path:
    from pipelines import warehouse

    return warehouse.snapshot(processed)


class Pins:
    """Snapshots handed to the report worker and not read yet: a stage may commit while fewer than
    `keep` - 1 commits have followed the oldest of them (the commit after that would remove it)."""

    def __init__(self, keep: int):
        self.keep = keep
        self.unread: dict[str, int] = {}  # period -> stages started since its snapshot was handed over

    def handed(self, period: str) -> None:
        self.unread[period] = 0

    def before_stage(self, worker: "ReportWorker") -> None:
        for period in list(self.unread):
            if period in worker.read:
                del self.unread[period]
            elif self.unread[period] >= self.keep - 1:
                worker.wait_read(period)
                del self.unread[period]
        for period in self.unread:
            self.unread[period] += 1


def _report_worker(processed: str, reports: str, conn) -> None:
    """The side process: reports of the quarters it is sent, in order, in one browser session."""
    from pipelines.readahead import _picklable
    from pipelines.report.pipeline import browser_session
    from pipelines.report.pipeline import run as report

    # plotly passes kaleido's options on every call, which kaleido's shared server ignores and says
    # so: in this process the warning would come once per report (GX's import, which silences it in
    # the main process, never happens here)
    warnings.filterwarnings("ignore", message="The kopts argument is ignored if using a server", category=UserWarning)
    policy = load_policy()
    with browser_session(policy):
        while (job := conn.recv()) is not None:
            period, snapshot = job
            sent = []

            def read(period=period, sent=sent):
                sent.append(True)
                conn.send(("read", period))

            started, cpu = time.perf_counter(), time.process_time()
            try:
                result, ok = report(Path(snapshot), period, Path(reports) / period, policy=policy, on_read=read), True
            except Exception as exc:  # noqa: BLE001 - raised in the parent, where the step is
                result, ok = _picklable(exc), False
            if not sent:
                conn.send(("read", period))
            conn.send(("done", period, ok, result, round(time.perf_counter() - started, 2),
                       round(time.process_time() - cpu, 2)))
    conn.close()


class ReportWorker:
    """One side process (`spawn`) making the reports it is handed, in order; `finished()` returns
    the Steps of reports done since the last call (raising a report's error), `read` holds the
    quarters whose snapshot has been read. If the process dies, the reports not done are made here."""

    def __init__(self, processed: Path, reports: Path):
        ctx = multiprocessing.get_context("spawn")
        self.processed, self.reports = Path(processed), Path(reports)
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_report_worker, args=(str(self.processed), str(self.reports), child),
                                   daemon=True, name="povmon-report")
        self.process.start()
        child.close()
        self.pending: list[tuple[str, Path]] = []  # handed over, not done, in order
        self.read: set[str] = set()
        self.done: list[tuple[str, bool, Any, float, float]] = []
        self.made_here: list[Step] = []  # reports made in this process after the side process died
        self.ended = False
        self.changed = threading.Condition()
        self.reader = threading.Thread(target=self._receive, name="povmon-report-receive", daemon=True)
        self.reader.start()

    def _receive(self) -> None:
        while True:
            try:
                message = self.conn.recv()
            except (EOFError, OSError):
                break
            with self.changed:
                if message[0] == "read":
                    self.read.add(message[1])
                else:
                    self.done.append(message[1:])
                self.changed.notify_all()
        with self.changed:
            self.ended = True
            self.changed.notify_all()

    def submit(self, period: str, snapshot: Path) -> str:
        self.pending.append((period, snapshot))
        if not self.ended:
            try:
                self.conn.send((period, str(snapshot)))
            except (BrokenPipeError, OSError):
                pass
        return period

    def wait_read(self, period: str) -> None:
        with self.changed:
            self.changed.wait_for(lambda: period in self.read or self.ended)
        if period not in self.read:  # the side process died: make what it has not made here, now
            self.made_here += self._make_here()

    def finished(self, wait: bool = False) -> list[Step]:
        """Steps of the reports done so far (with wait: of every report handed over)."""
        with self.changed:
            if wait:
                self.changed.wait_for(lambda: len(self.done) == len(self.pending) or self.ended)
            arrived, self.done = self.done, []
        steps, self.made_here = self.made_here, []
        error = None
        for period, ok, result, seconds, cpu in arrived:  # every arrival taken off pending before raising
            self.pending = [p for p in self.pending if p[0] != period]
            if not ok:
                progress.line(f"report {period}", seconds, failed=True)
                error = error or result
                continue
            progress.line(f"report {period}", seconds)
            steps.append(Step("report", period, result, seconds, cpu))
        if error is not None:
            self.made_here = steps  # the reports made beside it are still steps (the next call's)
            raise error
        if wait and self.pending and self.ended:
            steps += self._make_here()
        return steps

    def _make_here(self) -> list[Step]:
        """The reports handed over and not done, made in this process (the side process died); one
        whose result arrived before it died stays pending for finished() to take."""
        from pipelines.report.pipeline import browser_session
        from pipelines.report.pipeline import run as report

        steps, policy = [], load_policy()
        with self.changed:
            arrived = {d[0] for d in self.done}
        todo = [(period, snapshot) for period, snapshot in self.pending if period not in arrived]
        with browser_session(policy):
            for period, snapshot in todo:
                cpu = time.process_time()
                with progress.step(f"report {period}") as info:
                    result = report(snapshot, period, self.reports / period, policy=policy)
                steps.append(Step("report", period, result, info["seconds"], round(time.process_time() - cpu, 2)))
                self.read.add(period)
        self.pending = [p for p in self.pending if p[0] in arrived]
        return steps

    def close(self) -> None:
        if not self.ended:
            try:
                self.conn.send(None)
            except (BrokenPipeError, OSError):
                pass
        self.process.join(timeout=30)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join()
        self.reader.join(timeout=5)
        self.conn.close()


def write_log(path: Path, steps: list[Step]) -> Path:
    """Every step's JSON result, one line each (stage, period, seconds, result), written atomically,
    in the order `make quarters` runs them (ingest, then quarter by quarter, STAGES in order)."""
    path = Path(path)
    order = {s: i for i, s in enumerate(STAGES)}
    steps = sorted(steps, key=lambda s: (s.period is not None, s.period or "", order.get(s.stage, -1)))
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
