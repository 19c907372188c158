"""Crash, concurrency and disk faults, with povmon run as a separate process on a tiny city
(40 households, 2020Q1-2020Q2): killed with SIGKILL at its fault points (pipelines/faults.py),
two runs at once, a full disk, a read-only folder, a processed folder that is a file or its own
file system. After every fault the warehouse opens, reads whole, and holds exactly the state
before or after the run — never a mix — and a rerun gives a clean run's bytes.

The quick suite kills a sample of points (the commit's, see warehouse_checks.sample);
`make crash-test` (pytest -m slow) kills every point of every stage."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

import duckdb
import pytest

from pipelines import warehouse
from tests.warehouse_checks import (ROOT, check_readable, copy_warehouse, fault_points, killed_at, leftovers, povmon,
                                    resume, sample, start_stopped, state, try_mount_tmpfs, umount)

PERIODS = ("2020Q1", "2020Q2")


@pytest.fixture(scope="module")
def city(tmp_path_factory) -> Path:
    """raw/ of a tiny synthetic city (Parquet exports: the quickest to ingest)."""
    from pipelines.synth.pipeline import run

    base = tmp_path_factory.mktemp("crash_city")
    run(out_dir=base, households=40, seed=3, periods=list(PERIODS), fmt="parquet")
    return base


class Pristine:
    """Warehouses to start each run from, built once when first asked for; each kill works on a copy.
    scenario name -> (warehouse, its reports folder or None, povmon arguments with {processed} and
    {reports} placeholders)."""

    def __init__(self, raw: Path, base: Path):
        self.raw, self.base, self.built = raw, base, {}

    def warehouse(self, name: str) -> Path:
        if name not in self.built:
            getattr(self, f"_{name}")(self.base / name)
            self.built[name] = self.base / name
        return self.built[name]

    def _q1(self, out: Path) -> None:  # 2020Q1 ingested
        from pipelines.ingest.pipeline import run as ingest

        ingest(self.raw, out / "processed", periods=["2020Q1"])

    def _full(self, out: Path) -> None:  # both quarters ingested, the criteria models, risk for 2020Q1
        from pipelines.criteria import household_deprivations
        from pipelines.ingest.pipeline import run as ingest
        from pipelines.risk.pipeline import run as risk

        processed = out / "processed"
        ingest(self.raw, processed)
        # what `povmon validate` stores for risk, without GX's start-up time
        with duckdb.connect() as con, warehouse.transaction(processed, stage="criteria") as tx:
            for period in PERIODS:
                for table in ("households", "persons"):
                    con.execute(f"create or replace view {table} as select * from "
                                f"{warehouse.scan(processed, table, period)}")
                household_deprivations(con)
                tx.write_table(con, "int_household_deprivations", "int_household_deprivations", period,
                               order_by="household_key")
        risk(processed, "2020Q1")

    def _validated(self, out: Path) -> None:  # + validate 2020Q1, and an earlier 问题清单 folder for 2020Q2
        copy_warehouse(self.warehouse("full") / "processed", out / "processed")
        povmon("validate", "--period", "2020Q1", "--processed", str(out / "processed"),
               "--reports", str(out / "reports"), "--raw", str(self.raw), check=True)
        old_ledger = out / "reports" / "2020Q2" / "问题清单"
        old_ledger.mkdir(parents=True)
        (old_ledger / "old.xlsx").write_text("from an earlier run")

    def get(self, name: str) -> tuple[Path, Path | None, list[str]]:
        stage = ["--processed", "{processed}"]
        raw = ["--raw", str(self.raw)]
        base, args = {
            "ingest-periods": ("q1", ["ingest", *raw, *stage, "--periods", "2020Q2"]),
            "ingest": ("q1", ["ingest", *raw, *stage]),
            "measures": ("full", ["measures", "--period", "2020Q2", *stage]),
            "risk": ("full", ["risk", "--period", "2020Q2", *stage]),
            "validate": ("validated", ["validate", "--period", "2020Q2", *stage, "--reports", "{reports}", *raw]),
        }[name]
        folder = self.warehouse(base)
        reports = folder / "reports"
        return folder / "processed", reports if reports.exists() else None, args


@pytest.fixture(scope="module")
def scenarios(city, tmp_path_factory) -> Pristine:
    return Pristine(city / "raw", tmp_path_factory.mktemp("pristine"))


class Scenario:
    """A pristine warehouse, the command, and the states before and after a clean run."""

    def __init__(self, scenarios: Pristine, name: str, work: Path):
        self.pristine, self.pristine_reports, self.template = scenarios.get(name)
        self.work = work
        self.processed, self.reports = work / "processed", work / "reports"
        self.args = [a.format(processed=self.processed, reports=self.reports) for a in self.template]
        self.reset()
        self.before, self.old_folder = state(self.processed), self.folder()
        self.points = fault_points(self.args, work)
        self.after, self.new_folder = state(self.processed), self.folder()
        assert self.after != self.before, "the run must change something"

    def reset(self) -> None:
        copy_warehouse(self.pristine, self.processed)
        if self.pristine_reports is not None:
            copy_warehouse(self.pristine_reports, self.reports)

    def folder(self) -> list[str] | None:
        """The validate stage's 问题清单 folder (published with the snapshot), or None."""
        ledger = self.reports / "2020Q2" / "问题清单"
        return sorted(p.name for p in ledger.iterdir()) if ledger.is_dir() else None

    def kill_and_check(self, k: int, rerun: bool) -> None:
        self.reset()
        point = self.points[k - 1]
        done = killed_at(self.args, k)
        assert done.returncode == -9, (k, point, done.returncode, done.stderr[-500:])
        got = state(self.processed)  # what readers see, before any recovery
        assert got in (self.before, self.after), f"kill at {k} ({point}) left a mix"
        with duckdb.connect(str(self.processed / warehouse.DATABASE), read_only=True) as con:
            for (view,) in con.execute("select view_name from duckdb_views() where not internal").fetchall():
                con.execute(f'select count(*) from "{view}"').fetchall()
        if self.old_folder is not None:
            folder = self.folder()
            assert folder in (self.old_folder, self.new_folder), (k, point, folder)
            if got == self.after:
                assert folder == self.new_folder, (k, point)  # published before the pointer switch
        warehouse.recover(self.processed)  # what the next run does first
        assert leftovers(self.processed) == [], (k, point)
        assert state(self.processed) == got
        check_readable(self.processed)
        if rerun:
            povmon(*self.args, check=True)
            assert state(self.processed) == self.after, f"rerun after a kill at {k} ({point})"
            assert self.folder() == self.new_folder
            check_readable(self.processed)


