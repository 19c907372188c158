"""Shared fixtures: one small synthetic city, generated and ingested once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

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
