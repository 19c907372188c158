"""End-to-end ingest on a tiny hand-built raw tree carrying one of each defect."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import duckdb
import pytest
import xlsxwriter

from pipelines import idcard, keys
from pipelines.ingest.pipeline import run
from tests.ingest.conftest import HEADERS, VILLAGE, household, make_id, person, write_csv

FILE_A = "registry/2020Q4/140524_陵川县_a.csv"
FILE_B = "registry/2020Q4/140525_泽州县_b.xlsx"
FILE_C = "registry/2020Q4/140581_高平市_c.csv"
PAIRING = "pairing/2020Q4/结对.csv"
REFERENCE = "reference/population.csv"


def shifted(row: dict, at: int = 3) -> list[str]:
    """The row's cells displaced one column to the right from position `at`."""
    cells = [row.get(h, "") for h in HEADERS]
    return cells[:at] + [""] + cells[at:]


def build_raw(raw: Path) -> dict:
    """Write the raw tree; return what the tests expect (rows by defect, PII strings)."""
    hh1 = household("H0001", 10, ("张三", "李四", "张小明"))
    hh2 = household("H0002", 20, ("王五", "赵六", "王小"))
    # ID checks: valid reference IDs (one with lowercase x), a changed digit, a 20-char ID
    hh2[0]["证件号码"] = "34052419800101001x"
    hh2[0]["出生日期"] = "1980-01-01"
    hh2[1]["证件号码"] = "11010519491231002X"
    hh2[1]["出生日期"] = "1949-12-31"
    hh2[1]["性别"] = "男"  # ID says female (17th digit 2): id_sex_mismatch
    hh2[2]["证件号码"] = "34052419800101002X"  # changed digit: checksum invalid
    hh2[2]["出生日期"] = "1980-01-01"
    hh3 = household("H0003", 30, ("孙一", "孙二", "孙三"))
    hh3[0]["出生日期"] = "1981-01-01"  # id_birthdate_mismatch
    hh3[1]["证件号码"] = make_id("140524", "19820202", "302") + "01"  # 20 chars
    hh3[2]["与户主关系"] = "之表哥"  # unknown label
    hh3[2]["工资性收入"] = "无"  # income_not_numeric
    hh4 = household("H0004", 40, ("周一", "周二", "周三"))
    for r in hh4:
        r["人数"] = "5"  # household_size_mismatch
    hh4[1]["贫困户属性"] = "低保贫困户"  # household_fields_disagree
    hh4[2]["财产性收入"] = "-5"  # income_negative (+ identity off)
    hh5 = household("H0005", 50, ("吴一", "吴二", "吴三"))
    hh5[0]["与户主关系"] = "配偶"  # no head, two spouses
    hh5[0]["年收入"] = "99999"  # income_identity_mismatch
    bad_key = person("", "P9", "郑缺", make_id("140524", "19900101", "551"), "男", "19900101", "户主")
    no_village = person("H0006", "H000601", "冯村", make_id("140524", "19900101", "561"), "男", "19900101", "户主",
                        size=1, **{"行政区划代码": ""})
    bad_village = person("H0007", "H000701", "陈村", make_id("140524", "19900101", "571"), "男", "19900101", "户主",
                         size=1, **{"行政区划代码": "140599100200"})
    shift = person("H0008", "H000801", "褚移", make_id("140524", "19900101", "581"), "男", "19900101", "户主", size=1)
    rows_a = [*hh1, *hh2, *hh3, *hh4, *hh5, {}, bad_key, no_village, bad_village, shifted(shift)]
    write_csv(raw / FILE_A, rows_a, encoding="utf-8")

    # xlsx: two title rows, merged household cells, √/blank yes-no, a duplicate of hh1's head
    hh9 = household("H0009", 90, ("蒋甲", "蒋乙", "蒋丙"))
    dup = person("H0010", "H001001", "韩重", hh1[0]["证件号码"], "男", "19800101", "户主", size=1)
    write_xlsx(raw / FILE_B, [*hh9, dup], title="泽州县建档立卡贫困人口信息表")

    # GB18030 CSV with a rare character (䶮 is not in GBK)
    hh11 = household("H0011", 11, ("刘䶮", "刘二", "刘三"))
    write_csv(raw / FILE_C, hh11, encoding="gb18030")

    write_csv(raw / PAIRING, [
        {"户编号": "H0001", "户主姓名": "张三", "户主证件号码": hh1[0]["证件号码"], "帮扶责任人编号": "C01",
         "帮扶责任人姓名": "干部甲", "联系电话": "13700000001", "单位名称": "县农业局", "隶属关系": "县", "是否驻村队员": "是"},
        {},
    ], headers=["户编号", "户主姓名", "户主证件号码", "帮扶责任人编号", "帮扶责任人姓名", "联系电话", "单位名称",
                "隶属关系", "是否驻村队员"])
    write_csv(raw / REFERENCE, [
        {"年度": "2020", "县(市、区)": "陵川县", "乡(镇)": "崇文镇", "行政村": "测试村", "村代码": VILLAGE,
         "农村户籍人口": "1200"},
    ], headers=["年度", "县(市、区)", "乡(镇)", "行政村", "村代码", "农村户籍人口"])
    everyone = [*rows_a[:15], bad_key, no_village, bad_village, shift, *hh9, dup, *hh11]
    return dict(
        names=[r["姓名"] for r in everyone],
        ids=[r["证件号码"] for r in everyone if r.get("证件号码")],
        phones=[r["联系电话"] for r in everyone],
        person_ids=[r["人编号"] for r in everyone if r.get("人编号")],
        head_id=hh1[0]["证件号码"],
    )


