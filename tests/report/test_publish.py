"""Small-cell protection (pipelines/report/publish.py) on hand-made tables, numbers by hand; and
the value formats (a shortfall never rounds to 100 %)."""

from __future__ import annotations

import itertools
import random

import pandas as pd
import pytest

from pipelines.report import formats
from pipelines.report.publish import HIDDEN, SHOWN, SMALL, bounds, protect

T = 5


def _county_table(households, persons):
    """Counties A.. with a totals row computed from them."""
    n = len(households)
    return pd.DataFrame({"is_total": [0] * n + [1], "county_name": [chr(65 + i) for i in range(n)] + ["合计"],
                         "households": [*households, sum(households)], "persons": [*persons, sum(persons)]})


SPEC = {"counts": ["households", "persons"], "together": [["households", "persons"]]}


def test_primary_together_and_complementary():
    # A: 3 households (small) with 10 persons; B 12/40; C 40/130; total 55/180
    df = _county_table([3, 12, 40], [10, 40, 130])
    codes = protect(df, SPEC, T)
    assert codes["households"].tolist() == [SMALL, HIDDEN, SHOWN, SHOWN]  # 12 withheld: 55 - 40 - x would give 3
    assert codes["persons"].tolist() == [HIDDEN, HIDDEN, SHOWN, SHOWN]  # 10 with its households, 40 beside it
    lower, upper = bounds(df, codes, SPEC, T)
    # A: 1..4; B: 5..(55 - 40 - 1) = 14; persons: 5..(180 - 130 - 5) = 45 each
    assert (lower.at[0, "households"], upper.at[0, "households"]) == (1, 4)
    assert (lower.at[1, "households"], upper.at[1, "households"]) == (5, 14)
    assert (lower.at[0, "persons"], upper.at[0, "persons"]) == (5, 45)
    assert (lower.at[1, "persons"], upper.at[1, "persons"]) == (5, 45)


def test_the_total_is_withheld_when_no_other_cell_can_be():
    # A: 3 households, 8 persons; B: none. The persons total (8) would give A's persons away.
    df = _county_table([3, 0], [8, 0])
    codes = protect(df, SPEC, T)
    assert codes["households"].tolist() == [SMALL, SHOWN, SMALL]  # the total is 3 itself
    assert codes["persons"].tolist() == [HIDDEN, SHOWN, HIDDEN]
    _lower, upper = bounds(df, codes, SPEC, T)
    assert upper.isna().at[0, "persons"]  # total withheld: no published upper bound


def test_zero_is_shown_and_nothing_small_means_nothing_withheld():
    df = _county_table([0, 12, 43], [0, 40, 130])
    assert (protect(df, SPEC, T) == SHOWN).all().all()


def test_row_sums_rates_and_changes():
    spec = {"counts": ["needing", "covered", "not_covered"], "sums": {"needing": ["covered", "not_covered"]},
            "linked": {"coverage": ["covered", "not_covered"]}}
    df = pd.DataFrame({"needing": [20, 30], "covered": [17, 30], "not_covered": [3, 0], "coverage": [0.85, 1.0]})
    codes = protect(df, spec, T)
    assert codes.loc[0, ["needing", "covered", "not_covered", "coverage"]].tolist() == [SHOWN, HIDDEN, SMALL, HIDDEN]
    assert (codes.loc[1] == SHOWN).all()
    # a change from the previous quarter goes with the value now and the value before
    spec = {"counts": ["households"], "group": ["dimension"], "changes": {"change": "households"}}
    df = pd.DataFrame({"period": ["2020Q1", "2020Q2", "2020Q3", "2020Q1", "2020Q2"],
                       "dimension": ["food", "food", "food", "water", "water"],
                       "households": [10, 3, 12, 8, 9], "change": [None, -7, 9, None, 1]})
    codes = protect(df, spec, T)
    assert codes["change"].tolist() == [SHOWN, HIDDEN, HIDDEN, SHOWN, SHOWN]


