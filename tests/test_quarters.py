"""`povmon quarters` (what `make demo` runs): every stage of every quarter in one process writes the
same warehouse as the stage commands one by one; progress goes to stderr, a short summary to stdout,
each stage's JSON to the log. pipelines/progress.py: a live line on a terminal only."""

from __future__ import annotations

import importlib.util
import io
import json
import shutil
import sys
from pathlib import Path

import duckdb
import pytest

from pipelines import progress, quarters, warehouse
from pipelines.cli import main
from pipelines.report.pipeline import STAMP

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "compare_warehouses.py"
spec = importlib.util.spec_from_file_location("compare_warehouses", SCRIPT)
cw = sys.modules.setdefault("compare_warehouses", importlib.util.module_from_spec(spec))
spec.loader.exec_module(cw)
REPORTS_SCRIPT = SCRIPT.with_name("compare_reports.py")
spec = importlib.util.spec_from_file_location("compare_reports", REPORTS_SCRIPT)
cr = sys.modules.setdefault("compare_reports", importlib.util.module_from_spec(spec))
spec.loader.exec_module(cr)

QUARTERS = ("2020Q1", "2020Q2")  # two quarters: the second reads the first (ledger status, transitions)
STEPS = ("crosscheck", "validate", "measures", "risk", "tasks", "report")


def _two_quarter_raw(raw: Path, out: Path) -> Path:
    """raw/ of the small city with only QUARTERS' registry folders (what the quarters are read from)."""
    out.mkdir()
    for kind in raw.iterdir():
        if kind.name == "registry":
            (out / "registry").mkdir()
            for q in QUARTERS:
                (out / "registry" / q).symlink_to(kind / q, target_is_directory=True)
        else:
            (out / kind.name).symlink_to(kind, target_is_directory=kind.is_dir())
    return out


@pytest.fixture(scope="module")
def both_ways(ingested_city, tmp_path_factory):
    """The ingested small city staged twice from the same warehouse: (a) each stage command in turn, as
    `make quarters` runs them, (b) `povmon quarters --no-ingest`, with its stdout, stderr and log."""
    base = tmp_path_factory.mktemp("quarters")
    raw = _two_quarter_raw(ingested_city / "raw", base / "raw")
    a, b = base / "a", base / "b"
    for side in (a, b):
        shutil.copytree(ingested_city / "processed", side / "processed", symlinks=True)
    for q in QUARTERS:
        p = ["--period", q, "--processed", str(a / "processed")]
        assert main(["crosscheck", *p]) == 0
        assert main(["validate", *p, "--reports", str(a / "reports"), "--raw", str(raw)]) == 0
        assert main(["measures", *p]) == 0
        assert main(["risk", *p]) == 0
        assert main(["tasks", *p, "--reports", str(a / "reports")]) == 0
        assert main(["report", *p, "--out", str(a / "reports" / q)]) == 0
    out, err = io.StringIO(), io.StringIO()
    mp = pytest.MonkeyPatch()
    mp.setattr(sys, "stdout", out)
    mp.setattr(sys, "stderr", err)
    mp.delenv(progress.ENV, raising=False)
    try:
        code = main(["quarters", "--no-ingest", "--raw", str(raw), "--processed", str(b / "processed"),
                     "--reports", str(b / "reports"), "--log-file", str(b / "logs" / "q.jsonl")])
    finally:
        mp.undo()
    return {"a": a, "b": b, "code": code, "out": out.getvalue(), "err": err.getvalue()}


def test_one_process_writes_the_same_warehouse_as_the_stage_commands(both_ways):
    assert both_ways["code"] == 0, both_ways["err"]
    diffs = cw.compare(both_ways["a"] / "processed", both_ways["b"] / "processed")
    assert {"problems", "measures", "risk", "task_status", "crosscheck_findings"} <= {d.table for d in diffs}
    assert [d.line() for d in diffs if d.differs] == []


def test_the_reports_made_beside_the_stages_equal_the_report_commands(both_ways):
    """`povmon quarters` makes each report in a side process on the quarter's pinned snapshot while
    the next quarter's stages commit: the same tables, cells and cards as `povmon report` after them."""
    assert cr.compare(both_ways["a"] / "reports", both_ways["b"] / "reports") == []
    # each read the files a report run after the whole run reads (partitions up to its quarter)
    from pipelines.report.pipeline import fingerprint, pngs_wanted
    from pipelines.policy import load_policy

    png = pngs_wanted(load_policy())
    for q in QUARTERS:
        stamp = json.loads((both_ways["b"] / "reports" / q / STAMP).read_text(encoding="utf-8"))
        assert stamp["fingerprint"] == fingerprint(both_ways["b"] / "processed", q, png=png)