def kill_points(scenario: Scenario, picks: list[int], rerun_after: Iterable[str | int] = ()) -> None:
    """Kill at each of `picks` (1-based); rerun after the kills at the named points (or numbers)."""
    rerun = {k for k in picks if k in rerun_after or scenario.points[k - 1] in rerun_after}
    for k in picks:
        scenario.kill_and_check(k, rerun=k in rerun)


def test_kills_during_a_partial_ingest_never_lose_the_other_quarter(scenarios, tmp_path):
    s = Scenario(scenarios, "ingest-periods", tmp_path)
    assert {"link", "snapshot.rename", "pointer.switch", "gc.rename"} - set(s.points) == {"gc.rename"}
    q1 = {t: {f: h for f, h in files.items() if "period=2020Q1" in f} for t, files in s.before.items()}
    kill_points(s, sample(s.points), rerun_after={"pointer.switched"})
    for table, files in q1.items():  # 2020Q1 untouched by a run for 2020Q2, killed or not
        assert {f: h for f, h in s.after[table].items() if "period=2020Q1" in f} == files


def test_kills_during_risk_publish_its_tables_together(scenarios, tmp_path):
    s = Scenario(scenarios, "risk", tmp_path)
    published = {t for t in s.after if s.after[t] != s.before.get(t)}
    assert published == {"risk", "watch_group_counts", "assistance_gaps", "assistance_coverage", "transitions",
                         "transition_matrix"}
    picks = [s.points.index(name) + 1 for name in ("snapshot.rename", "pointer.switched")]
    kill_points(s, picks, rerun_after={"pointer.switched"})


@pytest.mark.slow
@pytest.mark.parametrize("name", ["ingest-periods", "ingest", "measures", "risk", "validate"])
def test_a_kill_at_every_fault_point(scenarios, tmp_path, name):
    """Every point, each followed by a rerun (validate: a rerun after every fourth, it is slow)."""
    s = Scenario(scenarios, name, tmp_path)
    if name == "validate":
        assert s.old_folder == ["old.xlsx"] and "old.xlsx" not in s.new_folder
    every = list(range(1, len(s.points) + 1))
    kill_points(s, every, rerun_after=every[::4] if name == "validate" else every)


# ---- two runs at once ------------------------------------------------------------------------------

