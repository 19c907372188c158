"""Transitions between two quarters: flows by status, appeared / disappeared households, and
reconciliation of the matrix with each snapshot's counts (households and persons)."""

from __future__ import annotations

import pandas as pd
import pytest


Q1, Q2 = "2020Q1", "2020Q2"


@pytest.fixture
def moves(city):
    c = city
    c.household(Q1, "stay_poor", pci=3_000, poverty_status="poor")
    c.household(Q2, "stay_poor", pci=3_200, poverty_status="poor")
    c.household(Q1, "exits", pci=4_000, poverty_status="poor", members=3)
    c.household(Q2, "exits", pci=7_000, poverty_status="exited_supported", members=3)
    c.household(Q1, "returns", pci=8_000)
    c.household(Q2, "returns", pci=3_000, poverty_status="returned", return_cause="illness",
                members=[{"health_serious_illness": True}, {}])
    c.household(Q1, "newly", pci=5_000, household_type="marginal", poverty_status=None, exit_year=None)
    c.household(Q2, "newly", pci=3_500, household_type="marginal", poverty_status="poor", exit_year=None,
                main_cause="disaster")
    c.household(Q1, "enters", pci=9_000)
    c.household(Q2, "enters", pci=5_500, monitoring_category="unstable_exited")
    c.household(Q1, "leaves", pci=7_000, monitoring_category="marginal", household_type="marginal",
                poverty_status=None)
    c.household(Q2, "leaves", pci=9_000, household_type="marginal", poverty_status=None)
    # a 3-person household splits: one member forms "split_new"; another household merges into "host"
    c.household(Q1, "parent", members=[{"person_key": "a"}, {"person_key": "b"}, {"person_key": "c"}])
    c.household(Q2, "parent", members=[{"person_key": "a"}, {"person_key": "b"}])
    c.household(Q2, "split_new", members=[{"person_key": "c"}], poverty_status="exited_supported")
    c.household(Q1, "host", members=[{"person_key": "d"}])
    c.household(Q1, "merged_away", members=[{"person_key": "e"}], poverty_status="poor", pci=3_000)
    c.household(Q2, "host", members=[{"person_key": "d"}, {"person_key": "e"}])
    c.household(Q1, "gone", poverty_status="poor", pci=3_000)
    c.household(Q2, "brand_new", poverty_status="poor", pci=2_000, exit_year=None)
    c.run(Q2, previous=Q1)
    return c


def test_flows_by_household(moves):
    t = moves.read("transitions", Q2).set_index("household_key")
    assert t.loc["stay_poor", "status_flow"] == "stayed_poor"
    assert t.loc["exits", "status_flow"] == "exited"
    assert t.loc["exits", "income_change"] == 3_000
    assert t.loc["returns", "status_flow"] == "returned_to_poverty"
    assert t.loc["returns", "return_cause"] == "illness"  # flows through for the generator-truth test
    assert "家庭成员患大病或残疾" in t.loc["returns", "reasons_text"]
    assert t.loc["newly", "status_flow"] == "newly_poor"
    assert t.loc["enters", "monitoring_flow"] == "entered_monitoring"
    assert t.loc["leaves", "monitoring_flow"] == "risk_eliminated"
    assert (t.loc["split_new", "presence"], t.loc["split_new", "presence_detail"]) == ("appeared", "split")
    assert (t.loc["merged_away", "presence"], t.loc["merged_away", "presence_detail"]) == ("disappeared", "merged")
    assert (t.loc["gone", "presence"], t.loc["gone", "presence_detail"]) == ("disappeared", "gone")
    assert t.loc["brand_new", "presence_detail"] == "new"
    assert t.loc["brand_new", "status_flow"] == "newly_poor"
    assert pd.isna(t.loc["stay_poor", "presence_detail"])


def _status_counts(c, period):
    hh = pd.DataFrame(c.households[period])
    hh["status"] = hh.poverty_status.fillna("not_registered")
    persons = pd.DataFrame(c.persons[period]).merge(hh[["household_key", "status"]], on="household_key")
    return hh.groupby("status").size(), persons.groupby("status").size()


def test_matrix_reconciles_with_both_snapshots(moves):
    m = moves.read("transition_matrix", Q2)
    for period, side, other in ((Q1, "from_status", "to_status"), (Q2, "to_status", "from_status")):
        households, persons = _status_counts(moves, period)
        present = m[m[side] != "absent"]
        assert present.groupby(side).households.sum().to_dict() == households.to_dict()
        assert present.groupby(side).persons.sum().to_dict() == persons.to_dict()
    # appeared / disappeared are in the matrix, not dropped
    assert m[(m.from_status == "absent")].households.sum() == 2
    assert m[(m.to_status == "absent")].households.sum() == 2


def test_transitions_cover_every_household_once(moves):
    t = moves.read("transitions", Q2)
    keys = {r["household_key"] for p in (Q1, Q2) for r in moves.households[p]}
    assert sorted(t.household_key) == sorted(keys)
    assert t.household_key.is_unique


def test_the_printed_summary_names_flows_in_chinese_with_the_table_counts(moves):
    from pipelines.risk.pipeline import summary

    text = summary(moves.processed, Q2, moves.policy)
    line = next(x for x in text.splitlines() if x.strip().startswith(f"变动 {Q1} -> {Q2}:"))
    counts = moves.read("transitions", Q2)["status_flow"].value_counts()
    labels = moves.policy.labels.of("status_flow")
    for flow, n in counts.items():
        assert f"{labels[flow]} {n}户" in line, (flow, line)
    assert "returned_to_poverty" not in line and "stayed_poor" not in line
