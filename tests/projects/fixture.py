"""A hand-written project list (data/raw/projects/<q>/) laid out as docs/data_contract.md §2 says
county offices keep it: a title row, the 项目清单 sheet (万元) and a 受益户名单 sheet, plus a two-
household registry export. Every figure the tests expect is worked out by hand below."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook

from tests.ingest.conftest import household, registry_path, write_csv

PERIOD = "2020Q4"
HH1, HH2 = "1405241002000001", "1405241002000002"
ROWS_1, ROWS_2 = household(HH1, 10), household(HH2, 20, names=("王五", "赵六", "王小红"))
HEAD2_ID = ROWS_2[0]["证件号码"]  # 户主 of HH2: listed by ID only
STRANGER_ID = "140524199001011234"  # nobody in the registry (check character irrelevant: 18 characters)

PROJECT_HEADERS = ["序号", "项目编号", "项目名称", "项目类型", "县(市、区)", "乡(镇)", "实施地点", "资金来源",
                   "计划投资(万元)", "到位资金(万元)", "已支付(万元)", "开工日期", "完工日期", "带贫户数"]
PROJECTS = [
    # P1: by village name (口坪村委会 written 口坪村), partly paid; lists HH1 and HH2 (by ID): 2 = 2
    [1, "P1", "口坪村光伏电站", "产业", "陵川县", "崇文镇", "口坪村", "中央", 100, 80, 60, "2020-03-01", "2020-09-30", 2],
    # P2: by village code, fully paid; states 3 households, lists 1 -> households_count_mismatch
    [2, "P2", "小窑村道路硬化", "基础设施", "陵川县", "崇文镇", "140524100201", "省级", 50, 50, 50, "2020-04-01", "2020-08-31", 3],
    # P3: 已支付 12 > 到位资金 10 -> quarantined paid_over_received
    [3, "P3", "公益岗位补贴", "公益岗位", "陵川县", "崇文镇", "小窑村", "县级", 10, 10, 12, "2020-01-01", "", ""],
    # P4: no such village -> quarantined unknown_village
    [4, "P4", "不存在村水池", "基础设施", "陵川县", "崇文镇", "不存在村", "市级", 5, 5, 5, "", "", ""],
    # P5: 店王, 整合涉农, partly paid; its only beneficiary is not in the registry (finding)
    [5, "P5", "店王村养殖园", "产业", "", "", "店王村委会", "整合涉农", 30, 20, 5, "2020-05-01", "", 1],
    # P6: 社会帮扶 to 口坪, nothing paid yet; no beneficiaries listed, none stated
    [6, "P6", "口坪村卫生室", "健康", "陵川县", "崇文镇", "140524100200", "社会帮扶", 8, 4, 0, "", "", ""],
]
BENEFICIARY_HEADERS = ["序号", "项目编号", "项目名称", "行政村", "户编号", "户主姓名", "户主身份证号", "受益方式"]
BENEFICIARIES = [
    [1, "P1", "口坪村光伏电站", "口坪村", HH1, "张三", "", "分红"],
    [2, "P1", "口坪村光伏电站", "口坪村", "", "王五", HEAD2_ID, "分红"],      # by ID -> HH2
    [3, "P2", "小窑村道路硬化", "小窑村", HH1, "张三", "", "务工"],
    [4, "P5", "店王村养殖园", "店王村", "", "某某", STRANGER_ID, "务工"],    # not in the registry
    [5, "P9", "没有的项目", "口坪村", HH2, "王五", "", "务工"],            # unknown_project
    [6, "P1", "口坪村光伏电站", "口坪村", HH1, "张三", "", "分红"],          # duplicate_beneficiary
    [7, "P3", "公益岗位补贴", "小窑村", HH2, "王五", "", "务工"],           # its project was quarantined
]


def write_fixture(raw: Path, period: str = PERIOD) -> Path:
    """The registry export and the project workbook under raw/; returns the workbook's path."""
    write_csv(registry_path(raw, period=period), ROWS_1 + ROWS_2)
    path = raw / "projects" / period / "陵川县扶贫项目台账.xlsx"
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = Workbook()
    ws = wb.active
    ws.title = "项目清单"
    ws.append(["陵川县2020年度扶贫项目资金台账(单位：万元)"])
    ws.append(PROJECT_HEADERS)
    for row in PROJECTS:
        ws.append(row)
    ws2 = wb.create_sheet("受益户名单")
    ws2.append(BENEFICIARY_HEADERS)
    for row in BENEFICIARIES:
        ws2.append(row)
    for r in range(2, ws2.max_row + 1):  # IDs and 户编号 stored as text, as an office must
        ws2.cell(r, 5).number_format = "@"
        ws2.cell(r, 7).number_format = "@"
    wb.save(path)
    return path
