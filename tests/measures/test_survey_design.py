"""Design-based estimators of pipelines/measures/design.py against published figures and
independent implementations.

Published: R survey's api data (apistrat, stratified by school type, fpc), figures as R prints
them (survey::svymean / svyratio / svyby on svydesign(id=~1, strata=~stype, weights=~pw,
fpc=~fpc, data=apistrat); degf()); R's own reference values as collected by Survey.jl
(test/r_reference/est_basic.csv, domain.csv, degf.csv). tests/measures/data/apistrat.csv and apiclus2.csv hold the
columns used (snum, stype, pw, fpc, api00, enroll, awards; dnum, snum, pw, fpc1, fpc2, api00, api99)
of R survey's data(api).
"""

from __future__ import annotations

import math
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from pipelines.measures import design as svy
from pipelines.measures import nodes
from test_survey import LINES, _fgt_y, _frame, py_linearised, UNITS

API = Path(__file__).parent / "data" / "apistrat.csv"
STRAT_FPC = svy.Design(weight="pw", income="api00", stratum="stype", fpc="fpc")
STRAT_W = svy.Design(weight="pw", income="api00", stratum="stype")


@pytest.fixture()
def con():
    c = duckdb.connect()
    c.register("api_frame", pd.read_csv(API))
    c.execute("create table apistrat as select * from api_frame")
    yield c
    c.close()


def _row(rel, **where):
    df = rel if isinstance(rel, pd.DataFrame) else rel.df()
    for k, v in where.items():
        df = df[df[k] == v]
    assert len(df) == 1, (where, df)
    return df.iloc[0]


# ---- published: R survey on apistrat ---------------------------------------------------------

def test_mean_and_df_match_r_survey_apistrat(con):
    # svymean(~api00, dstrat) -> 662.29 (SE 9.4089) with fpc; 9.5361 without (R, est_basic.csv)
    with_fpc = _row(svy.survey_fgt(con, "apistrat", 600, STRAT_FPC), measure="mean_income", domain_level="all")
    assert with_fpc.estimate == pytest.approx(662.287363, abs=1e-5)
    assert with_fpc.std_error == pytest.approx(9.408940879434, rel=1e-6)
    assert with_fpc.design_df == 197  # degf(dstrat): 200 PSUs - 3 strata
    no_fpc = _row(svy.survey_fgt(con, "apistrat", 600, STRAT_W), measure="mean_income", domain_level="all")
    assert no_fpc.std_error == pytest.approx(9.53613229692516, rel=1e-6)


def test_domain_means_match_r_svyby_apistrat(con):
    # svyby(~api00, ~awards, dstrat, svymean): No 633.7349 (15.3348), Yes 678.4224 (11.8566)
    rel = svy.survey_fgt(con, "apistrat", 600, STRAT_FPC, by="awards")
    no = _row(rel, measure="mean_income", domain_code="No")
    yes = _row(rel, measure="mean_income", domain_code="Yes")
    assert no.estimate == pytest.approx(633.734912337968, rel=1e-8)
    assert no.std_error == pytest.approx(15.3347711842501, rel=1e-6)
    assert yes.estimate == pytest.approx(678.422405668124, rel=1e-8)
    assert yes.std_error == pytest.approx(11.8566310509714, rel=1e-6)


def test_ratio_matches_r_svyratio_apistrat(con):
    # svyratio(~api00, ~enroll, dstrat) -> 1.11256 (SE 0.041360); the linearisation Alkire–Foster A uses
    rel = svy.survey_ratio(con, "apistrat", STRAT_FPC, numerator="api00", denominator="enroll")
    row = _row(rel, domain_level="all")
    assert row.estimate == pytest.approx(1.11256046332155, rel=1e-6)
    assert row.std_error == pytest.approx(0.0413595064404803, rel=1e-6)


# R survey's data(fpc) (8 rows, from Stata's fpc.dta), as printed in ?fpc
FPC_ROWS = [(1, 1, 3, 15, 2.8), (1, 2, 3, 15, 4.1), (1, 3, 3, 15, 6.8), (1, 4, 3, 15, 6.8), (1, 5, 3, 15, 9.2),
            (2, 1, 4, 12, 3.7), (2, 2, 4, 12, 6.6), (2, 3, 4, 12, 4.2)]


