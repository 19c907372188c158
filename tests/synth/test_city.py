"""The small synthetic city (tests/conftest.py small_city): joint structure, truth, formats."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipelines import idcard
from pipelines.synth.dynamics import completed_years, period_end
from tests.synth.conftest import city_registry, truth

PERIODS = ["2019Q4", "2020Q1", "2020Q2", "2020Q3", "2020Q4"]
CHECKED = ["2019Q4", "2020Q2", "2020Q4"]  # registry periods read back (reading is the slow part)
QUARANTINE = {"duplicate_person", "missing_village_code", "column_shift",
              # the names-only county (陵川县): its 合计 row, IDs a spreadsheet made numbers, unknown names
              "total_row", "id_damaged_by_spreadsheet", "unknown_place_name"}


@pytest.fixture(scope="module")
def registry(small_city) -> dict[str, pd.DataFrame]:
    return {p: city_registry(small_city, p) for p in CHECKED}


@pytest.fixture(scope="module")
def defects(small_city) -> pd.DataFrame:
    frame = truth(small_city, "defects")
    frame["source_row"] = frame["source_row"].astype(int)
    return frame


def flagged(frame: pd.DataFrame, defects: pd.DataFrame, period: str, kinds: set[str]) -> np.ndarray:
    """Rows of the period's registry listed in the defect truth with one of the kinds."""
    d = defects[(defects["period"] == period) & defects["kind"].isin(kinds)]
    keys = set(zip(d["file"], d["source_row"]))
    return np.array([(f, r) in keys for f, r in zip(frame["file"], frame["source_row"])])


def clean_rows(frame, defects, period, kinds=None):
    """Rows carrying no planted defect (kinds=None: of any kind) and not quarantined."""
    return frame[~flagged(frame, defects, period, kinds or set(defects["kind"]))]


def defect_households(defects, period, kinds):
    d = defects[(defects["period"] == period) & defects["kind"].isin(kinds)]
    return set(d["household_id"])


def test_every_id_valid_except_planted(registry, defects):
    for period, frame in registry.items():
        bad = frame[~frame["id_number"].map(idcard.is_valid)]
        planted = flagged(bad, defects, period, {"id_checksum_invalid", "column_shift", "id_damaged_by_spreadsheet",
                                                 "total_row"})
        assert planted.all(), bad.loc[~planted, ["file", "source_row", "id_number"]].head()
        listed = frame[flagged(frame, defects, period, {"id_checksum_invalid"})]
        assert len(listed) >= 2 and not listed["id_number"].map(idcard.is_valid).any()


def test_birth_date_and_sex_agree_with_id(registry, defects):
    for period, frame in registry.items():
        rows = clean_rows(frame, defects, period, {"column_shift", "id_checksum_invalid", "id_damaged_by_spreadsheet",
                                                   "total_row"})
        birth = rows["id_number"].map(lambda s: idcard.birth_date(s).isoformat())
        sex = rows["id_number"].map(lambda s: "男" if idcard.sex(s) == "male" else "女")
        assert (birth == rows["birth_date"]).all()
        assert (sex == rows["sex"]).all()


def test_no_duplicate_ids_except_planted_copies(registry, defects):
    for period, frame in registry.items():
        rows = clean_rows(frame, defects, period, QUARANTINE)
        assert not rows["id_number"].str[:18].duplicated().any()
        dup = frame[flagged(frame, defects, period, {"duplicate_person"})]
        assert dup["id_number"].isin(rows["id_number"]).all()
        # the copy sits in a county whose file sorts later than the kept row's file
        kept = rows.set_index("id_number")["file"]
        assert (dup["file"].to_numpy() > kept[dup["id_number"]].to_numpy()).all()


def test_relations_consistent(registry, defects):
    for period, frame in registry.items():
        rows = clean_rows(frame, defects, period, QUARANTINE)
        heads = rows[rows["relation"] == "户主"].groupby("household_id").size()
        multi = set(heads[heads != 1].index)
        assert multi == defect_households(defects, period, {"multiple_heads"})
        assert set(rows["household_id"]) == set(heads.index)
        ok = rows[~rows["household_id"].isin(multi)]
        age = completed_years(ok["birth_date"].to_numpy().astype("datetime64[D]"), period_end(period))
        ok = ok.assign(age=age)
        head = ok[ok["relation"] == "户主"].set_index("household_id")
        assert (head["age"] >= 18).all()
        spouse = ok[ok["relation"] == "配偶"]
        assert (spouse["sex"].to_numpy() != head.loc[spouse["household_id"], "sex"].to_numpy()).all()
        assert not spouse["household_id"].duplicated().any()
        child = ok[ok["relation"].isin(["之子", "之女"])]
        assert (child["age"].to_numpy() < head.loc[child["household_id"], "age"].to_numpy()).all()
        parent = ok[ok["relation"].isin(["之父", "之母"])]
        assert (parent["age"].to_numpy() > head.loc[parent["household_id"], "age"].to_numpy()).all()