def test_no_line_is_left_with_one_withheld_cell():
    """On random tables (groups, totals, row sums): a line that adds up never has exactly one
    withheld cell, households and persons are withheld together, a rate with its count."""
    rng = random.Random(13)
    spec = {"counts": ["households", "persons", "a", "b"], "group": ["dim"], "together": [["households", "persons"]],
            "sums": {"households": ["a", "b"]}, "linked": {"rate": "persons"}}
    for _ in range(200):
        rows = []
        for dim in ("x", "y"):
            body = []
            for county in range(rng.randint(1, 5)):
                a, b = rng.choice([0, 1, 2, 3, 4, 6, 9, 20]), rng.choice([0, 1, 3, 7, 30])
                body.append({"is_total": 0, "dim": dim, "c": county, "a": a, "b": b, "households": a + b,
                             "persons": (a + b) * rng.randint(1, 4)})
            rows += body
            rows.append({"is_total": 1, "dim": dim, "c": None, **{k: sum(r[k] for r in body)
                                                                  for k in ("a", "b", "households", "persons")}})
        df = pd.DataFrame(rows)
        df["rate"] = df["persons"] / 1000
        codes = protect(df, spec, T)
        for dim, col in itertools.product(("x", "y"), ("households", "persons", "a", "b")):
            line = codes.loc[df["dim"] == dim, col]
            assert (line != SHOWN).sum() != 1, (dim, col, df, codes)
        for i in df.index:
            assert (codes.at[i, "households"] != SHOWN) == (codes.at[i, "persons"] != SHOWN) or \
                0 in (df.at[i, "households"], df.at[i, "persons"])
            assert sum(codes.loc[i, ["households", "a", "b"]] != SHOWN) != 1
            assert (codes.at[i, "rate"] != SHOWN) == (codes.at[i, "persons"] != SHOWN)
            for col in ("households", "persons", "a", "b"):
                if 0 < df.at[i, col] < T:
                    assert codes.at[i, col] == SMALL


def test_formats():
    assert formats.share(0.99997) == ">99.99%" and formats.share(1.0) == "100.00%"
    assert formats.share(0.00002) == "<0.01%" and formats.share(0.0) == "0.00%" and formats.share(0.5834) == "58.34%"
    assert formats.share(0.99997, 1) == ">99.9%"
    assert formats.signed(3) == "+3" and formats.signed(-2.0) == "−2" and formats.signed(0) == "0"
    assert formats.points(0.0002) == "+0.02个百分点" and formats.points(-0.0153) == "−1.53个百分点"
    assert formats.cell_text(97512.0, "integer") == "97,512" and formats.cell_text(pd.Timestamp("2020-12-31"), "date") == "2020-12-31"
    assert formats.cell_text(True, "text") == "是" and formats.cell_text(pd.NA, "count") == "—"


def test_a_group_total_row_within_each_county_is_a_line_too():
    """项目账: each county has one row per project type and an all-types row (and the city likewise).
    Within a county the type rows add up to the all-types row — a second direction of lines besides
    the types' county rows and totals row (`group`). Without it, the one withheld type cell of a
    county is its all-types row minus the shown types. Hand-made: county A, types x (3: small),
    y (12), z (40), all 55; county B, x 20, y 30, z 9, all 59; city x 23, y 42, z 49, all 114."""
    rows = [(0, "A", "x", 3), (0, "A", "y", 12), (0, "A", "z", 40), (0, "A", "all", 55),
            (0, "B", "x", 20), (0, "B", "y", 30), (0, "B", "z", 9), (0, "B", "all", 59),
            (1, None, "x", 23), (1, None, "y", 42), (1, None, "z", 49), (1, None, "all", 114)]
    df = pd.DataFrame(rows, columns=["is_total", "county_code", "project_type", "stated_households"])
    spec = {"counts": ["stated_households"], "group": ["project_type"],
            "within": {"by": ["county_code"], "total": {"project_type": "all"}}}
    codes = protect(df, spec, T)["stated_households"]
    for county in ("A", "B", None):  # every county's types + its all-types row: never one withheld cell
        line = codes[df["county_code"].isna()] if county is None else codes[df["county_code"] == county]
        assert (line != SHOWN).sum() != 1, (county, codes.tolist())
    for ptype in ("x", "y", "z", "all"):  # and the other direction still holds
        assert (codes[df["project_type"] == ptype] != SHOWN).sum() != 1, (ptype, codes.tolist())
    assert codes.iat[0] == SMALL
    # without `within`, A's all-types row minus y and z would give x away: the test can fail
    plain = protect(df, {k: v for k, v in spec.items() if k != "within"}, T)["stated_households"]
    assert (plain[df["county_code"] == "A"] != SHOWN).sum() == 1 or (plain[df["county_code"] == "B"] != SHOWN).sum() == 1


def test_within_needs_exactly_one_total_column():
    from pipelines.policy import PolicyError, load_policy

    two = {"project_type": "all", "county_code": "140521"}  # merged over the file's { project_type = "all" }
    bad = {"report": {"tables": {"projects_by_county_type": {"within": {"by": ["county_code"], "total": two}}}}}
    with pytest.raises(PolicyError, match=r"projects_by_county_type\]\.within\.total: expected one column"):
        load_policy(overrides=bad)