def write_xlsx(path: Path, rows: list[dict], title: str) -> None:
    """Title in a merged A1 cell, header on row 3, household block merged vertically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("贫困人口")
    ws.merge_range(0, 0, 0, 8, title)
    ws.write_row(1, 0, ["填报单位：泽州县"])
    ws.write_row(2, 0, HEADERS)
    hh_cols = [HEADERS.index(h) for h in ("户编号", "人数", "贫困户属性")]
    for i, r in enumerate(rows):
        cells = [r.get(h, "") for h in HEADERS]
        if i < 3:  # household H0009: yes/no as √/blank; 大病保险 blank = not recorded
            cells[HEADERS.index("是否享受低保")] = "√" if i == 0 else ""
            cells[HEADERS.index("是否参加大病保险")] = "" if i == 1 else "Y"
        for j, v in enumerate(cells):
            if i in (1, 2) and j in hh_cols:
                continue  # merged below
            ws.write_string(3 + i, j, v)
    for j in hh_cols:
        ws.merge_range(3, j, 5, j, rows[0][HEADERS[j]])
    wb.close()


@pytest.fixture(scope="module")
def ingested(tmp_path_factory):
    base = tmp_path_factory.mktemp("defects")
    expect = build_raw(base / "raw")
    summary = run(base / "raw", base / "processed")
    con = duckdb.connect(str(base / "processed" / "povmon.duckdb"), read_only=True)
    yield base, expect, summary, con
    con.close()


def q(con, sql, *params):
    return con.execute(sql, list(params)).fetchall()


def test_every_quarantine_reason(ingested):
    _base, _e, _s, con = ingested
    got = dict(q(con, "select reason, source_row from quarantine where source_file = ?", FILE_A))
    assert got == {"blank_row": 17, "missing_key": 18, "missing_village_code": 19,
                   "bad_village_code": 20, "column_shift": 21}
    dup = q(con, "select source_file, sheet, source_row, column_name from quarantine where reason = 'duplicate_person'")
    assert dup == [(FILE_B, "贫困人口", 7, "证件号码")]  # title rows count: header on Excel row 3
    kept = q(con, "select source_file, source_row from findings where reason = 'duplicate_person_kept'")
    assert kept == [(FILE_A, 2)]


def test_findings_on_loaded_rows(ingested):
    _base, _e, _s, con = ingested
    rows = set(q(con, "select reason, source_row, column_name from findings where source_file = ?", FILE_A))
    for expected in [
        ("id_checksum_invalid", 7, "证件号码"), ("id_sex_mismatch", 6, "性别"),
        ("id_birthdate_mismatch", 8, "出生日期"), ("id_nonstandard_length", 9, "证件号码"),
        ("unknown_code_label", 10, "与户主关系"), ("income_not_numeric", 10, "工资性收入"),
        ("household_size_mismatch", 11, "人数"), ("household_fields_disagree", 12, "贫困户属性"),
        ("income_negative", 13, "财产性收入"), ("no_head", 14, "与户主关系"), ("multiple_spouses", 15, "与户主关系"),
        ("income_identity_mismatch", 14, "年收入"),
    ]:
        assert expected in rows, expected
    assert not any(r[1] in (2, 3, 4) for r in rows if r[0] != "duplicate_person_kept")  # clean household
    label = q(con, "select raw_value from findings where reason = 'unknown_code_label'")
    assert label == [("之表哥",)]
    assert q(con, "select relation from persons where source_file = ? and source_row = 10", FILE_A) == [(None,)]


def test_id_check_sql_and_python_agree(ingested):
    _base, _e, _s, con = ingested
    valid = dict(q(con, "select source_row, id_valid from persons where source_file = ? and source_row in (5, 6, 7)",
                   FILE_A))
    assert valid == {5: True, 6: True, 7: False}
    for text, ok in [("34052419800101001X", True), ("34052419800101001x", True), ("11010519491231002X", True),
                     ("34052419800101002X", False)]:
        assert idcard.is_valid(text) is ok
    key = keys.person_key("34052419800101001x")
    assert q(con, "select person_key from persons where source_file = ? and source_row = 5", FILE_A) == [(key,)]
    assert q(con, "select household_key from households where household_key = ?", keys.household_key("H0002"))


def test_merged_cells_title_rows_and_yes_no(ingested):
    _base, _e, _s, con = ingested
    rows = q(con, "select source_row, household_key, dibao, critical_illness_ins from persons "
                  "where source_file = ? order by source_row", FILE_B)
    assert [r[0] for r in rows] == [4, 5, 6]
    assert {r[1] for r in rows} == {keys.household_key("H0009")}  # filled down from the merged cell
    assert [r[2] for r in rows] == [True, False, False]  # √ column: blank = 否
    assert [r[3] for r in rows] == [True, None, True]  # no √ in the column: blank = not recorded
    merged = q(con, "select source_row from findings where reason = 'merged_cell_filled' order by 1")
    assert merged == [(5,), (6,)]
    assert q(con, "select household_size, household_attribute, member_count from households where household_key = ?",
             keys.household_key("H0009")) == [(3, "ordinary", 3)]
    assert q(con, "select header_row, sheet from ingest_manifest where source_file = ?", FILE_B) == [(3, "贫困人口")]


def test_encodings(ingested):
    _base, _e, _s, con = ingested
    enc = dict(q(con, "select source_file, encoding from ingest_manifest"))
    assert enc[FILE_A] == "utf-8" and enc[FILE_C] == "gb18030" and enc[FILE_B] is None
    assert q(con, "select count(*) from persons where source_file = ?", FILE_C) == [(3,)]


def test_manifest_reconciles(ingested):
    base, _e, _s, con = ingested
    for f, read, loaded, quarantined in q(con, "select source_file, rows_read, rows_loaded, rows_quarantined "
                                               "from ingest_manifest"):
        assert read == loaded + quarantined, f
        n_q = q(con, "select count(*) from quarantine where source_file = ?", f)[0][0]
        assert n_q == quarantined, f
        digest = hashlib.sha256((base / "raw" / f).read_bytes()).hexdigest()
        assert q(con, "select sha256 from ingest_manifest where source_file = ?", f) == [(digest,)]
    persons = q(con, "select count(*) from persons")[0][0]
    registry_loaded = q(con, "select sum(rows_loaded) from ingest_manifest where source_kind = 'registry'")[0][0]
    assert persons == registry_loaded
    assert q(con, "select count(*) from pairings") == [(1,)]
    assert q(con, "select level, count(*) from regions where level = 'village' group by 1") == [("village", 1)]


def test_quarantine_json_has_no_pii(ingested):
    _base, expect, _s, con = ingested
    fields = [json.loads(r[0]) for r in q(con, "select fields from quarantine")]
    assert all("name" not in f and "id_number" not in f and "phone" not in f and "person_id" not in f
               for f in fields)
    assert any(f.get("village_code") == "140599100200" for f in fields)


def test_no_pii_under_processed(ingested):
    base, expect, _s, _con = ingested
    blobs = [p.read_bytes() for p in (base / "processed").rglob("*") if p.is_file()]
    needles = {*expect["names"], *expect["ids"], *expect["phones"], *expect["person_ids"]}
    # a needle of a few bytes (this fixture's 人编号 "P9") matches compressed binary by chance
    needles = {n for n in needles if n and len(n.encode("utf-8")) >= 6}
    for needle in needles:
        for enc in ("utf-8", "utf-16-le"):
            raw = needle.encode(enc)
            assert not any(raw in blob for blob in blobs), needle


def test_second_run_is_byte_identical_and_atomic(ingested, tmp_path):
    base, _e, _s, _con = ingested

    def digests(root):
        return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(root.rglob("*.parquet"))}

    first = digests(base / "processed")
    run(base / "raw", tmp_path / "again")
    assert digests(tmp_path / "again") == first
    # a failing run (required column missing) leaves the previous outputs in place
    bad = tmp_path / "rawbad"
    write_csv(bad / "registry/2020Q4/140524_x.csv", [{}], headers=[h for h in HEADERS if h != "户编号"])
    with pytest.raises(ValueError):
        run(bad, tmp_path / "again")
    assert digests(tmp_path / "again") == first
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".again.build")]
