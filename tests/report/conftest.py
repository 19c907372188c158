"""Report fixtures: the small synthetic city with every stage run (tests/conftest.py `staged_city`)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

PERIOD = "2020Q2"


@pytest.fixture(scope="session")
def report_warehouse(staged_city) -> Path:
    """processed_dir with canonical tables, the ledger, measures and risk for 2020Q1 and 2020Q2."""
    return staged_city / "processed"


@pytest.fixture(scope="session")
def report_out(report_warehouse, tmp_path_factory) -> tuple[Path, dict]:
    from pipelines.report.pipeline import run

    out = tmp_path_factory.mktemp("reports") / PERIOD
    return out, run(report_warehouse, PERIOD, out)


@pytest.fixture(scope="session")
def public_out(report_warehouse, tmp_path_factory) -> tuple[Path, dict]:
    """The same quarter for the public audience (small counts withheld; no PNGs: tests/report_runs.py)."""
    from pipelines.report.pipeline import run
    from tests.report_runs import without_pngs

    out = tmp_path_factory.mktemp("reports") / PERIOD / "public"
    return out, run(report_warehouse, PERIOD, out, audience="public", policy=without_pngs())


@pytest.fixture(scope="session")
def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if path is None:
        pytest.skip("no Chromium/Chrome on this machine (make system-deps installs chromium fonts-wqy-microhei)")
    return path