def test_mean_matches_r_survey_fpc_example():
    # svymean(~x, withoutfpc) -> 5.4481 (SE 0.7413); with fpc = ~Nh -> 5.4481 (SE 0.616)
    con = duckdb.connect()
    con.register("fpc", pd.DataFrame(FPC_ROWS, columns=["stratid", "psuid", "weight", "Nh", "x"]))
    base = dict(weight="weight", income="x", stratum="stratid", psu="stratid || '-' || psuid")  # nest = TRUE
    without = _row(svy.survey_fgt(con, "fpc", 5, svy.Design(**base)), measure="mean_income")
    with_fpc = _row(svy.survey_fgt(con, "fpc", 5, svy.Design(**base, fpc="Nh")), measure="mean_income")
    assert round(without.estimate, 4) == 5.4481 and round(with_fpc.estimate, 4) == 5.4481
    assert round(without.std_error, 4) == 0.7413
    assert round(with_fpc.std_error, 3) == 0.616
    assert with_fpc.design_df == 8 - 2
    con.close()


def test_two_stage_design_matches_r_survey_apiclus2():
    # dclus2 <- svydesign(id=~dnum+snum, fpc=~fpc1+fpc2, data=apiclus2): svymean(~api00) 670.81
    # (SE 30.099); without fpc (weights=~pw): SE 30.712 (R, as quoted in Survey.jl's tests)
    con = duckdb.connect()
    frame = pd.read_csv(API.parent / "apiclus2.csv")
    con.register("apiclus2", frame)
    wr = svy.Design(weight="pw", income="api00", psu="dnum", psu2="snum")
    two = svy.Design(weight="pw", income="api00", psu="dnum", psu2="snum", fpc="fpc1", fpc2="fpc2")
    a = _row(svy.survey_fgt(con, "apiclus2", 600, wr), measure="mean_income")
    b = _row(svy.survey_fgt(con, "apiclus2", 600, two), measure="mean_income")
    assert round(a.estimate, 2) == 670.81 and round(b.estimate, 2) == 670.81
    assert round(a.std_error, 3) == 30.712
    assert round(b.std_error, 3) == 30.099
    assert a.design_df == 40 - 1  # 40 districts, one stratum
    # and to the last digit against the two-stage formula written out (Cochran 1977, as svyrecvar)
    w, y = frame.pw, frame.api00
    z = w * (y - (w * y).sum() / w.sum()) / w.sum()
    t = z.groupby(frame.dnum).sum()
    f1 = len(t) / frame.fpc1.iloc[0]
    var = (1 - f1) * len(t) / (len(t) - 1) * ((t - t.mean()) ** 2).sum()
    for _, g in frame.assign(z=z).groupby("dnum"):
        m = len(g)
        if m > 1:
            var += f1 * (1 - m / g.fpc2.iloc[0]) * m / (m - 1) * ((g.z - g.z.mean()) ** 2).sum()
    assert b.std_error == pytest.approx(math.sqrt(var), rel=1e-12)
    con.close()


# ---- independent implementation: the plain-Python linearisation of test_survey.py -------------

@pytest.mark.parametrize("lonely", ["adjust", "certainty"])
def test_fgt_by_domain_with_lonely_psu_matches_plain_python(lonely):
    con = duckdb.connect()
    con.register("units", _frame())
    d = svy.Design(weight="design_weight * size", stratum="stratum", psu="psu", lonely_psu=lonely)
    rel = svy.survey_fgt(con, "units", LINES, d, by="dom").df()
    for dom in ("x", "y", None):
        for alpha in (0, 1, 2):
            r, se = py_linearised(UNITS, _fgt_y(alpha, 4000.0), lambda u: dom is None or u[5] == dom, lonely)
            got = rel[(rel.measure == f"fgt{alpha}") & (rel.line_name == "national")
                      & (rel.domain_code == (dom or "all"))].iloc[0]
            assert got.estimate == pytest.approx(r, abs=1e-13)
            assert got.std_error == pytest.approx(se, abs=1e-13)
            assert got.design_df == 6 - 3  # 6 PSUs, 3 strata
    # certainty: the lonely stratum C adds nothing, so the SE is smaller than with adjust
    con.close()


