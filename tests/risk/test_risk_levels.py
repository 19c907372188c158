"""Risk levels, reasons and categories at every boundary (2020 lines injected by the builder,
tests/risk/conftest.py LINES: national 4000, guideline 4500, monitoring 1.5 x 4000 = 6000).
Below a line = strictly below."""

from __future__ import annotations

import pandas as pd
import pytest

from pipelines.risk.pipeline import summary
from tests.risk.conftest import LINES, City, make_policy

Q1, Q2 = "2020Q1", "2020Q2"


def test_lines_come_from_the_policy(tmp_path):
    """The lines of the policy passed in, by role; the monitoring line follows its base line."""
    lines = {**LINES, "national": {"values": [{"year": 2020, "value": 4100, "status": "official"}]},
             "provincial_guideline": {"values": [{"year": 2020, "value": 4700, "status": "official"}]}}
    c = City(tmp_path, make_policy(lines=lines))
    c.household(Q2, "h", pci=4_600)
    c.run(Q2)
    r = c.read("risk", Q2).loc["h"]
    assert (r.line_national, r.line_guideline, r.line_monitoring) == (4100.0, 4700.0, 6150.0)
    assert r.below_guideline and r.income_band == "below_guideline" and r.risk_level == "high"
    assert r.ratio_guideline == round(4_600 / 4_700, 6)


@pytest.fixture
def boundary(city):
    c = city
    c.household(Q2, "at_national", pci=4000)
    c.household(Q2, "below_national", pci=3999)
    c.household(Q2, "at_guideline", pci=4500)
    c.household(Q2, "below_guideline", pci=4499)
    c.household(Q2, "at_monitoring", pci=6000)
    c.household(Q2, "below_monitoring", pci=5999)
    # transfer share exactly 50 % (and just under), income well above every line
    c.household(Q2, "transfer_at", pci=10_000, wage_income=10_000.0, transfer_income=10_000.0)
    c.household(Q2, "transfer_under", pci=10_000, wage_income=10_001.0, transfer_income=9_999.0)
    # per-capita drop of exactly 30 % (and just under) against the previous quarter
    c.household(Q1, "drop_at", pci=10_000)
    c.household(Q2, "drop_at", pci=7_000)
    c.household(Q1, "drop_under", pci=10_000)
    c.household(Q2, "drop_under", pci=7_001)
    c.run(Q2)
    return c.read("risk", Q2)


def test_income_exactly_at_a_line_is_not_below(boundary):
    r = boundary
    assert r.loc["at_guideline", "below_guideline"] == False  # noqa: E712
    assert r.loc["at_guideline", "income_band"] == "near_threshold"
    assert r.loc["at_national", "income_band"] == "below_guideline"
    assert r.loc["at_monitoring", "income_band"] == "above_monitoring"
    assert r.loc["at_monitoring", "risk_level"] == "none"
    assert list(r.loc["at_monitoring", "reasons"]) == []
    assert r.loc["at_guideline", "ratio_guideline"] == 1.0


def test_one_yuan_below_a_line_is_below(boundary):
    r = boundary
    assert r.loc["below_guideline", "below_guideline"]
    assert r.loc["below_guideline", "risk_level"] == "high"
    assert "人均纯收入低于省定指导线" in list(r.loc["below_guideline", "reasons"])
    assert r.loc["below_national", "income_band"] == "below_national"
    assert r.loc["below_monitoring", "income_band"] == "near_threshold"
    assert r.loc["below_monitoring", "risk_level"] == "medium"
    assert r.loc["below_monitoring", "reasons_text"] == "人均纯收入低于监测线"
    assert r.loc["below_monitoring", "risk_level_label"] == "中"


def test_transfer_share_at_threshold_is_flagged(boundary):
    r = boundary
    assert r.loc["transfer_at", "transfer_share"] == 0.5
    assert r.loc["transfer_at", "sig_high_transfer_share"]
    assert r.loc["transfer_at", "reasons_text"] == "转移性收入占比≥50%"
    assert r.loc["transfer_at", "risk_level"] == "low"
    assert not r.loc["transfer_under", "sig_high_transfer_share"]
    assert r.loc["transfer_under", "risk_level"] == "none"


def test_drop_of_exactly_the_configured_share_is_flagged(boundary):
    r = boundary
    assert r.loc["drop_at", "income_drop_pct"] == 0.3
    assert r.loc["drop_at", "sig_income_drop"]
    assert "收入较上季度下降≥30%" in list(r.loc["drop_at", "reasons"])
    assert r.loc["drop_at", "risk_level"] == "high"
    assert r.loc["drop_at", "proposed_category"] == "unstable_exited"
    assert not r.loc["drop_under", "sig_income_drop"]
    assert pd.isna(r.loc["drop_under", "proposed_category"])


