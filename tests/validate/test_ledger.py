"""Ledger status across two quarters (SQL only, no GX): 新发现, 持续, 已整改; deadlines; bytes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from conftest import write_city
from pipelines import warehouse
from pipelines.periods import Period
from pipelines.policy import Calendar, load_policy
from pipelines.validate import ledger
from pipelines.validate.pipeline import build_database


def _ledger(processed: Path, period: str, reports: Path) -> dict:
    with warehouse.transaction(processed, stage="validate") as tx:
        with duckdb.connect(str(tx.work / "v.duckdb")) as con:
            con.execute("set threads = 1")
            build_database(con, processed, period, load_policy())
            ledger.stage(con, tx, period)
        return ledger.publish(tx, period, reports)


def test_deadlines_and_previous_period():
    assert str(Period.parse("2020Q1").previous) == "2019Q4"
    cal = Calendar.from_month_days(["04-30", "06-30", "09-30", "12-31"])
    assert cal.next_deadline(Period.parse("2020Q1").end_date) == dt.date(2020, 4, 30)
    assert cal.next_deadline(Period.parse("2020Q2").end_date) == dt.date(2020, 6, 30)
    assert cal.next_deadline(Period.parse("2020Q4").end_date, strictly_after=True) == dt.date(2021, 4, 30)
    assert cal.next_deadline(Period.parse("2023Q3").end_date) == dt.date(2023, 9, 30)


def test_status_across_two_quarters(tmp_path, city):
    processed, reports = tmp_path / "processed", tmp_path / "reports"
    q1 = city
    hh = {h["household_key"]: h for h in q1["households"]}
    hh["h1"]["food_secure"] = False          # cleared by Q2
    hh["h2"]["housing_grade"] = "D"          # persists
    hh["h2"]["housing_secured_by"] = None
    write_city(processed, "2020Q1", q1)
    first = _ledger(processed, "2020Q1", reports)
    assert first["by_status"] == {"新发现": 2}

    hh["h1"]["food_secure"] = True
    q1["persons"][5]["school_status"] = None  # h2's 12-year-old drops out: new in Q2
    write_city(processed, "2020Q2", q1)
    second = _ledger(processed, "2020Q2", reports)
    rows = duckdb.sql(f"select household_key, criterion, status, first_found_period, members, cadre_name, "
                      f"deadline from read_parquet('{second['output']}') order by 1, 2").fetchall()
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [
        ("h1", "food", "已整改", "2020Q1"),
        ("h2", "education", "新发现", "2020Q2"),
        ("h2", "housing", "持续", "2020Q1"),
    ]
    assert rows[1][4] == "h2-p3：12岁，未在校" and rows[1][5] == "干部1" and rows[1][6] == dt.date(2020, 6, 30)
    summary = duckdb.sql(f"select region_level, region_code, open_problems, cleared, cleared_to_zero from "
                         f"read_parquet('{warehouse.stable_path(processed, 'problem_summary', '2020Q2')}') order by 1, 2").fetchall()
    assert ("county", "140524", 2, 1, False) in summary and ("township", "140524100", 2, 1, False) in summary
    assert len(second["excel"]) == 1 and Path(second["excel"][0]).exists()

    before = Path(second["output"]).read_bytes()
    _ledger(processed, "2020Q2", reports)  # rerun: same bytes
    assert Path(second["output"]).read_bytes() == before