def test_income_identities_hold_on_clean_rows(registry, defects):
    income_kinds = {"income_not_numeric", "income_negative", "column_shift"}
    for period, frame in registry.items():
        rows = frame[~frame["household_id"].isin(defect_households(defects, period, income_kinds))]
        rows = clean_rows(rows, defects, period, {"total_row"})
        num = {c: rows[c].astype(float) for c in [
            "wage_income", "operating_income", "property_income", "transfer_income", "family_planning_transfer",
            "dibao_transfer", "tekun_transfer", "pension_transfer", "eco_compensation_transfer", "other_transfer",
            "production_cost", "gross_income", "net_income", "per_capita_net_income", "household_size_annual"]}
        items = sum(num[c] for c in ["family_planning_transfer", "dibao_transfer", "tekun_transfer", "pension_transfer",
                                     "eco_compensation_transfer", "other_transfer"])
        assert np.allclose(items, num["transfer_income"], atol=0.005)
        four = num["wage_income"] + num["operating_income"] + num["property_income"] + num["transfer_income"]
        assert np.allclose(four, num["gross_income"], atol=0.005)
        assert np.allclose(num["gross_income"] - num["production_cost"], num["net_income"], atol=0.005)
        assert (abs(num["net_income"] / num["household_size_annual"] - num["per_capita_net_income"]) <= 0.0051).all()
        assert (pd.DataFrame(num).drop(columns=["net_income", "per_capita_net_income"]) >= 0).all().all()


def test_income_defect_rows_are_consistent_within_household(registry, defects):
    for period, frame in registry.items():
        for kind, col in [("income_not_numeric", "family_planning_transfer"), ("income_negative", "property_income")]:
            hh = defect_households(defects, period, {kind})
            assert len(hh) >= 1
            rows = frame[frame["household_id"].isin(hh)]
            listed = flagged(rows, defects, period, {kind})
            assert listed.all(), "every row of the household is listed"
            assert rows.groupby("household_id")[col].nunique().eq(1).all()
            if kind == "income_not_numeric":
                assert rows[col].isin(["无", "—"]).all()
            else:
                assert (rows[col].astype(float) < 0).all()


def test_household_fields_repeat_and_size_matches(registry, defects, small_city):
    from pipelines.config import load_toml

    block = [c for c in load_toml("synth")["layout"]["household_columns"] if c not in ("village_code",)]
    for period, frame in registry.items():
        rows = clean_rows(frame, defects, period, QUARANTINE | {"merged_cell_filled"})
        differing = rows.groupby("household_id")[block].nunique().gt(1).any(axis=1)
        assert set(differing[differing].index) <= defect_households(defects, period, {"household_size_mismatch"})
        loaded = clean_rows(frame, defects, period, QUARANTINE)
        size = loaded.groupby("household_id").agg(n=("person_id", "size"), recorded=("household_size", "first"))
        mismatch = set(size.index[size["n"] != size["recorded"].astype(int)])
        # a member quarantined for a damaged ID or an unknown place name leaves the household short
        short = defect_households(defects, period, {"id_damaged_by_spreadsheet", "unknown_place_name"})
        assert mismatch - short == defect_households(defects, period, {"household_size_mismatch"})


def test_person_fields_plausible(registry, defects, small_city):
    dep = truth(small_city, "deprivations")
    for period, frame in registry.items():
        rows = clean_rows(frame, defects, period)
        rows = rows[~rows["person_id"].isin(dep.loc[dep["period"] == period, "person_id"])]
        assert ((rows["education"] != "") ^ (rows["school_status"] != "")).all()
        age = completed_years(rows["birth_date"].to_numpy().astype("datetime64[D]"), period_end(period))
        school_age = (age >= 6) & (age <= 15)
        assert (rows.loc[school_age, "school_status"] != "").all()
        assert (rows.loc[school_age, "education"] == "").all()
        assert (rows["health"] != "").all()
        assert rows["health"].str.split(",").map(set).map(lambda s: s <= {"健康", "残疾", "长期慢性病", "患有大病"}).all()
        migrant = rows["migrant_status"] != ""
        assert ((rows["work_location"] != "") == migrant).all() and ((rows["work_months"] != "") == migrant).all()
        months = rows.loc[migrant, "work_months"].astype(float)
        assert months.between(0, 12).all()
        assert rows.loc[migrant, "labour_skill"].isin(["普通劳动力", "技能劳动力"]).all()
        assert ((rows["resident_med_ins"] == "是") ^ (rows["employee_med_ins"] == "是")).all()
        assert (rows.loc[rows["household_type"] == "贫困户", "critical_illness_ins"] == "是").all()
        assert rows["phone"].str.fullmatch(r"\d{11}").all()
        able_age = (age >= 16) & (age <= 59) & (rows["school_status"] == "") & (rows["health"] == "健康")
        assert not rows.loc[able_age, "labour_skill"].isin(["无劳动力", "弱劳动力或半劳动力"]).any()
        assert rows["household_id"].str.fullmatch(r"\d{16}").all()


