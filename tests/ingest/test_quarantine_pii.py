"""Quarantined rows keep only cells that cannot be personal data: read after the column-shift
correction, never from under a personal column's header, and only when their content has their
column's shape (pipelines/ingest/sql/quarantine.sql, docs/data_contract.md §3)."""

from __future__ import annotations

import csv
import json

import duckdb
import pytest

from pipelines.ingest.pipeline import run
from pipelines.policy import load_policy
from tests.ingest.conftest import HEADERS, VILLAGE, make_id, person, write_csv

FILE = "registry/2020Q4/140524_陵川县_q.csv"
ID_A = make_id("140524", "19900101", "611")
ID_B = make_id("140524", "19850505", "622")
ID_C = make_id("140524", "19700707", "633")


# these files are mostly quarantined on purpose: the per-file quarantine limit is lifted
LIFTED = load_policy(overrides={"thresholds": {"ingest": {"max_quarantined_share": 1.0}}})


def _cells(row: dict) -> list[str]:
    return [row.get(h, "") for h in HEADERS]


def hand_rows() -> tuple[list, dict]:
    """Three quarantined rows carrying personal data in the wrong places, and one loaded household."""
    ok = person("H0001", "H000101", "张三", make_id("140524", "19800101", "101"), "男", "19800101", "户主", size=1)
    # right shift: an extra empty cell before 行政村 moves every later cell one to the right
    right = person("H0002", "H000201", "欧阳娜娜", ID_A, "女", "19900101", "户主", size=1, phone="13912340001")
    right_cells = _cells(right)
    right_cells = right_cells[:3] + [""] + right_cells[3:-1]  # the last cell (联系电话) falls off the header
    # left shift: 人编号 missing, so 姓名 sits under 人编号, 证件号码 under 姓名, …
    left = person("H0003", "H000301", "司马光", ID_B, "男", "19850505", "户主", size=1, phone="13912340002")
    left_cells = _cells(left)
    at = HEADERS.index("人编号")
    left_cells = left_cells[:at] + left_cells[at + 1:] + [""]
    # not shifted, but personal data typed into other columns (and no village code)
    junk = person("H0004", "H000401", "诸葛亮", ID_C, "男", "19700707", "户主", size=1, phone="13912340003",
                  **{"行政区划代码": "", "行政村": "诸葛亮", "序号": "1405241002000004", "文化程度": "王小二",
                     "出生日期": ID_C, "人均纯收入": "13912340003", "工资性收入": "123456789",
                     "生产经营性收入": "1234567890", "健康状况": "健康,孔明"})
    personal = {"names": ["欧阳娜娜", "司马光", "诸葛亮", "王小二", "孔明"], "ids": [ID_A, ID_B, ID_C],
                "phones": ["13912340001", "13912340002", "13912340003"],
                "numbers": ["H0002", "H000201", "H0003", "H000301", "H0004", "H000401", "1405241002000004"]}
    return [ok, right_cells, left_cells, junk], personal


@pytest.fixture(scope="module")
def quarantine(tmp_path_factory):
    base = tmp_path_factory.mktemp("qpii")
    rows, personal = hand_rows()
    write_csv(base / "raw" / FILE, rows)
    run(base / "raw", base / "processed", policy=LIFTED)
    con = duckdb.connect(str(base / "processed" / "povmon.duckdb"), read_only=True)
    got = {r[0]: (r[1], json.loads(r[2])) for r in con.execute(
        "select source_row, reason, fields from quarantine order by source_row").fetchall()}
    con.close()
    return got, personal


def _values(fields: dict) -> list[str]:
    return [str(v) for v in fields.values()]


def test_no_personal_value_in_any_quarantined_field(quarantine):
    got, personal = quarantine
    assert sorted(got) == [3, 4, 5]
    text = json.dumps([f for _r, f in got.values()], ensure_ascii=False)
    for value in [*personal["names"], *personal["ids"], *personal["phones"], *personal["numbers"]]:
        assert value not in text, value
    for value in personal["ids"]:
        assert value[:8] not in text  # not even the birth-date part of an ID


