"""The hand-written reference (benchmarks/reference_measures_risk.sql) and the pandas baseline
(benchmarks/reference.py) compute the same numbers as the measures and risk stages, so the bench's
ratios compare like with like. Timings are reported by the bench, never asserted here."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from benchmarks import factory, reference
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
    assert pipeline["ref_risk"].below_guideline.any()
    assert pipeline["ref_matrix"].persons.sum() > pipeline["ref_matrix"].households.sum() > 0
    assert set(pipeline["ref_profile"].dimension) == set(reference.PROFILE_DIMENSIONS)
    assert pipeline["ref_profile"].groupby("dimension").group_value.nunique().min() >= 2
    assert (pipeline["ref_water"][["basic", "unsafe"]] > 0).any().all()  # not every household safe
    assert (pipeline["ref_af"].af_h > 0).any() and pipeline["ref_af"].line_name.nunique() == 2  # k=any, k=1/3
    assert {"fgt0", "fgt2", "mean_income", "incidence_survey", "gini"} <= set(pipeline["ref_survey"].measure)
    assert pipeline["ref_survey"].std_error.notna().sum() > 100  # design-based SEs, not only point estimates
    risk = pipeline["ref_risk"]
    assert set(risk.risk_level) == {"high", "medium", "low", "none"} and risk.reasons_text.str.len().max() > 0
    assert risk.proposed_category.nunique() >= 2 and risk.elimination_status.nunique() >= 2
    assert risk[[c for c in risk.columns if c.startswith("wg_")]].any().sum() >= 3  # watch groups hold


def test_differences_names_the_table_and_column_that_differ(outputs):
    pipeline, ref, _ = outputs
    changed = dict(ref)
    changed["ref_gini"] = ref["ref_gini"].assign(gini=ref["ref_gini"].gini + 1e-6)
    assert [d.split(":")[0] for d in reference.differences(pipeline, changed)] == ["ref_gini.gini"]


VILLAGE_A, VILLAGE_B = "140524100200", "140524101201"


def moving_city(processed) -> None:
    """Two quarters by hand: a household splits (a member forms a new one), one merges into
    another, one is gone, one is brand new, statuses change (exit, return, newly poor), one
    household has no person row; two villages, one without population."""
    q1 = [dict(key="parent", village=VILLAGE_A, per_capita_net_income=9_000.0, poverty_status="exited_supported",
               members=[{"person_key": "a"}, {"person_key": "b"}, {"person_key": "c", "labour_skill": "none"}]),
          dict(key="host", village=VILLAGE_A, per_capita_net_income=5_000.0, poverty_status="poor",
               members=[{"person_key": "d"}]),
          dict(key="merged_away", village=VILLAGE_B, per_capita_net_income=3_000.0, poverty_status="poor",
               members=[{"person_key": "e"}]),
          # no member_count recorded: its persons are counted from its person rows (2), not its size (5)
          dict(key="gone", village=VILLAGE_B, per_capita_net_income=3_000.0, poverty_status="poor", size=5,
               member_count=None, members=[{"person_key": "f"}, {"person_key": "g"}]),
          dict(key="returns", village=VILLAGE_A, per_capita_net_income=7_000.0, poverty_status="exited_supported",
               members=[{"person_key": "h"}])]
    q2 = [dict(key="parent", village=VILLAGE_A, per_capita_net_income=4_200.0, poverty_status="exited_supported",
               members=[{"person_key": "a", "migrant_status": "out_of_province"}, {"person_key": "b"}]),
          dict(key="split_new", village=VILLAGE_A, per_capita_net_income=3_900.0, poverty_status=None,
               members=[{"person_key": "c", "health_disabled": True}]),
          dict(key="host", village=VILLAGE_A, per_capita_net_income=4_500.0, poverty_status="exited_supported",
               members=[{"person_key": "d"}, {"person_key": "e"}]),
          dict(key="brand_new", village=VILLAGE_B, per_capita_net_income=2_000.0, poverty_status="poor",
               members=[{"person_key": "i"}, {"person_key": "j"}, {"person_key": "k"}]),
          dict(key="returns", village=VILLAGE_A, per_capita_net_income=3_000.0, poverty_status="returned",
               members=[{"person_key": "h"}]),
          dict(key="empty", village=VILLAGE_B, per_capita_net_income=6_500.0, poverty_status="exited_supported",
               members=[])]
    for period, specs in ((PREVIOUS, q1), (PERIOD, q2)):
        made = [factory.household(spec, period=period) for spec in specs]
        factory.write(processed, {"households": [h for h, _ in made], "persons": [p for _, ps in made for p in ps]},
                      period=period)
        factory.store_deprivations(processed, period)
    factory.write(processed, {"population": factory.population_rows({VILLAGE_A: ("甲村", 40)}),
                              "regions": [], "survey_households": []})


def test_reference_and_pandas_equal_the_pipeline_on_households_that_split_merge_come_and_go(tmp_path):
    from pipelines.measures.pipeline import run as measures
    from pipelines.risk.pipeline import run as risk

    processed, policy = tmp_path / "processed", load_policy()
    moving_city(processed)
    measures(processed, PERIOD, policy=policy)
    risk(processed, PERIOD, previous=PREVIOUS, policy=policy)
    pipeline = reference.pipeline_outputs(processed, PERIOD)
    with duckdb.connect() as con:
        reference.bind(con, processed, PERIOD, PREVIOUS, policy)
        reference.run_reference(con)
        ref = {t: con.table(t).df() for t in reference.OUTPUTS}
    assert reference.differences(pipeline, ref) == []
    assert reference.differences(ref, reference.run_pandas(processed, PERIOD, PREVIOUS, policy)) == []
    flows = pipeline["ref_transitions"].set_index("household_key")
    assert flows.presence_detail.dropna().to_dict() == {"brand_new": "new", "empty": "new", "gone": "gone",
                                                        "merged_away": "merged", "split_new": "split"}
    assert flows.persons_from.to_dict()["gone"] == 2 and flows.persons_from.to_dict()["parent"] == 3
    assert flows.loc["returns", "status_flow"] == "returned_to_poverty"
    # by hand: poor persons now are returns (1) + brand_new (3); village B has no population row
    incidence = pipeline["ref_incidence"].set_index(["domain_level", "domain_code"])
    assert incidence.loc[("village", VILLAGE_A), "poor_persons"] == 1
    assert incidence.loc[("village", VILLAGE_A), "estimate"] == pytest.approx(1 / 40)
    assert incidence.loc[("village", VILLAGE_B), "poor_persons"] == 3
    assert pd.isna(incidence.loc[("city", policy.city.code), "estimate"])
    # persons followed by person_key: e moved poor -> exited, c exited -> not registered
    matrix = pipeline["ref_matrix"].set_index(["from_status", "to_status"]).persons
    assert matrix[("poor", "exited_supported")] == 2 and matrix[("exited_supported", "not_registered")] == 1


def test_bench_reports_ratios_and_agreement_at_a_tiny_size(tmp_path):
    r = bench_measures_risk(600, tmp_dir=str(tmp_path))
    assert r["households"] == 200
    assert r["reference_differences"] == [] and r["pandas_differences"] == []
    assert r["seconds"] == pytest.approx(r["measures_seconds"] + r["risk_seconds"])
    assert r["ratio_to_reference"] == pytest.approx(r["seconds"] / r["reference_seconds"])
    assert r["speedup_vs_pandas"] == pytest.approx(r["pandas_seconds"] / r["seconds"])
    # CPU seconds: the stages' sum, the ratios on them; CPU time passed in each part
    assert r["cpu_seconds"] == pytest.approx(r["measures_cpu_seconds"] + r["risk_cpu_seconds"])
    assert min(r["measures_cpu_seconds"], r["risk_cpu_seconds"], r["reference_cpu_seconds"], r["pandas_cpu_seconds"]) > 0
    assert r["ratio_to_reference_cpu"] == pytest.approx(r["cpu_seconds"] / r["reference_cpu_seconds"])
    assert r["speedup_vs_pandas_cpu"] == pytest.approx(r["pandas_cpu_seconds"] / r["cpu_seconds"])
    omitted = " ".join(r["reference_omits"])  # every risk table is computed by both baselines now
    assert not any(t in omitted for t in ("risk", "watch_group_counts", "assistance_gaps", "transitions"))


def test_bench_times_each_model_and_write_of_the_stages(tmp_path):
    from pipelines import graph, warehouse

    run, write = graph.Graph.run, warehouse.write_parquet
    r = bench_measures_risk(600, tmp_dir=str(tmp_path), models=True)
    assert (graph.Graph.run, warehouse.write_parquet) == (run, write)  # put back afterwards
    kinds = {(name, kind) for name, kind, *_ in r["models"]}
    # each model once per call, views too; every output of both stages written once
    assert {("risk", "table"), ("int_risk_signals", "view"), ("transitions", "table"), ("fgt", "table")} <= kinds
    writes = sorted(name for name, kind, *_ in r["models"] if kind == "write")
    assert writes == sorted(["measures", "risk", "watch_group_counts", "assistance_gaps", "assistance_coverage",
                             "transitions", "transition_matrix"])
    assert [name for name, kind, *_ in r["models"]].count("int_household_base") == 1
    assert all(wall >= 0 and cpu >= 0 and temp >= 0 for _n, _k, wall, cpu, temp in r["models"])
    assert sum(cpu for *_x, cpu, _t in r["models"]) <= r["cpu_seconds"] + 0.05
