"""Alkire–Foster M0 on the paper's example; exact rational deprivation scores."""

from __future__ import annotations

from fractions import Fraction

import duckdb
import pandas as pd
import pytest

from pipelines.measures import nodes

# Alkire & Foster (2011), J. Public Economics 95, "Counting and multidimensional poverty
# measurement": achievement matrix y (4 persons x 4 dimensions) and cutoffs z.
Y = [[13.1, 14, 4, 1], [15.2, 7, 5, 0], [12.5, 10, 1, 0], [20, 11, 3, 1]]
Z = (13, 12, 3, 1)
DIMS = ("d1", "d2", "d3", "d4")


def _example() -> pd.DataFrame:
    return pd.DataFrame([{f"{d}_deprived": row[j] < Z[j] for j, d in enumerate(DIMS)} for row in Y])


def _by_measure(rel, line_name=None) -> dict[str, float]:
    rows = rel.project("measure, line_name, estimate").fetchall()
    return {m: e for m, ln, e in rows if ln == line_name or ln is None}


def test_paper_example_k2():
    con = duckdb.connect()
    rel = nodes.alkire_foster(con, _example(), {d: 1 for d in DIMS}, ["2/4"])
    est = _by_measure(rel, "k=1/2")
    assert est["af_H"] == pytest.approx(1 / 2, abs=1e-12)
    assert est["af_A"] == pytest.approx(3 / 4, abs=1e-12)
    assert est["af_M0"] == pytest.approx(3 / 8, abs=1e-12)
    censored = [est[f"af_censored_headcount.{d}"] for d in DIMS]
    assert censored == pytest.approx([1 / 4, 1 / 2, 1 / 4, 1 / 2], abs=1e-12)
    uncensored = [est[f"af_uncensored_headcount.{d}"] for d in DIMS]
    assert uncensored == pytest.approx([1 / 4, 3 / 4, 1 / 4, 1 / 2], abs=1e-12)
    contributions = [est[f"af_contribution.{d}"] for d in DIMS]
    assert sum(contributions) == pytest.approx(1.0, abs=1e-12)
    # M0 = sum_j (w_j / sum w) censored_j
    assert est["af_M0"] == pytest.approx(sum(censored) / 4, abs=1e-12)


def test_union_cutoff_is_any_deprivation():
    con = duckdb.connect()
    est = _by_measure(nodes.alkire_foster(con, _example(), {d: 1 for d in DIMS}, ["any"]), "k=any")
    assert est["af_H"] == pytest.approx(3 / 4, abs=1e-12)


def test_six_float_weights_of_one_sixth_reach_k_1():
    assert sum([1 / 6] * 6) < 1  # the float trap this guards against
    con = duckdb.connect()
    inds = ("food", "clothing", "education", "medical", "housing", "water")
    weights = {i: 1 / 6 for i in inds}
    df = pd.DataFrame([{f"{i}_deprived": True for i in inds}, {f"{i}_deprived": i != "water" for i in inds}])
    scores = nodes.deprivation_scores(con, df, weights).project("score_num, score_den").fetchall()
    assert Fraction(scores[0][0], scores[0][1]) == 1
    assert Fraction(scores[1][0], scores[1][1]) == Fraction(5, 6)
    est = _by_measure(nodes.alkire_foster(con, df, weights, [1]), "k=1")
    assert est["af_H"] == pytest.approx(1 / 2, abs=1e-12)
    assert est["af_A"] == 1.0


def test_integer_weights_and_cutoffs():
    ints, total = nodes.integer_weights({"a": "1/2", "b": 0.25, "c": 1})
    assert (ints, total) == ({"a": 2, "b": 1, "c": 4}, 7)
    assert nodes.cutoff("any", ints, total) == ("k=any", Fraction(1, 7))
    assert nodes.cutoff("1/3", ints, total) == ("k=1/3", Fraction(1, 3))
    with pytest.raises(ValueError):
        nodes.cutoff("3/2", ints, total)
    with pytest.raises(ValueError):
        nodes.integer_weights({"a": 0})
