"""A names-only member export as a county office sends it (domain.md §1), written by hand with
xlsxwriter: an instructions sheet and a hidden code-list sheet before the data sheet, two title
rows, a header of merged cells over two rows (序号 … merged down, 收入情况 merged across its
sub-headers), headers with （） and spaces, full-width digits, IDs typed as numbers, a 合计 row.
Every row lands where it must; rows read = loaded + quarantined, counted from the sheet."""

from __future__ import annotations

import duckdb
import xlsxwriter

from pipelines.ingest.pipeline import check, run
from pipelines.policy import load_policy
from tests.ingest.conftest import make_id

# (header, merged down over both header rows?) — 收入情况 spans the income sub-headers
LEFT = ["序号", "县（市、区）", "乡（镇）", "行政村", "自然村", "户编号", "人编号", "姓 名", "证件号码", "人 数",
        "与户主关系", "文化程度", "在校生状况", "健康状况", "劳动技能", "务工状况", "务工时间（月）", "参加大病医疗",
        "脱贫属性", "贫困户属性", "主要致贫原因", "危房户", "饮水安全", "饮水困难"]
INCOME = ["人均纯收入"]
RIGHT = ["联系电话"]
FULL = str.maketrans("0123456789", "０１２３４５６７８９")


def _member(n, hh, k, name, id_number, relation, size, cause="因病"):
    return {"序号": str(n), "县（市、区）": "陵川县", "乡（镇）": "崇文镇", "行政村": "口坪村", "自然村": "一组",
            "户编号": hh, "人编号": f"{hh}{k:02d}", "姓 名": name, "证件号码": id_number,
            "人 数": str(size).translate(FULL), "与户主关系": relation, "文化程度": "初中", "在校生状况": "",
            "健康状况": "健康", "劳动技能": "普通劳动力", "务工状况": "", "务工时间（月）": "", "参加大病医疗": "是",
            "脱贫属性": "已脱贫（享受政策）", "贫困户属性": "一般贫困户", "主要致贫原因": cause, "危房户": "否",
            "饮水安全": "是", "饮水困难": "否", "人均纯收入": "5230".translate(FULL), "联系电话": "13912345678"}


def write_names_only(path):
    ids = [make_id("140524", "19700101", "011"), make_id("140524", "19720202", "022"),
           make_id("140524", "19850505", "031"), make_id("140524", "19880808", "042")]
    rows = [_member(1, "1405241002000101", 1, "赵大", ids[0], "户主", 2),
            _member(2, "1405241002000101", 2, "钱二", ids[1], "配偶", 2),
            _member(3, "1405241002000102", 1, "孙三", ids[2], "户主", 2),
            _member(4, "1405241002000102", 2, "李四", ids[3], "配偶", 2)]
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path))
    notes = wb.add_worksheet("填表说明")
    notes.write(0, 0, "填表说明：1. 证件号码请以文本格式填写；2. 代码值见“代码表”。")
    codes = wb.add_worksheet("代码表")
    for j, (head, values) in enumerate([("与户主关系", ["户主", "配偶", "之子"]), ("文化程度", ["小学", "初中"]),
                                        ("健康状况", ["健康", "残疾"]), ("劳动技能", ["普通劳动力"]),
                                        ("务工状况", ["省外务工"]), ("贫困户属性", ["一般贫困户"]),
                                        ("主要致贫原因", ["因病", "因残"])]):
        codes.write_column(0, j, [head, *values])
    codes.hide()
    ws = wb.add_worksheet("成员信息")
    headers = [*LEFT, *INCOME, *RIGHT]
    ws.merge_range(0, 0, 0, len(headers) - 1, "陵川县建档立卡贫困人口信息采集表（成员）")
    ws.write(1, 0, "填报单位：陵川县乡村振兴局")
    for j, h in enumerate(headers):  # header rows 3-4 (0-based 2-3)
        if h in INCOME:
            continue
        ws.merge_range(2, j, 3, j, h)
    j0 = headers.index(INCOME[0])
    ws.write(2, j0, "收入情况")
    ws.write(3, j0, INCOME[0])
    for i, r in enumerate(rows):
        for j, h in enumerate(headers):
            ws.write_string(4 + i, j, r[h])
    # member 4's ID typed as a number: Excel keeps 15 significant digits
    ws.write_number(4 + 3, headers.index("证件号码"), float(ids[3]))
    ws.write_string(4 + len(rows), 0, "合计")
    ws.write_string(4 + len(rows), headers.index("人 数"), "４")
    wb.close()
    return ids, len(rows) + 1  # data rows under the header: 4 members and the 合计 row


def test_a_names_only_county_export_lands_as_written(tmp_path):
    raw = tmp_path / "raw"
    ids, data_rows = write_names_only(raw / "registry/2020Q4/140524_陵川县.xlsx")
    lifted = load_policy(overrides={"thresholds": {"ingest": {"max_quarantined_share": 1.0}}})
    summary = run(raw, tmp_path / "processed", policy=lifted)
    con = duckdb.connect(str(tmp_path / "processed" / "povmon.duckdb"), read_only=True)
    # only the data sheet was read, from below its two header rows (Excel rows 3-4)
    assert con.execute("select sheet, header_row, rows_read, rows_loaded, rows_quarantined "
                       "from ingest_manifest").fetchall() == [("成员信息", 3, data_rows, 3, 2)]
    assert any("sheet '代码表': headers name 2 of the 10 required columns; not read as data" in w
               for w in summary["warnings"])
    q = con.execute("select source_row, reason, column_name from quarantine order by 1").fetchall()
    assert q == [(8, "id_damaged_by_spreadsheet", "证件号码"), (9, "total_row", None)]
    persons = con.execute("select p.village_code, h.household_size, h.per_capita_net_income, p.critical_illness_ins "
                          "from persons as p join households as h using (period, household_key) order by 1").fetchall()
    assert persons == [("140524100200", 2, 5230.0, True)] * 3
    # the household left with one member is flagged, not silently short
    assert con.execute("select count(*) from findings where reason = 'household_size_mismatch'").fetchone()[0] >= 1
    assert con.execute("select count(*) from findings where reason = 'unmapped_header'").fetchone()[0] == 0


def test_check_reports_the_names_only_export_in_one_table(tmp_path):
    raw = tmp_path / "raw"
    write_names_only(raw / "registry/2020Q4/140524_陵川县.xlsx")
    rows = {r["sheet"]: r for r in check(raw)["rows"]}
    assert set(rows) == {"代码表", "成员信息"}  # 填表说明 has no header row at all
    assert rows["代码表"]["refused (columns)"] == "(not data: a code list or notes sheet)"
    assert (rows["成员信息"]["would load"], rows["成员信息"]["would quarantine"]) == (3, 2)