def test_causes_match_health(registry, defects):
    for period, frame in registry.items():
        rows = clean_rows(frame, defects, period, QUARANTINE)
        by_hh = rows.groupby("household_id")
        cause = by_hh["main_cause"].first()
        ill = by_hh["health"].agg(lambda s: s.str.contains("病").any())
        disabled = by_hh["health"].agg(lambda s: s.str.contains("残疾").any())
        assert ill[cause == "因病"].all()
        assert disabled[cause == "因残"].all()


def test_poverty_dynamics(registry, small_city, city_params):
    persons_poor = {p: (f["poverty_status"] == "未脱贫").sum() / (f["household_type"] == "贫困户").sum()
                    for p, f in registry.items()}
    assert 0.005 < persons_poor["2019Q4"] < 0.03
    assert persons_poor["2020Q4"] < persons_poor["2019Q4"] / 3
    events = truth(small_city, "events")
    returns = events[events["event"] == "return_to_poverty"]
    assert {"illness", "disaster"} <= set(returns["cause"])
    assert set(returns["period"]) == set(PERIODS[1:])
    for _, e in returns[returns["period"].isin(CHECKED)].iterrows():
        rows = registry[e["period"]]
        rows = rows[rows["household_id"] == e["household_id"]]
        assert (rows["poverty_status"] == "返贫").all()
        assert (rows["return_cause"] == {"illness": "因病", "disaster": "因灾"}[e["cause"]]).all()
        if e["cause"] == "illness":
            assert rows["health"].str.contains("患有大病").any()
    assert (events["event"] == "exit").any() and (events["event"] == "migrant_income_shock").any()
    exited = registry["2020Q4"]
    exited = exited[exited["poverty_status"].str.startswith("已脱贫")]
    pc = exited.groupby("household_id")["per_capita_net_income"].first().astype(float)
    assert pc.between(6000, 15000).mean() > 0.6


def test_defect_truth_has_each_kind_and_points_at_rows(registry, defects):
    counts = defects.groupby("kind")["defect_id"].nunique()
    for kind in ["id_checksum_invalid", "duplicate_person", "multiple_heads", "household_size_mismatch",
                 "income_not_numeric", "income_negative", "unknown_code_label", "missing_village_code",
                 "merged_cell_filled", "column_shift"]:
        assert counts.get(kind, 0) >= 2, kind
    assert (defects["expected_reason"] == defects["kind"]).all()
    assert set(defects.loc[defects["kind"].isin(QUARANTINE), "expected_disposition"]) == {"quarantine"}
    for period, frame in registry.items():
        d = defects[defects["period"] == period]
        rows = frame.set_index(["file", "source_row"])
        hit = rows.loc[list(zip(d["file"], d["source_row"]))]
        same = hit["person_id"].to_numpy() == d["person_id"].to_numpy()
        shifted = d["kind"].to_numpy() == "column_shift"
        assert same[~shifted].all()
        coded = hit["village_code"].notna().to_numpy()  # the names-only county has no code column
        assert (hit.loc[shifted & coded, "village_code"].str.len() == 12).all()
        assert (hit[d["kind"].to_numpy() == "missing_village_code"]["village_code"] == "").all()
        # the names-only county names its villages: an unknown name is planted where its code would be missing
        assert (hit[d["kind"].to_numpy() == "unknown_place_name"]["village_name"] != "").all()
        assert (hit[d["kind"].to_numpy() == "total_row"]["row_no"] == "合计").all()


def test_merged_cells_only_in_merged_county(defects, city_params):
    merged = defects[defects["kind"] == "merged_cell_filled"]
    merged_counties = {c for c, spec in city_params["formats"].items() if spec["merged"]}
    assert set(merged["file"].str.split("/").str[2].str[:6]) == merged_counties
    assert merged["file"].str.endswith(".xlsx").all()