def test_fpc_as_fraction_equals_fpc_as_count(con):
    a = _row(svy.survey_fgt(con, "apistrat", 600, STRAT_FPC), measure="fgt0", domain_level="all")
    con.execute("create or replace table api_f as select *, case stype when 'E' then 100 when 'M' then 50 "
                "else 50 end / fpc as frac from apistrat")
    d = svy.Design(weight="pw", income="api00", stratum="stype", fpc="frac")
    b = _row(svy.survey_fgt(con, "api_f", 600, d), measure="fgt0", domain_level="all")
    assert b.std_error == pytest.approx(a.std_error, rel=1e-12) and a.std_error > 0


# ---- Gini: the linearised values are the estimator's derivative in the weights ---------------

def _gini(w: np.ndarray, y: np.ndarray) -> float:
    """Weighted Gini (mean-difference form, independent of gini.sql's cumulative form)."""
    diff = np.abs(y[:, None] - y[None, :])
    return float((w[:, None] * w[None, :] * diff).sum() / (2 * w.sum() * (w * y).sum()))


def test_gini_point_and_linearised_values_match_numerical_derivative(con):
    rng = np.random.default_rng(3)
    n = 40
    frame = pd.DataFrame({"stratum": np.repeat(["a", "b"], n // 2), "psu": [f"p{i // 4}" for i in range(n)],
                          "w": rng.uniform(1, 5, n), "income": rng.lognormal(8, 0.7, n)})
    con.register("g", frame)
    d = svy.Design(weight="w", income="income", stratum="stratum", psu="psu")
    row = _row(svy.survey_gini(con, "g", d), domain_level="all")
    w, y = frame.w.to_numpy(), frame.income.to_numpy()
    g0 = _gini(w, y)
    # the mean-difference Gini includes the i = j pairs as gini.sql does: the two forms agree exactly
    assert row.estimate == pytest.approx(g0, abs=1e-12)
    z = con.execute("select z from svy_gini_z where domain_level = 'all' order by income").fetchnumpy()["z"]
    order = np.argsort(y)
    eps = 1e-6
    numeric = np.array([(_gini(w + eps * np.eye(n)[i], y) - _gini(w - eps * np.eye(n)[i], y)) / (2 * eps) * w[i]
                        for i in order])
    assert np.max(np.abs(z - numeric)) < 1e-8
    # and the SE is the design variance of those values (with replacement, PSUs within strata)
    totals = pd.DataFrame({"s": frame.stratum.to_numpy()[order], "p": frame.psu.to_numpy()[order], "z": numeric})
    t = totals.groupby(["s", "p"]).z.sum().reset_index()
    var = sum(len(g) / (len(g) - 1) * ((g.z - g.z.mean()) ** 2).sum() for _, g in t.groupby("s"))
    assert row.std_error == pytest.approx(math.sqrt(var), rel=1e-6)


# ---- relative line: the SE reflects the estimated line (Monte Carlo, simple random samples) ----

def test_arpr_se_matches_the_spread_over_repeated_samples():
    rng = np.random.default_rng(20201231)
    population = rng.lognormal(9, 0.8, 200_000)
    n, reps = 600, 150
    con = duckdb.connect()
    d = svy.Design(weight="w", income="income")
    estimates, ses, fixed_ses = [], [], []
    for _ in range(reps):
        sample = pd.DataFrame({"income": rng.choice(population, n, replace=False), "w": len(population) / n})
        rel = svy.survey_arpr(con, sample, d, share=0.6).df()
        arpr = rel[rel.measure == "arpr"].iloc[0]
        estimates.append(arpr.estimate)
        ses.append(arpr.std_error)
        fixed_ses.append(math.sqrt(arpr.estimate * (1 - arpr.estimate) / (n - 1)))  # the line taken as known
    spread, mean_se = float(np.std(estimates, ddof=1)), float(np.mean(ses))
    assert 0.85 < mean_se / spread < 1.15, (mean_se, spread)
    # ignoring that the line is estimated would misstate the error by more than that
    assert not 0.9 < float(np.mean(fixed_ses)) / mean_se < 1.1
    con.close()


def test_arpr_line_is_share_of_weighted_median_and_rate_by_hand():
    con = duckdb.connect()
    frame = pd.DataFrame({"income": [100.0, 200, 300, 400, 500, 600], "w": [1.0, 1, 1, 1, 1, 5],
                          "region": ["a", "a", "a", "b", "b", "b"]})
    rel = svy.survey_arpr(con, frame, svy.Design(weight="w", income="income"), share=0.6, by="region").df()
    # cumulative weights 1..5 then 10: half of 10 is reached at 500 -> line 300
    assert _row(rel, measure="median_income").estimate == 500
    line = _row(rel, measure="relative_line")
    assert line.estimate == 300 and line.line_name == "median_pct_060"
    assert _row(rel, measure="arpr", domain_code="all").estimate == pytest.approx(2 / 10)  # 100, 200 below 300
    assert _row(rel, measure="arpr", domain_code="a").estimate == pytest.approx(2 / 3)
    assert _row(rel, measure="arpr", domain_code="b").estimate == 0
    con.close()


# ---- differences: two quarters, two domains ---------------------------------------------------

def test_difference_of_independent_quarters_adds_variances(con):
    con.execute("create table q as select 'Q1' as period, 'Q1-' || stype as st, * from apistrat "
                "union all select 'Q2', 'Q2-' || stype, snum, stype, pw, fpc, api00 + 20, enroll, awards from apistrat")
    d = svy.Design(weight="pw", income="api00", stratum="st", psu="period || '-' || snum")
    diff = _row(svy.survey_difference(con, "q", 650, d, group="period", a="Q2", b="Q1"), measure="mean_income")
    one = _row(svy.survey_fgt(con, "apistrat", 650, STRAT_W), measure="mean_income", domain_level="all")
    assert diff.estimate == pytest.approx(20.0, abs=1e-9)
    assert diff.std_error == pytest.approx(math.sqrt(2) * one.std_error, rel=1e-9)
    assert diff.domain_code == "Q2-Q1" and diff.design_df == 400 - 6


def test_difference_of_domains_in_one_design(con):
    rel = svy.survey_fgt(con, "apistrat", 600, STRAT_FPC, by="awards")
    diff = _row(svy.survey_difference(con, "apistrat", 600, STRAT_FPC, group="awards", a="Yes", b="No"),
                measure="mean_income")
    yes, no = _row(rel, measure="mean_income", domain_code="Yes"), _row(rel, measure="mean_income", domain_code="No")
    assert diff.estimate == pytest.approx(yes.estimate - no.estimate, abs=1e-9)
    # schools are their own PSUs: no PSU is in both domains, but they share strata, so the
    # difference's variance is not the plain sum of the two (the stratum means covary)
    assert diff.std_error > 0 and diff.std_error != pytest.approx(math.hypot(yes.std_error, no.std_error), rel=1e-6)
    with pytest.raises(ValueError, match="no unit with value"):
        svy.survey_difference(con, "apistrat", 600, STRAT_FPC, group="awards", a="Yes", b="Maybe")


# ---- Alkire–Foster with design-based SEs --------------------------------------------------------

AF_UNITS = pd.DataFrame({
    "stratum": ["s1"] * 4 + ["s2"] * 4,
    "psu": ["a", "a", "b", "b", "c", "c", "d", "d"],
    "w": [1.0, 2.0, 1.0, 1.0, 2.0, 2.0, 1.0, 3.0],
    "region": ["n", "n", "n", "s", "s", "s", "s", "n"],
    "i1": [True, False, True, False, True, True, False, False],
    "i2": [True, False, False, False, True, False, True, False],
    "i3": [False, False, True, False, True, True, False, False],
})


def test_alkire_foster_by_hand_with_a_as_ratio():
    con = duckdb.connect()
    d = svy.Design(weight="w", income="0", stratum="stratum", psu="psu")
    rel = svy.survey_alkire_foster(con, AF_UNITS, d, {"i1": 1, "i2": 1, "i3": 1}, ["1/3", "2/3"],
                                   indicators={"i1": "i1", "i2": "i2", "i3": "i3"}, by="region")
    # scores (thirds): 2, 0, 2, 0, 3, 2, 1, 0; weights 1, 2, 1, 1, 2, 2, 1, 3 (total 13)
    h = _row(rel, measure="af_H", line_name="k=2/3", domain_code="all")
    a = _row(rel, measure="af_A", line_name="k=2/3", domain_code="all")
    m0 = _row(rel, measure="af_M0", line_name="k=2/3", domain_code="all")
    assert h.estimate == pytest.approx((1 + 1 + 2 + 2) / 13)  # units 1, 3, 5, 6
    assert m0.estimate == pytest.approx((1 * 2 / 3 + 1 * 2 / 3 + 2 * 1 + 2 * 2 / 3) / 13)
    assert a.estimate == pytest.approx(m0.estimate / h.estimate)
    # A's SE is the ratio's (poor x score over poor), not the SE of a mean over all units
    ratio = _row(svy.survey_ratio(con, AF_UNITS.assign(
        poor=[1.0, 0, 1, 0, 1, 1, 0, 0], c=[2 / 3, 0, 2 / 3, 0, 1, 2 / 3, 0, 0]), d, numerator="c",
        denominator="poor"), domain_level="all")
    assert a.std_error == pytest.approx(ratio.std_error, rel=1e-12) and a.std_error > 0
    assert h.design_df == 4 - 2
    south = _row(rel, measure="af_H", line_name="k=1/3", domain_code="s")
    assert south.estimate == pytest.approx((2 + 2 + 1) / (1 + 2 + 2 + 1))  # units 5, 6, 7 of 4, 5, 6, 7
    con.close()


def test_equal_cutoffs_are_refused_not_merged():
    con = duckdb.connect()
    with pytest.raises(ValueError, match="are the same"):
        nodes.alkire_foster(con, AF_UNITS, {"i1": 1, "i2": 1, "i3": 1}, ["1", "3/3"],
                            indicators={"i1": "i1", "i2": "i2", "i3": "i3"})
    ok = nodes.alkire_foster(con, AF_UNITS, {"i1": 1, "i2": 1, "i3": 1}, ["1"],
                             indicators={"i1": "i1", "i2": "i2", "i3": "i3"}).df()
    assert ok[(ok.measure == "af_H") & (ok.domain_code == "all")].n_unweighted.tolist() == [8]
    con.close()


def test_design_by_name_equals_design_by_columns():
    from pipelines.policy import load_policy

    d = svy.from_policy("sample_city", load_policy())
    assert d.weight == "design_weight * household_size" and d.stratum == "county_code"
    assert d.psu == "village_code" and d.total == ("city", "1405") and d.domains == {"county": "county_code"}


def test_arpr_without_spread_has_no_standard_error_rather_than_a_wrong_one():
    con = duckdb.connect()
    frame = pd.DataFrame({"income": [100.0] * 5 + [500.0], "w": [1.0] * 6})
    rel = svy.survey_arpr(con, frame, svy.Design(weight="w", income="income")).df()
    arpr = rel[rel.measure == "arpr"].iloc[0]
    assert arpr.estimate == 0 and pd.isna(arpr.std_error)  # IQR 0: no kernel bandwidth
    con.close()


def test_design_by_name_on_a_relation_matches_the_stage_engine():
    """Notebook parity: the sample city's design by name on any relation (here the tiny city's
    survey_households as a relation) gives the measures stage engine's figures."""
    from tiny_city import load_tiny

    con = duckdb.connect()
    load_tiny(con)
    rel = con.table("survey_households")
    by_name = svy.survey_fgt(con, rel, {"l": 4000.0}, "sample_city", by="county_code", by_level="county").df()
    stage = nodes.survey_fgt(con, "survey_households", {"l": 4000.0}, stratum="county_code", psu="village_code",
                             weight="design_weight * household_size", income="per_capita_net_income",
                             by="county_code", by_level="county", total=("city", "1405")).df()
    assert len(by_name) == len(stage) > 4
    merged = by_name.merge(stage, on=["domain_level", "domain_code", "measure", "line_name"], suffixes=("", "_ref"))
    assert len(merged) == len(stage)
    assert (merged.estimate - merged.estimate_ref).abs().max() < 1e-12
    assert (merged.std_error - merged.std_error_ref).abs().max() < 1e-12
    con.close()


def test_a_household_total_income_is_divided_by_the_household_size():
    from pipelines.policy import load_policy

    policy = load_policy(overrides={"surveys": {"sample_city": {"design": {"income_concept": "household_total"}}}})
    d = svy.from_policy("sample_city", policy)
    assert d.income == "per_capita_net_income / household_size"
    con = duckdb.connect()
    frame = pd.DataFrame({"per_capita_net_income": [9000.0, 3000.0], "household_size": [3, 1],
                          "design_weight": [1.0, 1.0], "county_code": ["a", "a"], "village_code": ["v1", "v2"]})
    p0 = _row(svy.survey_fgt(con, frame, 3500, d), measure="fgt0")
    assert p0.estimate == pytest.approx(4 / 4)  # 9000 / 3 = 3000 and 3000: all four persons below 3500
    con.close()
