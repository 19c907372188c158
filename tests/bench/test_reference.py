"""The hand-written reference (benchmarks/reference_measures_risk.sql) and the pandas baseline
(benchmarks/reference.py) compute the same numbers as the measures and risk stages, so the bench's
ratios compare like with like. Timings are reported by the bench, never asserted here."""

from __future__ import annotations

import duckdb
import pytest

from benchmarks import reference
from benchmarks.measures_risk import bench_measures_risk
from pipelines.policy import load_policy

PERIOD, PREVIOUS = "2020Q2", "2020Q1"


@pytest.fixture(scope="module")
def outputs(staged_city):
    """(pipeline, reference, pandas) outputs for the staged sample city's 2020Q2 against 2020Q1."""
    processed, policy = staged_city / "processed", load_policy()
    with duckdb.connect() as con:
        reference.bind(con, processed, PERIOD, PREVIOUS, policy)
        rows = reference.run_reference(con)
        ref = {t: con.table(t).df() for t in reference.OUTPUTS}
    assert all(rows[t] > 0 for t in reference.OUTPUTS), rows
    return (reference.pipeline_outputs(processed, PERIOD), ref,
            reference.run_pandas(processed, PERIOD, PREVIOUS, policy))


def test_reference_equals_the_pipeline_on_the_sample_city(outputs):
    pipeline, ref, _ = outputs
    assert reference.differences(pipeline, ref, tolerance=1e-9) == []


def test_pandas_baseline_equals_the_reference_on_the_sample_city(outputs):
    _, ref, pandas = outputs
    assert reference.differences(ref, pandas, tolerance=1e-9) == []


def test_the_sample_city_exercises_what_the_reference_must_get_right(outputs):
    """Not a vacuous equality: poor persons, every level, households below the lines and moving
    between the quarters are all there to be counted."""
    pipeline, _, _ = outputs
    levels = set(pipeline["ref_incidence"].domain_level)
    assert levels == {"village", "township", "county", "city"}
    assert pipeline["ref_incidence"].poor_persons.sum() > 0
    assert pipeline["ref_fgt"].line_name.nunique() > 3  # named + sensitivity lines
    assert pipeline["ref_position"].below_guideline.any()
    assert {"both", "appeared", "disappeared"} <= set(pipeline["ref_transitions"].presence)


def test_differences_names_the_table_and_column_that_differ(outputs):
    pipeline, ref, _ = outputs
    changed = dict(ref)
    changed["ref_gini"] = ref["ref_gini"].assign(gini=ref["ref_gini"].gini + 1e-6)
    assert [d.split(":")[0] for d in reference.differences(pipeline, changed)] == ["ref_gini.gini"]


def test_bench_reports_ratios_and_agreement_at_a_tiny_size(tmp_path):
    r = bench_measures_risk(600, tmp_dir=str(tmp_path))
    assert r["households"] == 200
    assert r["reference_differences"] == [] and r["pandas_differences"] == []
    assert r["seconds"] == pytest.approx(r["measures_seconds"] + r["risk_seconds"])
    assert r["ratio_to_reference"] == pytest.approx(r["seconds"] / r["reference_seconds"])
    assert r["speedup_vs_pandas"] == pytest.approx(r["pandas_seconds"] / r["seconds"])