def test_fragility_signals_and_categories(city):
    c = city
    members_no_labour = [{"labour_skill": "none", "age": 70}, {"labour_skill": "incapacitated", "age": 68}]
    c.household(Q2, "no_labour", members=members_no_labour, transfer_income=20_000.0, wage_income=0.0)
    c.household(Q2, "ill", members=[{"health_serious_illness": True}, {}])
    c.household(Q2, "ill_relocating", members=[{"health_serious_illness": True}, {}], relocated=True,
                relocation_settled=False)
    c.household(Q2, "old_disaster", main_cause="disaster")  # cause at registration, years ago
    c.household(Q2, "disaster", return_cause="disaster", poverty_status="returned")
    c.household(Q2, "migrant", members=[{"migrant_status": "out_of_province"}, {"labour_skill": "weak"}])
    # rigid spending above last year's income (no year-ago snapshot: current net income, 20 000)
    c.household(Q2, "rigid", medical_out_of_pocket=15_000.0, education_spending=5_001.0)
    c.household(Q2, "rigid_equal", medical_out_of_pocket=15_000.0, education_spending=5_000.0)
    c.household(Q2, "relocating", relocated=True, relocation_settled=False)
    c.household(Q2, "water", water_safe=False)
    c.household(Q2, "marginal_low", pci=5_000, household_type="marginal", poverty_status=None, exit_year=None)
    c.household(Q2, "farmer_shock", pci=20_000, household_type=None, poverty_status=None, exit_year=None,
                medical_out_of_pocket=25_000.0)
    c.run(Q2)
    r = c.read("risk", Q2)
    assert r.loc["no_labour", "sig_no_labour"] and r.loc["no_labour", "sig_high_transfer_share"]
    assert "家庭无劳动能力" in r.loc["no_labour", "reasons_text"]
    # a standing condition is a reason shown on the household, not by itself instability
    assert r.loc["ill", "sig_illness_disability"] and "家庭成员患大病或残疾" in r.loc["ill", "reasons_text"]
    assert pd.isna(r.loc["ill", "proposed_category"])
    assert r.loc["ill_relocating", "proposed_category"] == "unstable_exited"
    assert not r.loc["old_disaster", "sig_disaster_shock"]  # main_cause is not a current shock
    assert r.loc["disaster", "sig_disaster_shock"] and r.loc["disaster", "risk_level"] == "high"
    assert pd.isna(r.loc["disaster", "proposed_category"])  # still poor: on the poor list, not proposed
    assert r.loc["migrant", "sig_single_migrant_income"]  # one migrant, wage share 100 %
    assert r.loc["rigid", "sig_rigid_spending"] and r.loc["rigid", "last_year_income_source"] == "current"
    assert not r.loc["rigid_equal", "sig_rigid_spending"]  # equal is not above
    assert r.loc["relocating", "sig_relocation_unsettled"]
    assert r.loc["water", "sig_gap_water"] and r.loc["water", "reasons_text"] == "饮水安全未保障"
    assert r.loc["marginal_low", "proposed_category"] == "marginal"
    assert r.loc["marginal_low", "wg_marginal"]
    assert r.loc["farmer_shock", "proposed_category"] == "sudden_hardship"
    assert r.loc["farmer_shock", "proposed_category_label"] == "突发严重困难户"
    assert r.loc["farmer_shock", "wg_sudden_shock"]
    assert r.loc["disaster", "wg_not_exited"]


def test_rigid_spending_uses_the_same_quarter_a_year_earlier(city):
    c = city
    c.household("2019Q2", "h", pci=5_000)  # last year's net income 10 000
    c.household(Q2, "h", pci=20_000, medical_out_of_pocket=10_001.0)
    c.run(Q2, previous=None)
    r = c.read("risk", Q2)
    assert r.loc["h", "last_year_income_source"] == "year_ago_quarter"
    assert r.loc["h", "sig_rigid_spending"]


def test_risk_elimination(city):
    c = city
    for key, members in (("stable", 2), ("no_labour", [{"labour_skill": "none"}])):
        c.household(Q1, key, pci=6_000, monitoring_category="unstable_exited", members=members)
        c.household(Q2, key, pci=6_500, monitoring_category="unstable_exited",
                    members=members if isinstance(members, int) else [dict(m) for m in [{"labour_skill": "none"}]])
    c.household(Q1, "one_quarter", pci=5_999, monitoring_category="marginal")
    c.household(Q2, "one_quarter", pci=8_000, monitoring_category="marginal")
    c.household(Q1, "housing", pci=9_000, monitoring_category="unstable_exited")
    c.household(Q2, "housing", pci=9_000, monitoring_category="unstable_exited", housing_grade="D")
    c.run(Q2)
    r = c.read("risk", Q2)
    assert r.loc["stable", "elimination_status"] == "eliminate"
    assert r.loc["no_labour", "elimination_status"] == "keep_tracking"
    assert r.loc["one_quarter", "elimination_status"] == "stay_monitored"
    assert "收入未连续2个季度高于监测线" in r.loc["one_quarter", "elimination_blockers"]
    assert r.loc["housing", "elimination_status"] == "stay_monitored"
    assert "住房安全未保障" in r.loc["housing", "elimination_blockers"]


def test_watch_group_counts_and_summary(city):
    c = city
    c.household(Q2, "p1", pci=3_000, poverty_status="poor", members=3)
    c.household(Q2, "p2", pci=3_500, poverty_status="poor", township_code="140524101",
                village_code="140524101200")
    c.household(Q2, "e1", pci=4_400)  # exited below the guideline
    c.run(Q2)
    counts = c.read("watch_group_counts", Q2)
    city_rows = counts[counts.region_level == "city"].set_index("watch_group")
    town_rows = counts[counts.region_level == "township"].set_index(["watch_group", "township_code"])
    assert city_rows.loc["not_exited", ["households", "persons"]].tolist() == [2, 5]
    assert town_rows.loc[("not_exited", "140524100"), "persons"] == 3
    assert town_rows.loc[("not_exited", "140524101"), "persons"] == 2
    assert city_rows.loc["exited_below_guideline", "households"] == 1
    text = summary(c.processed, Q2, c.policy)
    assert "低于省定脱贫标准指导线: 3户、7人" in text
    assert "陵川县" in text
