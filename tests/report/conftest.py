"""Report fixtures: a warehouse with the measures and risk stages run, once per session.

`report_warehouse` is the synthetic small city (`ingested_city`) when synth and ingest work, else
the tiny hand-built warehouse (tests/report/tiny_warehouse.py), so the report tests run either way.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from . import tiny_warehouse

PERIOD = "2020Q2"


@pytest.fixture(scope="session")
def report_warehouse(request, tmp_path_factory) -> Path:
    """processed_dir with canonical tables + measures + risk for 2020Q1 and 2020Q2."""
    try:
        city = request.getfixturevalue("ingested_city")
        processed = city / "processed"
        tiny_warehouse.run_stages_on(processed, ("2020Q1", PERIOD))
        return processed
    except Exception as exc:  # noqa: BLE001 - synth/ingest still in progress: fall back, say so
        print(f"report tests: ingested_city unavailable ({type(exc).__name__}: {str(exc)[:200]}); using the tiny warehouse")
        return tiny_warehouse.build(tmp_path_factory.mktemp("tiny") / "processed")


@pytest.fixture(scope="session")
def report_out(report_warehouse, tmp_path_factory) -> tuple[Path, dict]:
    from pipelines.report.pipeline import run

    out = tmp_path_factory.mktemp("reports") / PERIOD
    return out, run(report_warehouse, PERIOD, out)


@pytest.fixture(scope="session")
def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if path is None:
        pytest.skip("no Chromium/Chrome on this machine (apt-get install chromium fonts-wqy-microhei)")
    return path