def test_a_second_ingest_waits_for_the_first_then_both_quarters_are_there(city, tmp_path):
    processed = tmp_path / "processed"
    raw = str(city / "raw")
    first = ["ingest", "--raw", raw, "--processed", str(processed), "--periods", "2020Q1"]
    second = ["ingest", "--raw", raw, "--processed", str(processed), "--periods", "2020Q2"]
    holder = start_stopped(first, 1, tmp_path / "first.err")  # holds the lock, stopped at its first point
    try:
        impatient = povmon(*second, "--wait", "0.5")
        lines = impatient.stderr.strip().splitlines()
        assert impatient.returncode == 2 and "Traceback" not in impatient.stderr
        assert lines[0].startswith("povmon ingest: waiting up to 0.5 s for the warehouse")
        assert lines[-1].startswith("povmon ingest: error: the warehouse") and len(lines) == 2
        assert f"in use by pid {holder.pid} (povmon ingest --raw" in lines[-1] and "--periods 2020Q1" in lines[-1]
        waiter = subprocess.Popen([sys.executable, "-m", "pipelines.cli", *second, "--wait", "120"], cwd=ROOT,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        assert resume(holder) == 0
        _out, err = waiter.communicate(timeout=300)
        assert waiter.returncode == 0, err
        assert f"in use by pid {holder.pid}" in err  # it said whom it waited for
    finally:
        if holder.poll() is None:
            holder.kill()
    assert sorted(warehouse.partitions(processed, "persons")) == ["2020Q1", "2020Q2"]
    with duckdb.connect(str(processed / warehouse.DATABASE), read_only=True) as con:
        assert dict(con.execute("select period, count(distinct source_file) from ingest_manifest "
                                "where source_kind = 'registry' group by 1").fetchall()).keys() == {"2020Q1", "2020Q2"}
    check_readable(processed)


# ---- the disk -----------------------------------------------------------------------------------

def one_line_error(done: subprocess.CompletedProcess, command: str) -> str:
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1 and "Traceback" not in done.stderr, done.stderr[-2000:]
    assert lines[0].startswith(f"povmon {command}: error: ")
    return lines[0]


def test_disk_full_injected_at_a_write_is_one_line_and_changes_nothing(scenarios, tmp_path):
    s = Scenario(scenarios, "risk", tmp_path)
    s.reset()
    k = s.points.index("link") + 1
    done = povmon(*s.args, env={"POVMON_FAULT_AT": str(k), "POVMON_FAULT_ACTION": "ENOSPC"})
    line = one_line_error(done, "risk")
    assert "No space left on device" in line and "the disk is full" in line and "is unchanged" in line
    assert state(s.processed) == s.before and leftovers(s.processed) == []


def test_a_full_disk_is_one_line_and_changes_nothing(city, tmp_path):
    mount = tmp_path / "small"
    if not try_mount_tmpfs(mount, "6m"):
        pytest.skip("mounting a small tmpfs needs root")
    try:
        processed = mount / "processed"
        args = ["ingest", "--raw", str(city / "raw"), "--processed", str(processed)]
        povmon(*args, "--periods", "2020Q1", check=True)
        before = state(processed)
        ballast = mount / "ballast"
        subprocess.run(["dd", "if=/dev/zero", f"of={ballast}", "bs=64k"], capture_output=True)  # fills the disk
        free = shutil.disk_usage(mount).free
        assert free < 64 * 1024, free
        line = one_line_error(povmon(*args), "ingest")
        assert "No space left on device" in line and "is unchanged" in line
        assert state(processed) == before
        ballast.unlink()
        povmon(*args, check=True)
        assert sorted(warehouse.partitions(processed, "persons")) == ["2020Q1", "2020Q2"]
        assert leftovers(processed) == []
        check_readable(processed)
    finally:
        umount(mount)


def test_a_read_only_warehouse_is_one_line(city, tmp_path):
    mount = tmp_path / "ro"
    if not try_mount_tmpfs(mount, "20m"):
        pytest.skip("mounting a tmpfs read-only needs root")
    try:
        processed = mount / "processed"
        povmon("ingest", "--raw", str(city / "raw"), "--processed", str(processed), "--periods", "2020Q1", check=True)
        before = state(processed)
        assert subprocess.run(["mount", "-o", "remount,ro", str(mount)], capture_output=True).returncode == 0
        line = one_line_error(povmon("measures", "--period", "2020Q1", "--processed", str(processed)), "measures")
        assert "Read-only file system" in line and "read-only file system: mount it read-write" in line
        assert state(processed) == before
        check_readable(processed)  # readers still read it
    finally:
        umount(mount)


def test_a_processed_path_that_is_a_file_is_one_line(city, tmp_path):
    processed = tmp_path / "processed"
    processed.write_text("not a folder")
    line = one_line_error(povmon("ingest", "--raw", str(city / "raw"), "--processed", str(processed)), "ingest")
    assert f"the warehouse {processed} must be a folder, but {processed} is a file" in line
    assert processed.read_text() == "not a folder"


def test_a_processed_folder_on_its_own_file_system(city, tmp_path):
    """The old layout built beside processed_dir and renamed across: on a mount point it always
    failed. Now everything is staged inside processed_dir."""
    processed = tmp_path / "processed"
    if not try_mount_tmpfs(processed, "50m"):
        pytest.skip("mounting a tmpfs needs root")
    try:
        assert processed.stat().st_dev != tmp_path.stat().st_dev
        for period in PERIODS:  # the second run links the first one's partitions, inside the mount
            povmon("ingest", "--raw", str(city / "raw"), "--processed", str(processed), "--periods", period,
                   check=True)
        assert sorted(warehouse.partitions(processed, "persons")) == list(PERIODS) and leftovers(processed) == []
        check_readable(processed)
    finally:
        umount(processed)
