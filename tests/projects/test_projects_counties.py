"""Two counties' project lists in one quarter, each with a "卫生室建设项目" and no 项目编号: they are two
projects (a project is identified within its county), each keeps its money, and each county's
beneficiary list attaches to its own project. Hand-written workbooks; figures worked out by hand."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from openpyxl import Workbook

from pipelines import keys
from pipelines.ingest.pipeline import run
from pipelines.policy import load_policy
from tests.conftest import TEST_KEY
from tests.ingest.conftest import household, registry_path, write_csv
from tests.projects.fixture import BENEFICIARY_HEADERS, PERIOD, PROJECT_HEADERS

LIFTED = {"thresholds": {"ingest": {"max_quarantined_share": 1.0}}}
NAME = "卫生室建设项目"
# 城区 (140502): one household at 下底村委会; 沁水县 (140521): two at 岭前村委会
CQ = {"county": "140502", "county_name": "城区", "township": "东街街道", "village": "下底村委会", "code": "140502001200"}
QS = {"county": "140521", "county_name": "沁水县", "township": "龙港镇", "village": "岭前村委会", "code": "140521100200"}
HH_CQ = "1405020012000001"
HH_QS1, HH_QS2 = "1405211002000001", "1405211002000002"


def _in(place: dict, rows: list[dict]) -> list[dict]:
    """A registry household moved to `place` (its code and names)."""
    return [{**r, "县(市、区)": place["county_name"], "乡(镇)": place["township"], "行政村": place["village"],
             "行政区划代码": place["code"]} for r in rows]


def _workbook(path: Path, title: str, project: list, beneficiaries: list[list]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = Workbook()
    ws = wb.active
    ws.title = "项目清单"
    ws.append([title])
    ws.append(PROJECT_HEADERS)
    ws.append(project)
    ws2 = wb.create_sheet("受益户名单")
    ws2.append(BENEFICIARY_HEADERS)
    for row in beneficiaries:
        ws2.append(row)
    for r in range(2, ws2.max_row + 1):
        ws2.cell(r, 5).number_format = "@"
    wb.save(path)


@pytest.fixture(scope="module")
def ingested(tmp_path_factory):
    raw = tmp_path_factory.mktemp("counties") / "raw"
    write_csv(registry_path(raw, name="140502_城区_2020Q4.csv"), _in(CQ, household(HH_CQ, 10)))
    write_csv(registry_path(raw, name="140521_沁水县_2020Q4.csv"),
              _in(QS, household(HH_QS1, 20, names=("王五", "赵六", "王小红")) + household(HH_QS2, 30, names=("孙七", "周八", "孙小明"))))
    # 城区 comes first (file order): before the fix 沁水县's row was its duplicate
    _workbook(raw / "projects" / PERIOD / "1_城区扶贫项目台账.xlsx", "城区扶贫项目台账(万元)",
              [1, "", NAME, "健康", "城区", "", CQ["code"], "中央", 120, 100, 80, "", "", 1],
              [[1, "", NAME, "下底村", HH_CQ, "张三", "", "务工"]])
    _workbook(raw / "projects" / PERIOD / "2_沁水县扶贫项目台账.xlsx", "沁水县扶贫项目台账(万元)",
              [1, "", NAME, "健康", "沁水县", "", QS["code"], "省级", 329.4, 329.4, 300, "", "", 2],
              [[1, "", NAME, "岭前村", HH_QS1, "王五", "", "务工"],
               [2, "", NAME, "岭前村", HH_QS2, "孙七", "", "务工"]])
    run(raw, raw.parent / "processed", policy=load_policy(overrides=LIFTED))
    con = duckdb.connect(str(raw.parent / "processed" / "povmon.duckdb"), read_only=True)
    yield con
    con.close()


def test_same_name_in_two_counties_is_two_projects(ingested):
    rows = ingested.execute("select county_code, project_name, fund_source, planned, received, paid, "
                            "stated_households, listed_households, registered_households from projects "
                            "order by county_code").fetchall()
    assert rows == [
        ("140502", NAME, "central", 120, 100, 80, 1, 1, 1),
        ("140521", NAME, "provincial", 329.4, 329.4, 300, 2, 2, 2),
    ]
    # the 资金账 by source: 中央 100 到位, 省级 329.4 到位 (nothing dropped)
    assert ingested.execute("select sum(received) from projects").fetchone()[0] == pytest.approx(429.4)
    assert ingested.execute("select count(*) from quarantine where source_kind like 'project%'").fetchone()[0] == 0
    assert ingested.execute("select count(*) from findings where source_kind like 'project%'").fetchone()[0] == 0


def test_each_county_lists_only_its_own_households(ingested):
    got = ingested.execute("select p.county_code, b.household_key from project_beneficiaries as b "
                           "inner join projects as p using (period, project_key) "
                           "order by p.county_code, b.source_row").fetchall()
    hk = lambda h: keys.household_key(h, TEST_KEY)  # noqa: E731
    assert got == [("140502", hk(HH_CQ)), ("140521", hk(HH_QS1)), ("140521", hk(HH_QS2))]
