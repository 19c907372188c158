"""The benches run end to end at tiny sizes and compare with their baselines (timings are
reported, never asserted)."""

from __future__ import annotations

import pytest

from benchmarks import run
from benchmarks.measures import bench_measures
from benchmarks.risk import bench_risk
from benchmarks.validate import bench_validate


def test_measures_bench_agrees_with_its_pandas_baseline():
    result = bench_measures(3_000, threads=1)
    assert result["n_households"] == 1_000
    assert 1_000 < result["n_persons"] <= 5_000  # households of 1-5 persons
    assert result["max_abs_difference"] < 1e-12
    assert result["duckdb_seconds"] > 0 and result["pandas_peak_bytes_tracemalloc"] > 0
    assert result["ratio_pandas_over_duckdb"] == pytest.approx(
        result["pandas_seconds"] / result["duckdb_seconds"], rel=0.01)


def test_risk_bench_reports_ratio_and_memory(tmp_path):
    result = bench_risk(300, tmp_dir=str(tmp_path))
    assert result["households"] == 100 and result["tables"]["risk"] == 100
    assert result["time_ratio"] == pytest.approx(result["seconds"] / result["baseline_seconds"])
    assert result["peak_rss_mb"] >= result["peak_rss_mb_after_risk"] > 0


def test_validate_bench_passes_every_expectation_on_both_datasources(tmp_path):
    out = bench_validate(300, tmp_dir=str(tmp_path))
    assert out["n_persons"] == 300 and out["expectations_compared"] > 0
    assert out["failed_expectations"] == {"duckdb": 0, "pandas": 0}, out
    assert out["expectations"] == out["expectations_compared"] + out["sql_only_expectations"]
    assert set(out) >= {"duckdb_comparable_seconds", "pandas_comparable_seconds", "ratio"}


def test_runner_row_gives_speed_up_as_baseline_over_stage_seconds():
    row = run.format_row({"stage": "risk", "requested": 1_000, "persons": 999, "seconds": 2.0,
                          "baseline_seconds": 1.0, "peak_rss_mb": 512.4, "baseline": "pandas"})
    assert row.split()[:6] == ["risk", "999", "2.00", "1.00", "0.50x", "512"]
    failed = run.format_row({"stage": "ingest", "requested": 100,
                             "error": "Traceback (most recent call last):\nValueError: boom\n"})
    assert failed.split() == ["ingest", "100", "failed:", "ValueError:", "boom"]
