"""pipelines.periods: parsing 'YYYYQn', quarter arithmetic across years, quarter-end dates."""

from __future__ import annotations

from datetime import date

import pytest

from pipelines.periods import Period, is_period


@pytest.mark.parametrize("text", ["2020Q5", "2020Q0", "2020q2", "2020-Q2", "20Q2", " 2020Q2", "2020Q2\n", "", None,
                                  2020])
def test_parse_rejects_what_is_not_a_quarter(text):
    with pytest.raises(ValueError, match=r"period must look like 2020Q2, got"):
        Period.parse(text)
    assert not is_period(text)


def test_parse_error_names_the_value():
    with pytest.raises(ValueError) as err:
        Period.parse("2020Q5")
    assert str(err.value) == "period must look like 2020Q2, got '2020Q5'"


def test_parse_round_trips_and_orders():
    p = Period.parse("2020Q2")
    assert (p.year, p.quarter, str(p)) == (2020, 2, "2020Q2")
    assert Period.parse(p) is p and is_period("2020Q2")
    assert Period.parse("2019Q4") < Period.parse("2020Q1") < Period.parse("2020Q2")
    assert sorted(map(Period.parse, ["2020Q1", "2019Q4", "2020Q4"])) == [Period(2019, 4), Period(2020, 1),
                                                                          Period(2020, 4)]
    with pytest.raises(ValueError):
        Period(2020, 5)


@pytest.mark.parametrize("start,n,expected", [
    ("2020Q1", -1, "2019Q4"), ("2019Q4", 1, "2020Q1"), ("2020Q2", -4, "2019Q2"), ("2020Q2", -5, "2019Q1"),
    ("2020Q3", 6, "2022Q1"), ("2020Q2", 0, "2020Q2"),
])
def test_shift_across_years(start, n, expected):
    assert str(Period.parse(start).shift(n)) == expected
    assert Period.parse(expected).shift(-n) == Period.parse(start)


def test_previous_and_index():
    assert str(Period.parse("2020Q1").previous) == "2019Q4"
    assert str(Period.parse("2020Q3").previous) == "2020Q2"
    assert Period.parse("2020Q1").index - Period.parse("2019Q4").index == 1
    assert Period.parse("2020Q2").index == 2020 * 4 + 2  # the quarter_index the risk SQL computes


@pytest.mark.parametrize("text,end", [
    ("2020Q1", date(2020, 3, 31)), ("2020Q2", date(2020, 6, 30)), ("2020Q3", date(2020, 9, 30)),
    ("2020Q4", date(2020, 12, 31)), ("2019Q4", date(2019, 12, 31)),
])
def test_end_dates(text, end):
    assert Period.parse(text).end_date == end