def test_every_quarter_has_its_report_and_figures_from_one_browser_session(both_ways):
    for q in QUARTERS:
        folder = both_ways["b"] / "reports" / q
        assert (folder / "summary.html").is_file() and (folder / "summary.xlsx").is_file()
        stamp = json.loads((folder / STAMP).read_text(encoding="utf-8"))
        if stamp["png_wanted"]:  # with Chromium: the second quarter's PNGs too, from the same browser
            assert stamp["figures"] and all((folder / f).is_file() for f in stamp["figures"])


def _problems(processed: Path, q: str) -> int:
    with duckdb.connect() as con:
        return con.execute(f"select count(*) from {warehouse.scan(processed, 'problems', q)}").fetchone()[0]


def test_stdout_is_a_short_summary_with_the_warehouse_counts(both_ways):
    out, processed = both_ways["out"], both_ways["b"] / "processed"
    lines = out.splitlines()
    assert lines[0].startswith("povmon: 2 quarters (2020Q1, 2020Q2); ")
    with duckdb.connect() as con:
        households = con.execute(f"select count(*) from {warehouse.scan(processed, 'households', '2020Q2')}").fetchone()[0]
    assert lines[0].endswith(f"{households:,} households in 2020Q2")
    counts = ", ".join(f"{q} {_problems(processed, q):,}" for q in QUARTERS)
    assert f"  problems (问题清单): {counts}" in lines
    assert "seconds by stage: crosscheck" in lines[-1]
    assert len(lines) < 20 and "{" not in out  # no stage JSON on stdout


def test_stderr_has_one_progress_line_per_stage_and_quarter(both_ways):
    err = both_ways["err"]
    assert "\r" not in err  # not a terminal: no redrawn line
    done = [line.split(" … ")[0] for line in err.splitlines() if " … " in line]
    assert sorted(done) == sorted(f"{s} {q}" for q in QUARTERS for s in STEPS)  # each once
    # the stages here in make's order; a quarter's report (side process) after its last stage
    assert [d for d in done if not d.startswith("report")] == [f"{s} {q}" for q in QUARTERS for s in STEPS[:-1]]
    assert all(done.index(f"report {q}") > done.index(f"tasks {q}") for q in QUARTERS)


def test_the_log_holds_every_stage_result(both_ways):
    log = both_ways["b"] / "logs" / "q.jsonl"
    rows = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert [(r["stage"], r["period"]) for r in rows] == [(s, q) for q in QUARTERS for s in STEPS]
    validate = {r["period"]: r["result"] for r in rows if r["stage"] == "validate"}
    assert validate["2020Q2"]["ledger"]["rows"] == _problems(both_ways["b"] / "processed", "2020Q2")


class _Worker:
    """What Pins asks of a ReportWorker: the quarters read, and waiting for one."""

    def __init__(self):
        self.read, self.waited = set(), []

    def wait_read(self, period):
        self.waited.append(period)
        self.read.add(period)


def test_a_handed_snapshot_is_not_committed_past_before_the_report_has_read_it():
    # keep = 3: the current snapshot and two before it; the third commit after a hand-over removes it
    pins, worker = quarters.Pins(3), _Worker()
    pins.handed("2020Q1")
    pins.before_stage(worker)  # crosscheck 2020Q2: commit 1 after the hand-over
    pins.before_stage(worker)  # validate 2020Q2: commit 2
    assert worker.waited == []
    pins.before_stage(worker)  # measures 2020Q2 would be commit 3: wait until the report has read
    assert worker.waited == ["2020Q1"]
    pins.handed("2020Q2")
    worker.read.add("2020Q2")  # read before the next stage: nobody waits
    for _ in range(5):
        pins.before_stage(worker)
    assert worker.waited == ["2020Q1"] and pins.unread == {}


def test_keep_one_waits_before_the_first_commit_after_a_hand_over():
    pins, worker = quarters.Pins(1), _Worker()
    pins.handed("2020Q1")
    pins.before_stage(worker)
    assert worker.waited == ["2020Q1"]


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_each_redraws_one_line_on_a_terminal_and_clears_it(monkeypatch):
    monkeypatch.delenv(progress.ENV, raising=False)
    stream = _Tty()
    assert list(progress.each(["a.xlsx", "b.csv"], "ingest", stream=stream)) == ["a.xlsx", "b.csv"]
    text = stream.getvalue()
    assert "\ringest 1/2 · a.xlsx" in text and "\ringest 2/2 · b.csv" in text
    assert text.endswith("\r") and "\n" not in text  # cleared, no line left behind


