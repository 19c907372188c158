"""Shared fixtures: one small synthetic city, generated and ingested once per test session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Tests key their data with a test key of the required length (hand-written fixtures are not
# synthetic, so the demo key would be refused for them); tests of the key policy itself set or
# remove it with monkeypatch. Set before any fixture runs, so session fixtures use it too.
TEST_KEY = "povmon-test-suite-key-0123456789abcdef"
os.environ["POVMON_HASH_KEY"] = TEST_KEY

SMALL_CITY_HOUSEHOLDS = 600
SMALL_CITY_SEED = 7


@pytest.fixture(scope="session")
def small_city(tmp_path_factory) -> Path:
    """Data dir with raw/ and truth/ of a small synthetic city (all periods, county formats)."""
    from pipelines.synth.pipeline import run

    data_dir = tmp_path_factory.mktemp("city")
    run(out_dir=data_dir, households=SMALL_CITY_HOUSEHOLDS, seed=SMALL_CITY_SEED, periods=None, fmt="county")
    return data_dir


@pytest.fixture(scope="session")
def ingested_city(small_city) -> Path:
    """The small city after ingest: data dir whose processed/ holds the canonical tables."""
    from pipelines.ingest.pipeline import run

    run(raw_dir=small_city / "raw", processed_dir=small_city / "processed", periods=None)
    return small_city


STAGED_PERIODS = ("2020Q1", "2020Q2")


@pytest.fixture(scope="session")
def staged_city(ingested_city, tmp_path_factory) -> Path:
    """A copy of the ingested small city with validate, measures, risk and tasks run for 2020Q1 and 2020Q2
    (in order: 2020Q2's ledger status and transitions read 2020Q1). raw/ and truth/ are linked."""
    import shutil

    from pipelines.crosscheck.pipeline import run as crosscheck
    from pipelines.measures.pipeline import run as measures
    from pipelines.risk.pipeline import run as risk
    from pipelines.tasks.pipeline import run as tasks
    from pipelines.validate.pipeline import run as validate

    data_dir = tmp_path_factory.mktemp("staged")
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
    return data_dir
