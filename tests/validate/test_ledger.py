"""The 问题清单 (SQL only, no GX): status across quarters (新发现, 持续, 已整改), the deadline after the
quarter a problem was found in, 已过时限 only for open problems, and the workbook a township works
through, read back and compared with the `problems` table; names and 户编号 come from data/raw."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
from openpyxl import load_workbook

from conftest import COUNTY, write_city
from pipelines import warehouse
from pipelines.keys import household_key, person_key
from pipelines.periods import Period
from pipelines.policy import Calendar, load_policy
from pipelines.validate import ledger
from pipelines.validate.pipeline import build_database
from tests.ingest.conftest import make_id, write_csv

POLICY = load_policy()
SHEET = POLICY.validate.ledger.sheet


def _ledger(processed: Path, period: str, reports: Path, raw: Path | None = None) -> dict:
    with warehouse.transaction(processed, stage="validate") as tx:
        with duckdb.connect(str(tx.work / "v.duckdb")) as con:
            con.execute("set threads = 1")
            build_database(con, processed, period, POLICY)
            ledger.stage(con, tx, period)
        return ledger.publish(tx, period, reports, POLICY, raw)


def _rows(path: str, columns: str) -> list[tuple]:
    return duckdb.sql(f"select {columns} from read_parquet('{path}') order by household_key, criterion").fetchall()


def _two_quarters(processed: Path, reports: Path, city: dict, raw: Path | None = None) -> tuple[dict, dict]:
    """h1 cannot eat enough in Q1 only; h2's house is unsafe in both; h2's 12-year-old drops out in Q2."""
    keys = [h["household_key"] for h in city["households"]]
    hh = {h["household_key"]: h for h in city["households"]}
    hh[keys[0]]["food_secure"] = False
    hh[keys[1]]["housing_grade"] = "D"
    hh[keys[1]]["housing_secured_by"] = None
    write_city(processed, "2020Q1", city)
    first = _ledger(processed, "2020Q1", reports, raw)
    hh[keys[0]]["food_secure"] = True
    city["persons"][5]["school_status"] = None
    write_city(processed, "2020Q2", city)
    return first, _ledger(processed, "2020Q2", reports, raw)


def test_deadline_is_the_first_calendar_date_after_the_quarter_end():
    assert str(Period.parse("2020Q1").previous) == "2019Q4"
    cal = Calendar.from_month_days(["04-30", "06-30", "09-30", "12-31"])
    after = {q: cal.next_deadline(Period.parse(q).end_date, strictly_after=True) for q in
             ("2020Q1", "2020Q2", "2020Q3", "2020Q4")}
    assert after == {"2020Q1": dt.date(2020, 4, 30), "2020Q2": dt.date(2020, 9, 30),
                     "2020Q3": dt.date(2020, 12, 31), "2020Q4": dt.date(2021, 4, 30)}
    assert cal.next_deadline(Period.parse("2020Q2").end_date) == dt.date(2020, 6, 30)  # on-or-after: 0 days left


def test_status_deadline_and_days_across_two_quarters(tmp_path, city):
    processed, reports = tmp_path / "processed", tmp_path / "reports"
    first, second = _two_quarters(processed, reports, city)
    assert first["by_status"] == {"新发现": 2}
    q1 = _rows(first["output"], "household_key, criterion, deadline, days_to_deadline")
    # found at 2020-03-31: due 2020-04-30, 30 days left
    assert q1 == [("h1", "food", dt.date(2020, 4, 30), 30), ("h2", "housing", dt.date(2020, 4, 30), 30)]

    rows = _rows(second["output"], "household_key, criterion, status, first_found_period, deadline, "
                                   "days_to_deadline, overdue, is_open, members, problem, cadre_name")
    assert [r[:8] for r in rows] == [
        ("h1", "food", "已整改", "2020Q1", dt.date(2020, 4, 30), None, False, False),  # cleared: never overdue
        ("h2", "education", "新发现", "2020Q2", dt.date(2020, 9, 30), 92, False, True),  # 06-30 -> 09-30
        ("h2", "housing", "持续", "2020Q1", dt.date(2020, 4, 30), -61, True, True),  # its Q1 deadline, passed
    ]
    assert rows[1][8] == "h2-p3：12岁，未在校"  # stored pseudonymous; printed with the name
    assert rows[1][9] == "1名义务教育阶段适龄儿童未在校" and rows[1][10] == "干部1"
    summary = duckdb.sql(
        "select region_level, region_code, new_problems, open_carried, open_problems, overdue_open, cleared, "
        "cleared_to_zero, deadline, days_to_deadline from "
        f"read_parquet('{warehouse.stable_path(processed, 'problem_summary', '2020Q2')}') order by 1, 2").fetchall()
    assert ("county", COUNTY, 1, 1, 2, 1, 1, False, dt.date(2020, 4, 30), -61) in summary
    assert ("township", "140524100", 1, 1, 2, 1, 1, False, dt.date(2020, 4, 30), -61) in summary

    before = Path(second["output"]).read_bytes()
    _ledger(processed, "2020Q2", reports)  # rerun: same bytes
    assert Path(second["output"]).read_bytes() == before


def _sheet_rows(ws) -> list[dict]:
    """Data rows of a township sheet (title row 1, header row 2) as {column: value}."""
    cells = list(ws.iter_rows(min_row=2))
    header = [c.value for c in cells[0]]
    return [{h: c for h, c in zip(header, row)} for row in cells[1:]]


def test_workbook_rows_equal_the_problems_table(tmp_path, city):
    processed, reports = tmp_path / "processed", tmp_path / "reports"
    _first, second = _two_quarters(processed, reports, city)
    (book,) = second["excel"]
    wb = load_workbook(book)
    assert wb.sheetnames == ["汇总", "崇文镇"]
    rows = _sheet_rows(wb["崇文镇"])
    got = [(r[SHEET["township_name"]].value, r[SHEET["criterion_label"]].value, r[SHEET["status"]].value,
            r[SHEET["first_found_period"]].value, r[SHEET["deadline"]].value.date(), r[SHEET["days_left"]].value)
           for r in rows]
    table = duckdb.sql(
        "select township_name, criterion_label, status, first_found_period, deadline, days_to_deadline "
        f"from read_parquet('{second['output']}') where county_code = '{COUNTY}' "
        "order by case when is_open then 0 else 1 end, deadline, criterion_order").fetchall()
    assert got == table  # the same rows, open first by deadline (the overdue one on top), rectified last
    assert [g[2] for g in got] == ["持续", "新发现", "已整改"]
    for r in rows:  # left for the township to fill in
        assert r[SHEET["measure"]].value is None and r[SHEET["responsible_unit"]].value is None
        assert r[SHEET["completed_on"]].value is None
    overdue = rows[0][SHEET["days_left"]]
    assert overdue.value == -61 and overdue.font.color.rgb.endswith("C00000")  # red
    assert rows[1][SHEET["days_left"]].font.color is None or not str(rows[1][SHEET["days_left"]].font.color.rgb).endswith("C00000")

    summary = _sheet_rows(wb["汇总"])
    labels = POLICY.validate.ledger.summary
    county = next(r for r in summary if r[labels["region_level"]].value == "县")
    counts = {k: county[labels[k]].value for k in ("new_problems", "open_carried", "open_problems",
                                                   "overdue_open", "cleared")}
    assert counts == {"new_problems": 1, "open_carried": 1, "open_problems": 2, "overdue_open": 1, "cleared": 1}
    assert all(type(v) is int for v in counts.values())  # numbers, not 是/否
    assert county[labels["cleared_to_zero"]].value == "否"


def test_names_and_household_numbers_are_printed_from_raw(tmp_path):
    """户主, 户编号, 组 and the member concerned, read from a raw export at print time; the
    processed tables keep keys only."""
    from conftest import clean_city

    city = clean_city()
    ids = {}
    for i, h in enumerate(city["households"], start=1):
        hid = f"14052410020000{i}"
        ids[h["household_key"]] = hid
        h["household_key"] = household_key(hid)
    raw_rows = []
    for j, p in enumerate(city["persons"]):
        old = p["household_key"]
        hid = ids[old]
        id_number = make_id("140524", f"19{70 + j:02d}0101", f"{j:02d}1")
        name = {0: "王建军", 1: "刘秀兰", 2: "王小宝"}[j % 3] + "甲乙丙丁"[j // 3]
        p["household_key"] = household_key(hid)
        p["person_key"] = person_key(id_number)
        raw_rows.append({"县(市、区)": "陵川县", "乡(镇)": "崇文镇", "行政村": "甲村", "行政区划代码": p["village_code"],
                         "自然村": "甲村二组", "户编号": hid, "人编号": f"{hid}0{j % 3 + 1}", "姓名": name,
                         "证件号码": id_number, "与户主关系": {"head": "户主", "spouse": "配偶", "son": "之子"}[p["relation"]],
                         "健康状况": "健康"})
    for pr in city["pairings"]:
        pr["household_key"] = household_key(ids[pr["household_key"]])
    headers = list(raw_rows[0])
    write_csv(tmp_path / "raw" / "registry" / "2020Q2" / "140524_陵川县.csv", raw_rows, headers=headers)
    hh = city["households"][1]
    hh["housing_grade"], hh["housing_secured_by"] = "D", None
    city["persons"][5]["school_status"] = None  # 王小宝乙, 12, drops out
    processed = tmp_path / "processed"
    write_city(processed, "2020Q2", city)
    out = _ledger(processed, "2020Q2", tmp_path / "reports", tmp_path / "raw")
    assert out["printed"] == {"households_not_in_raw": 0, "reports_cited": 0, "reports_not_found": 0}
    rows = _sheet_rows(load_workbook(out["excel"][0])["崇文镇"])
    printed = {(r[SHEET["head_name"]].value, r[SHEET["household_id"]].value, r[SHEET["village_group"]].value,
                r[SHEET["criterion_label"]].value, r[SHEET["members"]].value) for r in rows}
    assert printed == {("王建军乙", "140524100200002", "甲村二组", "义务教育有保障", "王小宝乙：12岁，未在校"),
                       ("王建军乙", "140524100200002", "甲村二组", "住房安全有保障", "")}
    for f in processed.rglob("*"):
        if f.is_file() and not f.is_symlink():
            data = f.read_bytes()
            assert "王小宝乙".encode() not in data and b"140524100200002" not in data, f


def test_without_a_raw_row_the_sheet_says_so(tmp_path, city):
    processed, reports = tmp_path / "processed", tmp_path / "reports"
    city["households"][0]["food_secure"] = False
    write_city(processed, "2020Q2", city)
    out = _ledger(processed, "2020Q2", reports, tmp_path / "raw")  # raw/registry/2020Q2 does not exist
    assert out["printed"]["households_not_in_raw"] == 1
    (row,) = _sheet_rows(load_workbook(out["excel"][0])["崇文镇"])
    assert row[SHEET["head_name"]].value == "(未找到户主)" and row[SHEET["household_id"]].value == "(原始数据中未找到)"