def test_each_prints_nothing_off_a_terminal_and_step_one_line(monkeypatch):
    monkeypatch.delenv(progress.ENV, raising=False)
    stream = io.StringIO()
    assert list(progress.each([1, 2, 3], "ingest", stream=stream)) == [1, 2, 3]
    assert stream.getvalue() == ""
    with progress.step("risk 2020Q2", stream=stream) as info:
        info["note"] = "3 tables"
    assert stream.getvalue().startswith("risk 2020Q2 … ") and stream.getvalue().endswith(" s (3 tables)\n")
    assert info["seconds"] >= 0


def test_a_failed_step_says_so_and_the_error_goes_on(monkeypatch):
    monkeypatch.delenv(progress.ENV, raising=False)
    stream = io.StringIO()
    with pytest.raises(KeyError), progress.step("validate 2020Q3", stream=stream):
        raise KeyError("x")
    assert stream.getvalue().startswith("validate 2020Q3 … failed after ")


def test_progress_can_be_switched_off_or_forced(monkeypatch):
    monkeypatch.setenv(progress.ENV, "0")
    stream = _Tty()
    with progress.step("ingest", stream=stream):
        pass
    assert stream.getvalue() == ""
    monkeypatch.setenv(progress.ENV, "1")
    assert progress.mode(io.StringIO()) == "tty"


def test_a_browser_that_cannot_start_is_not_shared_and_does_not_hang(monkeypatch):
    import kaleido

    from pipelines.report.pipeline import browser_session

    monkeypatch.setenv("BROWSER_PATH", "/bin/false")  # found, but closes at once
    with browser_session() as shared:
        assert shared is False  # each report then starts its own (and notes the PNG failure), as before
        assert not kaleido._global_server.is_running()


def _idle_worker():
    """A ReportWorker whose side process is alive but idle (no process: its state only)."""
    import threading

    worker = object.__new__(quarters.ReportWorker)
    worker.pending, worker.read, worker.done, worker.made_here = [], set(), [], []
    worker.ended, worker.changed = False, threading.Condition()
    return worker


def test_a_failed_report_arriving_with_a_made_one_does_not_leave_the_run_waiting(monkeypatch):
    """Two reports done between two looks (the first failed): the error is raised, and the wait
    for the reports handed over (run's except path) ends; the made one is still a step."""
    import threading

    monkeypatch.setenv("POVMON_PROGRESS", "0")
    worker = _idle_worker()
    worker.pending = [("2020Q1", Path("s1")), ("2020Q2", Path("s2"))]
    worker.done = [("2020Q1", False, RuntimeError("boom"), 1.0, 1.0), ("2020Q2", True, {"ok": 1}, 1.0, 1.0)]
    with pytest.raises(RuntimeError, match="boom"):
        worker.finished()
    got = []
    waiting = threading.Thread(target=lambda: got.extend(worker.finished(wait=True)), daemon=True)
    waiting.start()
    waiting.join(timeout=5)
    assert not waiting.is_alive(), "finished(wait=True) waits for a report that has already arrived"
    assert [(s.stage, s.period) for s in got] == [("report", "2020Q2")]


def test_a_dead_side_process_s_made_report_is_not_made_again_here(monkeypatch, tmp_path):
    """The side process made 2020Q1, then died before reading 2020Q2's snapshot: waiting for that
    read makes only 2020Q2 in this process; 2020Q1's arrived result is still the step (once)."""
    import contextlib

    from pipelines.report import pipeline as report

    monkeypatch.setenv("POVMON_PROGRESS", "0")
    made = []
    monkeypatch.setattr(report, "run", lambda snapshot, period, out, policy=None: made.append(period) or {"p": period})
    monkeypatch.setattr(report, "browser_session", lambda policy: contextlib.nullcontext())
    worker = _idle_worker()
    worker.reports = tmp_path
    worker.pending = [("2020Q1", Path("s1")), ("2020Q2", Path("s2"))]
    worker.read = {"2020Q1"}
    worker.done = [("2020Q1", True, {"p": "2020Q1"}, 1.0, 1.0)]
    worker.ended = True
    worker.wait_read("2020Q2")
    assert made == ["2020Q2"]
    steps = worker.finished(wait=True)
    assert sorted((s.period, s.result["p"]) for s in steps) == [("2020Q1", "2020Q1"), ("2020Q2", "2020Q2")]
    assert made == ["2020Q2"] and worker.pending == []