def test_a_right_shifted_row_is_read_one_cell_over(quarantine):
    got, _p = quarantine
    reason, fields = got[3]
    assert reason == "column_shift"
    assert fields["county_name"] == "陵川县" and fields["township_name"] == "崇文镇"  # before the shift: in place
    # the village code moved under 户编号's header: a cell under a personal column is never read
    assert "village_code" not in fields
    assert fields["relation"] == "户主" and fields["household_size"] == "1" and fields["sex"] == "女"
    assert fields["birth_date"] == "1990"  # dates: the year only
    assert fields["poverty_status"] == "已脱贫(享受政策)" and fields["net_income"] == "9000"
    assert "per_capita_net_income" not in fields  # its value moved under 联系电话
    assert "village_name" not in fields  # 测试村: free text without a place suffix is not kept


def test_a_left_shifted_row_is_read_one_cell_back(quarantine):
    got, _p = quarantine
    reason, fields = got[4]
    assert reason == "column_shift"
    assert fields["village_code"] == VILLAGE  # before the missing cell: in place
    assert "sex" not in fields  # its value moved under 证件号码
    assert fields["birth_date"] == "1985" and fields["relation"] == "户主" and fields["education"] == "初中"
    assert fields["wage_income"] == "8000" and fields["net_income"] == "9000"


def test_cells_are_kept_by_content_not_by_header(quarantine):
    got, _p = quarantine
    reason, fields = got[5]
    assert reason == "missing_village_code"
    assert fields["county_name"] == "陵川县" and fields["relation"] == "户主"
    assert fields["wage_income"] == "123456789"  # nine digits: a number
    for column in ("village_name", "row_no", "education", "birth_date", "per_capita_net_income",
                   "operating_income", "health"):
        assert column not in fields, column  # a name, a 户编号, an ID, a phone, ten digits, an unknown label
    assert "household_key" in fields and fields["household_key"] != "H0004"


def test_a_bad_village_code_is_shown_only_when_it_looks_like_one(tmp_path):
    phone_row = person("H0005", "H000501", "钱五", make_id("140524", "19900101", "651"), "男", "19900101", "户主",
                       size=1, **{"行政区划代码": "13912340005"})
    code_row = person("H0006", "H000601", "钱六", make_id("140524", "19900101", "661"), "男", "19900101", "户主",
                      size=1, **{"行政区划代码": "140599100200"})
    write_csv(tmp_path / "raw" / FILE, [phone_row, code_row])
    run(tmp_path / "raw", tmp_path / "processed", policy=LIFTED)
    con = duckdb.connect(str(tmp_path / "processed" / "povmon.duckdb"), read_only=True)
    rows = con.execute("select detail, fields from quarantine order by source_row").fetchall()
    assert rows[0][0] == "village code (11 characters, not shown) is not 12 digits of a known county/township"
    assert "13912340005" not in rows[0][1]
    assert rows[1][0] == "village code 140599100200 is not 12 digits of a known county/township"


def test_sample_city_quarantine_holds_no_raw_personal_value(ingested_city):
    """The small synthetic city: every quarantined field against every raw name, ID, phone, 户编号
    and 人编号 of the city; shifted rows carry their household's real village."""
    from pipelines.audit import read_raw_values

    raw = read_raw_values(ingested_city / "raw")
    con = duckdb.connect(str(ingested_city / "processed" / "povmon.duckdb"), read_only=True)
    rows = con.execute("select reason, period, fields from quarantine").fetchall()
    shifted = [(p, json.loads(f)) for r, p, f in rows if r == "column_shift"]
    assert len(shifted) >= 5
    personal = raw.values(("name", "id", "phone", "household_id", "person_id"))
    for _reason, _period, text in rows:
        for value in json.loads(text).values():
            assert str(value) not in personal
    villages = dict(((p, h), v) for p, h, v in con.execute(
        "select period, household_key, village_code from households").fetchall())
    checked = 0
    for period, fields in shifted:
        village = villages.get((period, fields.get("household_key")))
        if village is not None and "village_code" not in fields:  # names-only county: the place by name
            assert fields.get("village_name")
        elif village is not None:
            assert fields.get("village_code") == village
            checked += 1
    assert checked >= 5
    with open(ingested_city / "truth" / "defects.csv", encoding="utf-8") as fh:
        planted = sum(1 for d in csv.DictReader(fh) if d["kind"] == "column_shift")
    assert len(shifted) == planted
