"""Helpers for the crash, concurrency and disk-fault tests: run povmon as a separate process
(killed, stopped or failed at a fault point, see pipelines/faults.py), and describe a warehouse by
its content so two states can be compared byte for byte."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from pipelines import warehouse

ROOT = Path(__file__).resolve().parents[1]


def state(processed: Path) -> dict[str, dict[str, str]]:
    """{table: {file relative to the table folder: sha256}} of the current snapshot (what every
    reader sees)."""
    snap = warehouse.snapshot(processed)
    out: dict[str, dict[str, str]] = {}
    for table in warehouse.tables(snap):
        files = sorted(p for p in (snap / table).rglob("*") if p.is_file() and not p.name.startswith("."))
        out[table] = {p.relative_to(snap / table).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
                      for p in files}
    return out


def check_readable(processed: Path) -> None:
    """povmon.duckdb opens read-only, has one view per table, and every view and file reads whole."""
    names = warehouse.tables(processed)
    with duckdb.connect(str(processed / warehouse.DATABASE), read_only=True) as con:
        views = sorted(r[0] for r in con.execute("select view_name from duckdb_views() where not internal").fetchall())
        assert views == names, (views, names)
        for name in names:
            con.execute(f'select count(*) from "{name}"').fetchall()
    with duckdb.connect() as con:
        for name in names:
            for f in warehouse.table_files(processed, name):
                con.execute(f"select count(*) from read_parquet({warehouse.sql_literal(f)})").fetchall()


def leftovers(processed: Path) -> list[str]:
    """Anything a killed run may leave: staging, temp files, snapshots newer than current, .gc-."""
    found = [p.name for p in (processed / warehouse.STAGING).glob("*")]
    found += [p.name for p in processed.glob(".*") if ".tmp" in p.name]
    current = warehouse.snapshot(processed).name
    for snap in (processed / warehouse.SNAPSHOTS).glob("*"):
        if snap.name.startswith(".") or snap.name > current:
            found.append(snap.name)
    return found + [p.name for p in processed.glob(f"{warehouse.DATABASE}.wal")]


def povmon(*args: str, env: dict | None = None, check: bool = False, timeout: float = 300) -> subprocess.CompletedProcess:
    """`python -m pipelines.cli ...` in its own process (a clean fault counter, a real SIGKILL)."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("POVMON_FAULT")} | (env or {})
    out = subprocess.run([sys.executable, "-m", "pipelines.cli", *args], cwd=ROOT, env=full, capture_output=True,
                         text=True, timeout=timeout)
    if check and out.returncode != 0:
        raise AssertionError(f"povmon {' '.join(args)} exited {out.returncode}: {out.stderr[-2000:]}")
    return out


def fault_points(args: list[str], work: Path) -> list[str]:
    """The names of the fault points a run of `povmon *args` passes, in order (the run completes)."""
    log = work / "fault.log"
    log.unlink(missing_ok=True)
    povmon(*args, env={"POVMON_FAULT_LOG": str(log)}, check=True)
    return [line.split(" ", 1)[1] for line in log.read_text().splitlines()]


def killed_at(args: list[str], k: int) -> subprocess.CompletedProcess:
    """Run `povmon *args`, SIGKILLed at its k-th fault point."""
    return povmon(*args, env={"POVMON_FAULT_AT": str(k)})


def copy_warehouse(src: Path, dst: Path) -> Path:
    """A copy that keeps the `current` link (as `cp -a` would)."""
    if dst.exists():
        shutil.rmtree(dst)
    return Path(shutil.copytree(src, dst, symlinks=True))


def sample(points: list[str]) -> list[int]:
    """1-based fault points worth a kill in the quick suite: the first hard link (the new snapshot
    half built in staging) and every point from the snapshot rename to just after the pointer
    switch (the commit itself). Staging writes leave what the first link does, less a temp file."""
    picked = {points.index("link") + 1} if "link" in points else set()
    if "snapshot.rename" in points and "pointer.switched" in points:
        picked |= set(range(points.index("snapshot.rename") + 1, points.index("pointer.switched") + 2))
    return sorted(picked)


def start_stopped(args: list[str], k: int, stderr: Path) -> subprocess.Popen:
    """Start `povmon *args` and wait until it stops itself (SIGSTOP) at its k-th fault point."""
    env = {k_: v for k_, v in os.environ.items() if not k_.startswith("POVMON_FAULT")}
    env |= {"POVMON_FAULT_AT": str(k), "POVMON_FAULT_ACTION": "stop"}
    proc = subprocess.Popen([sys.executable, "-m", "pipelines.cli", *args], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=open(stderr, "w"))
    deadline = time.monotonic() + 120
    while _state_letter(proc.pid) != "T":
        assert proc.poll() is None, f"povmon {' '.join(args)} ended ({proc.returncode}) before its fault point {k}"
        assert time.monotonic() < deadline, "the process never reached its fault point"
        time.sleep(0.05)
    return proc


def _state_letter(pid: int) -> str:
    with open(f"/proc/{pid}/stat") as fh:
        return fh.read().rsplit(")", 1)[1].split()[0]


def resume(proc: subprocess.Popen) -> int:
    proc.send_signal(signal.SIGCONT)
    return proc.wait(timeout=300)


def try_mount_tmpfs(path: Path, size: str) -> bool:
    """Mount a tmpfs of `size` at path (root only; False where not allowed)."""
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True)
    return done.returncode == 0


def umount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], capture_output=True)