def test_deprivation_truth_edges_and_no_accidental_deprivation(registry, small_city):
    dep = truth(small_city, "deprivations")
    edges = set(dep["edge_case"])
    assert {"age_15y364d", "age_16y0d", "send_teaching", "newborn", "C_renovated", "quantity_349", "quantity_35"} <= edges
    assert set(dep.loc[dep["edge_case"] == "age_15y364d", "deprived"]) == {"true"}
    assert set(dep.loc[dep["edge_case"].isin(["age_16y0d", "send_teaching", "newborn", "C_renovated"]), "deprived"]) == {"false"}
    for period, frame in registry.items():
        d = dep[dep["period"] == period]
        for _, e in d[d["edge_case"].isin(["age_15y364d", "age_16y0d"])].iterrows():
            row = frame[frame["person_id"] == e["person_id"]].iloc[0]
            end = pd.Timestamp(period_end(period))
            birth = pd.Timestamp(row["birth_date"])
            sixteenth = birth + pd.DateOffset(years=16)
            assert sixteenth == (end + pd.Timedelta(days=1) if e["edge_case"] == "age_15y364d" else end)
            assert row["school_status"] == ""
        rest = frame[~frame["household_id"].isin(d["household_id"])]
        rest = rest[rest["household_type"] == "贫困户"]
        assert (rest["food_secure"] == "是").all() and (rest["clothing_secure"] == "是").all()
        assert (rest["critical_illness_ins"] == "是").all()
        assert rest["housing_secured_by"].isin(["鉴定安全", "改造安全", "保障安全"]).all()
        assert (rest["water_quality"] == "达标").all()
        assert (rest["water_outage_days"].astype(float) <= 36).all()
        rich = rest["water_scarce_area"] == "否"
        assert (rest.loc[rich, "water_quantity_lpd"].astype(float) >= 35).all()


def test_survey_weights_and_reference(small_city, city_params):
    from tests.synth.conftest import canonical, read_raw

    for period in PERIODS:
        survey = canonical(read_raw(small_city / "raw" / "survey" / period / f"住户抽样调查_{period}.csv"), "survey")
        total = survey["design_weight"].astype(float).sum()
        assert 0.7 < total / city_params["rural_households_total"] < 1.3
        assert survey.groupby("county_code")["village_code"].nunique().ge(2).all()
        assert (survey["registered"] == "否").any()
    ref = canonical(read_raw(small_city / "raw" / "reference" / "农村户籍人口.csv"), "population")
    assert set(ref["year"]) == {"2019", "2020"}
    assert ref["village_code"].str.fullmatch(r"\d{12}").all()
    assert ref.groupby("year")["village_code"].nunique().eq(ref["village_code"].nunique()).all()
    assert ref["urban_rural_code"].isin(["210", "220"]).mean() > 0.7


def test_pairing_covers_registered_households_with_gaps(registry, small_city):
    from tests.synth.conftest import canonical, read_raw

    issues = truth(small_city, "pairing_issues")
    for period, frame in registry.items():
        pairing = canonical(read_raw(small_city / "raw" / "pairing" / period / f"帮扶责任人结对_{period}.csv"), "pairing")
        registered = set(frame.loc[frame["household_type"] == "贫困户", "household_id"])
        gaps = set(issues.loc[(issues["period"] == period) & (issues["issue"] == "gap"), "household_id"])
        assert len(gaps) >= 2
        assert set(pairing["household_id"]) == registered - gaps
        poor = set(frame.loc[frame["poverty_status"].isin(["未脱贫", "返贫"]), "household_id"])
        ranks = pairing[pairing["household_id"].isin(poor)]["cadre_rank"]
        if len(ranks):
            assert ranks.isin(["县级领导", "科级干部"]).all()
        assert pairing["cadre_phone"].str.fullmatch(r"\d{11}").all()


def test_same_seed_same_bytes_whatever_the_hash_seed(tmp_path):
    """Reruns are deterministic: Python randomises str hashes per process (PYTHONHASHSEED), so a
    set iterated into an output would change files between runs of the same seed."""
    import hashlib
    import os
    import subprocess
    import sys

    digests = []
    for hash_seed in ("1", "2"):
        out = tmp_path / f"run{hash_seed}"
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        subprocess.run([sys.executable, "-m", "pipelines.cli", "synth", "--households", "200", "--seed", "5",
                        "--out", str(out)], check=True, env=env, capture_output=True)
        files = sorted(p for p in out.rglob("*") if p.is_file())
        digests.append({p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in files})
    assert digests[0] and digests[0] == digests[1]
