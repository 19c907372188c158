"""FGT P0-P2, Gini, lines and the line sensitivity curve on hand-built tables."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from pipelines.measures import nodes
from pipelines.measures.pipeline import sensitivity_lines


def _estimates(rel) -> dict[tuple[str, str, str], float]:
    return {(r[0], r[1], r[2]): r[3] for r in rel.project("domain_code, measure, line_name, estimate").fetchall()}


def test_fgt_of_four_incomes_at_125():
    con = duckdb.connect()
    con.execute("create table t as select * from (values (100.0), (110.0), (150.0), (160.0)) v(income)")
    est = _estimates(nodes.fgt(con, "t", {"z": 125}))
    assert est[("all", "fgt0", "z")] == pytest.approx(0.5, abs=1e-12)
    assert est[("all", "fgt1", "z")] == pytest.approx(0.08, abs=1e-12)
    assert est[("all", "fgt2", "z")] == pytest.approx(0.0136, abs=1e-12)


def test_income_equal_to_line_is_not_poor_and_weights_count_persons():
    con = duckdb.connect()
    df = pd.DataFrame({"income": [100.0, 125.0, 200.0], "size": [3, 1, 1], "county": ["a", "a", "b"]})
    rel = nodes.fgt(con, df, {"z": 125}, weight="size", by="county", by_level="county", total=("city", "c"))
    est = _estimates(rel)
    assert est[("c", "fgt0", "z")] == pytest.approx(3 / 5, abs=1e-12)
    assert est[("a", "fgt0", "z")] == pytest.approx(3 / 4, abs=1e-12)
    assert est[("b", "fgt0", "z")] == 0
    assert est[("a", "share_of_poor", "z")] == pytest.approx(1.0, abs=1e-12)
    levels = {r[0] for r in rel.project("domain_level").fetchall()}
    assert levels == {"city", "county"}


def test_every_line_and_domain_equals_units_times_lines_by_hand():
    # the model sums the poor only (units joined to the lines they are below); against the
    # definition over every unit x every line, with a line nobody is below (zeros, share null)
    # and a domain of one unit
    incomes = [50.0, 80.0, 100.0, 100.0, 130.0, 170.0, 240.0]
    sizes = [2, 1, 4, 3, 1, 5, 2]
    counties = ["a", "a", "b", "b", "b", "a", "c"]
    lines = {"low": 40.0, "mid": 100.0, "high": 180.0}
    con = duckdb.connect()
    df = pd.DataFrame({"income": incomes, "size": sizes, "county": counties})
    rel = nodes.fgt(con, df, lines, weight="size", by="county", by_level="county", total=("city", "all"))
    got = {(r[0], r[1], r[2]): (r[3], r[4], r[5]) for r in
           rel.project("domain_code, measure, line_name, estimate, n_unweighted, n_weighted").fetchall()}
    domains = {"all": range(7), **{k: [i for i, c in enumerate(counties) if c == k] for k in "abc"}}
    for name, z in lines.items():
        poor_all = sum(sizes[i] for i in range(7) if incomes[i] < z)
        for code, members in domains.items():
            w = sum(sizes[i] for i in members)
            gaps = [(sizes[i], (z - incomes[i]) / z if incomes[i] < z else 0.0) for i in members]
            poor = sum(s for i, (s, g) in zip(members, gaps) if incomes[i] < z)
            assert got[(code, "fgt0", name)] == pytest.approx((poor / w, len(members), w), abs=1e-12)
            assert got[(code, "fgt1", name)][0] == pytest.approx(sum(s * g for s, g in gaps) / w, abs=1e-12)
            assert got[(code, "fgt2", name)][0] == pytest.approx(sum(s * g * g for s, g in gaps) / w, abs=1e-12)
            share = got[(code, "share_of_poor", name)]
            assert share[2] == poor
            assert share[0] == (None if poor_all == 0 else pytest.approx(poor / poor_all, abs=1e-12))
    assert got[("b", "fgt1", "mid")][0] == 0  # incomes equal to the line are not poor
    assert len(got) == 4 * 3 * 4


def test_null_income_rows_are_left_out():
    con = duckdb.connect()
    df = pd.DataFrame({"income": [100.0, None, 200.0]})
    rel = nodes.fgt(con, df, 150)
    assert _estimates(rel)[("all", "fgt0", "line")] == pytest.approx(0.5)
    assert {r[0] for r in rel.project("n_unweighted").fetchall()} == {2}


def test_weighted_gini_and_mean():
    con = duckdb.connect()
    df = pd.DataFrame({"income": [100.0, 110.0, 150.0, 160.0]})
    est = {r[0]: r[1] for r in nodes.gini(con, df).project("measure, estimate").fetchall()}
    # mean absolute difference / (2 mean): 440 / (2 * 16 * 130)
    assert est["gini"] == pytest.approx(440 / 4160, abs=1e-12)
    assert est["mean_income"] == pytest.approx(130.0, abs=1e-12)
    # a weight of 2 equals the row twice
    w = pd.DataFrame({"income": [1.0, 2.0], "w": [2.0, 1.0]})
    dup = pd.DataFrame({"income": [1.0, 1.0, 2.0]})
    g_w = dict(nodes.gini(con, w, weight="w").project("measure, estimate").fetchall())["gini"]
    g_d = dict(nodes.gini(con, dup).project("measure, estimate").fetchall())["gini"]
    assert g_w == pytest.approx(g_d, abs=1e-12)


def test_sensitivity_curve_is_monotone():
    lines = sensitivity_lines("g", 4500.0, 50, 200, 25)
    assert list(lines) == [f"g_pct_{p:03d}" for p in (50, 75, 100, 125, 150, 175, 200)]
    assert lines["g_pct_100"] == 4500.0
    con = duckdb.connect()
    df = pd.DataFrame({"income": [1000.0, 3000.0, 4400.0, 5000.0, 8000.0, 12000.0]})
    rel = nodes.fgt(con, df, lines).filter("measure = 'fgt0'").order("line_value")
    p0 = [r[0] for r in rel.project("estimate").fetchall()]
    assert p0 == sorted(p0) and p0[0] < p0[-1]
