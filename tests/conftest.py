"""Shared fixtures: one small synthetic city, generated and ingested once per test session.

Under pytest-xdist (`make test` runs `pytest -n 2`), each worker is a process of its own with its own
session fixtures; the city fixtures below are built once per run for all workers (`built_once`:
the first worker to ask builds the folder under a file lock, the others wait and then read it).
The built folders are read-only for tests: a test that changes a stage's output works on a copy
(shutil.copytree(..., symlinks=True)), as every test here does."""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

# Tests key their data with a test key of the required length (hand-written fixtures are not
# synthetic, so the demo key would be refused for them); tests of the key policy itself set or
# remove it with monkeypatch. Set before any fixture runs, so session fixtures use it too.
TEST_KEY = "povmon-test-suite-key-0123456789abcdef"
os.environ["POVMON_HASH_KEY"] = TEST_KEY

SMALL_CITY_HOUSEHOLDS = 600
SMALL_CITY_SEED = 7


def built_once(tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], None],
               into: Path | None = None) -> Path:
    """The folder `into` (default: a new folder `name`) made by `build(folder)` once per test run. In a
    plain run: a fresh temp folder. Under pytest-xdist: a folder in the run's temp root shared by every
    worker (the first to ask builds it while holding `<name>.lock`; the others wait on the lock, then
    reuse it). A build that raised leaves no `<name>.done`, so the next worker to ask builds it again
    (and fails the same way)."""
    if os.environ.get("PYTEST_XDIST_WORKER") is None:
        folder = into or tmp_path_factory.mktemp(name)
        build(folder)
        return folder
    root = tmp_path_factory.getbasetemp().parent  # pytest-N/: the workers' popen-gwK folders live in it
    folder, done = into or root / name, root / f"{name}.done"
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not done.exists():
                if into is None:
                    shutil.rmtree(folder, ignore_errors=True)
                    folder.mkdir()
                build(folder)
                done.touch()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return folder


@pytest.fixture(scope="session")
def small_city(tmp_path_factory) -> Path:
    """Data dir with raw/ and truth/ of a small synthetic city (all periods, county formats)."""
    from pipelines.synth.pipeline import run

    def build(data_dir: Path) -> None:
        run(out_dir=data_dir, households=SMALL_CITY_HOUSEHOLDS, seed=SMALL_CITY_SEED, periods=None, fmt="county")

    return built_once(tmp_path_factory, "city", build)


@pytest.fixture(scope="session")
def ingested_city(small_city, tmp_path_factory) -> Path:
    """The small city after ingest: data dir whose processed/ holds the canonical tables."""
    from pipelines.ingest.pipeline import run

    def build(data_dir: Path) -> None:
        run(raw_dir=data_dir / "raw", processed_dir=data_dir / "processed", periods=None)

    return built_once(tmp_path_factory, "city_ingested", build, into=small_city)


STAGED_PERIODS = ("2020Q1", "2020Q2")


@pytest.fixture(scope="session")
def staged_city(ingested_city, tmp_path_factory) -> Path:
    """A copy of the ingested small city with validate, measures, risk and tasks run for 2020Q1 and 2020Q2
    (in order: 2020Q2's ledger status and transitions read 2020Q1). raw/ and truth/ are linked."""
    from pipelines.crosscheck.pipeline import run as crosscheck
    from pipelines.measures.pipeline import run as measures
    from pipelines.risk.pipeline import run as risk
    from pipelines.tasks.pipeline import run as tasks
    from pipelines.validate.pipeline import run as validate

    def build(data_dir: Path) -> None:
        shutil.copytree(ingested_city / "processed", data_dir / "processed", symlinks=True)
        for name in ("raw", "truth"):
            (data_dir / name).symlink_to(ingested_city / name, target_is_directory=True)
        processed = data_dir / "processed"
        for period in STAGED_PERIODS:
            crosscheck(processed, period)
            validate(processed, period, reports_dir=data_dir / "reports", raw_dir=data_dir / "raw")
            measures(processed, period)
            risk(processed, period)
            tasks(processed, period, data_dir / "reports")  # the rectification tracker (issue 16 part 2)

    return built_once(tmp_path_factory, "staged", build)
