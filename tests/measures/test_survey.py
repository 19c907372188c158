"""Survey-weighted FGT: Taylor-linearised SEs against an independent plain-Python linearisation
(stratified cluster design, with replacement; domains of the full design; a single-PSU stratum)."""

from __future__ import annotations

import math

import duckdb
import pandas as pd
import pytest

from pipelines.measures import nodes

# stratum A: 3 PSUs, B: 2 PSUs, C: 1 PSU (lonely); unequal weights; domain "x" spans A and C,
# domain "y" spans A and B; one unit with a missing income.
UNITS = [
    # stratum, psu, design_weight, size, income, dom
    ("A", "A1", 10.0, 3, 3000.0, "x"), ("A", "A1", 12.0, 2, 5200.0, "y"), ("A", "A1", 9.0, 4, 4100.0, "x"),
    ("A", "A2", 15.0, 1, 2500.0, "y"), ("A", "A2", 11.0, 5, 6100.0, "y"),
    ("A", "A3", 8.0, 2, 3900.0, "x"), ("A", "A3", 14.0, 3, None, "x"),
    ("B", "B1", 20.0, 4, 4600.0, "y"), ("B", "B1", 22.0, 2, 2900.0, "y"),
    ("B", "B2", 18.0, 3, 7500.0, "y"), ("B", "B2", 25.0, 1, 3300.0, "y"),
    ("C", "C1", 30.0, 2, 4300.0, "x"), ("C", "C1", 28.0, 6, 3600.0, "x"), ("C", "C1", 35.0, 3, 9000.0, "y"),
]
LINES = {"national": 4000.0, "guideline": 4500.0}


def _frame() -> pd.DataFrame:
    return pd.DataFrame(UNITS, columns=["stratum", "psu", "design_weight", "size", "income", "dom"])


def py_linearised(units, y_of, in_domain, lonely):
    """Ratio mean sum(w y d)/sum(w d) and its linearised SE, written out independently."""
    w = [u[2] * u[3] for u in units]
    d = [1.0 if in_domain(u) and u[4] is not None else 0.0 for u in units]
    wd = sum(wi * di for wi, di in zip(w, d))
    r = sum(wi * di * y_of(u[4]) for wi, di, u in zip(w, d, units) if di) / wd
    z = {}
    for wi, di, u in zip(w, d, units):
        z.setdefault(u[0], {}).setdefault(u[1], 0.0)
        if di:
            z[u[0]][u[1]] += wi * (y_of(u[4]) - r) / wd
    all_totals = [t for psus in z.values() for t in psus.values()]
    grand = sum(all_totals) / len(all_totals)
    var = 0.0
    for psus in z.values():
        totals = list(psus.values())
        n = len(totals)
        if n > 1:
            mean = sum(totals) / n
            var += n / (n - 1) * sum((t - mean) ** 2 for t in totals)
        elif lonely == "adjust":
            var += (totals[0] - grand) ** 2
    return r, math.sqrt(var)


def _fgt_y(alpha, line):
    def y(income):
        if income >= line:
            return 0.0
        return 1.0 if alpha == 0 else ((line - income) / line) ** alpha
    return y


@pytest.mark.parametrize("lonely", ["adjust", "certainty"])
def test_survey_fgt_matches_plain_python(lonely):
    con = duckdb.connect()
    rel = nodes.survey_fgt(con, _frame(), LINES, stratum="stratum", psu="psu",
                           weight="design_weight * size", by="dom", by_level="dom",
                           lonely_psu=lonely, total=("city", "all"))
    got = {(r[0], r[1], r[2]): (r[3], r[4]) for r in
           rel.project("domain_code, measure, coalesce(line_name, ''), estimate, std_error").fetchall()}
    domains = {"all": lambda u: True, "x": lambda u: u[5] == "x", "y": lambda u: u[5] == "y"}
    checked = 0
    for dom, pred in domains.items():
        for line_name, line in LINES.items():
            for alpha in (0, 1, 2):
                est, se = py_linearised(UNITS, _fgt_y(alpha, line), pred, lonely)
                g_est, g_se = got[(dom, f"fgt{alpha}", line_name)]
                assert g_est == pytest.approx(est, abs=1e-12)
                assert g_se == pytest.approx(se, abs=1e-9)
                checked += 1
        est, se = py_linearised(UNITS, lambda y: y, pred, lonely)
        g_est, g_se = got[(dom, "mean_income", "")]
        assert g_est == pytest.approx(est, rel=1e-12)
        assert g_se == pytest.approx(se, rel=1e-9)
    assert checked == 18


def test_lonely_rule_changes_only_the_lonely_stratum():
    con = duckdb.connect()
    kw = dict(stratum="stratum", psu="psu", weight="design_weight * size", by="dom")
    adj = nodes.survey_fgt(con, _frame(), LINES, lonely_psu="adjust", **kw)
    adj = dict(adj.filter("measure = 'fgt0' and line_name = 'national'").project("domain_code, std_error").fetchall())
    cert = nodes.survey_fgt(con, _frame(), LINES, lonely_psu="certainty", **kw)
    cert = dict(cert.filter("measure = 'fgt0' and line_name = 'national'").project("domain_code, std_error").fetchall())
    assert adj["x"] > cert["x"]  # domain x has units in the lonely stratum C
    with pytest.raises(ValueError):
        nodes.survey_fgt(con, _frame(), LINES, lonely_psu="average", **kw)


def test_domain_is_not_a_subset_design():
    """Zeroing out non-domain units keeps every PSU: the domain SE differs from the SE of the
    design subset to the domain's own PSUs (which drops the zero PSU totals)."""
    con = duckdb.connect()
    kw = dict(stratum="stratum", psu="psu", weight="design_weight * size", lonely_psu="certainty")
    full = nodes.survey_fgt(con, _frame(), LINES, by="dom", **kw)
    se_domain = dict(full.filter("measure = 'fgt0' and line_name = 'national'")
                     .project("domain_code, std_error").fetchall())["x"]
    subset = _frame()[_frame().dom == "x"]
    sub = nodes.survey_fgt(con, subset, LINES, **kw)
    se_subset = dict(sub.filter("measure = 'fgt0' and line_name = 'national'")
                     .project("domain_code, std_error").fetchall())["all"]
    est, se = py_linearised(UNITS, _fgt_y(0, 4000.0), lambda u: u[5] == "x", "certainty")
    assert se_domain == pytest.approx(se, abs=1e-9)
    assert se_subset != pytest.approx(se_domain, abs=1e-6)
