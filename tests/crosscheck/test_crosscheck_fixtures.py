"""Department lists written by hand from their documented layouts (docs/data_contract.md §
department lists): a 医保 xlsx and a 公安 csv beside a 2-household registry. Findings, quarantine
reasons and row counts are checked against what was planted (hand-counted)."""

from __future__ import annotations

import duckdb
import openpyxl
import pytest

from pipelines import keys, warehouse
from pipelines.crosscheck.pipeline import run as crosscheck
from pipelines.ingest.pipeline import run as ingest
from pipelines.ingest.readers import IngestError
from tests.ingest.conftest import HEADERS, household, make_id, registry_path, write_csv

PERIOD = "2020Q2"
INSURED = "是否参加城乡居民基本医疗保险"
MEDICAL_HEADERS = ["参保地", "姓名", "身份证号", "参保状态", "险种", "年度个人自付医疗费用(元)", "统计截止日期"]
POLICE_HEADERS = ["姓名", "身份证号", "性别", "户籍派出所", "变动类型", "变动日期"]


def _registry(raw):
    a = household("1405241002000001", 10, ("张三", "李四", "张小明"))
    b = household("1405241002000002", 20, ("王五", "赵六", "王小红"))
    rows = [dict(r, **{INSURED: "是"}) for r in a + b]
    write_csv(registry_path(raw, "140524_陵川县_2020Q2.csv", PERIOD), rows, headers=HEADERS + [INSURED])
    return [r["证件号码"] for r in a], [r["证件号码"] for r in b]


def _medical(raw, a, b):
    """8 data rows: 5 load; 张小明 暂停参保, 李四 25 000.5 yuan, 王五 exactly 20 000 (not above the
    line); 王小红 absent; one ID stored as a number cell, one unknown 参保状态, one blank row."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "参保人员"
    ws.append(["陵川县医疗保障局 2020年参保人员名单"])  # a title row above the headers
    ws.append(MEDICAL_HEADERS)
    resident = "城乡居民基本医疗保险"
    ws.append(["陵川县", "张三", a[0], "正常参保", resident, "1200", "2020-06-30"])
    ws.append(["陵川县", "李四", a[1], "正常参保", resident, "25000.5", "2020-06-30"])
    ws.append(["陵川县", "张小明", a[2], "暂停参保", resident, "0", "2020-06-30"])
    ws.append(["陵川县", "王五", b[0], "正常参保", resident, "20000", "2020-06-30"])
    ws.append(["陵川县", "赵六", b[1], "正常参保", resident, "300", "2020-06-30"])
    ws.append(["陵川县", "钱七", 140524198001019000, "正常参保", resident, "10", "2020-06-30"])  # a number cell
    ws.append([None] * 7)
    ws.append(["陵川县", "孙八", make_id("140524", "19700101", "551"), "参保中", resident, "10", "2020-06-30"])
    path = raw / "departments" / "medical" / PERIOD / "医保参保人员_2020Q2.xlsx"
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)


def _police(raw, a, b):
    """5 rows: 王五 died (a finding), 张三 moved out and a stranger died (none); an ID of 17
    characters and a date that is no date are quarantined."""
    rows = [
        ["王五", b[0], "男", "崇文派出所", "死亡", "2020-05-03"],
        ["张三", a[0], "男", "崇文派出所", "迁出", "2020-04-10"],
        ["外地人", make_id("140581", "19500101", "771"), "男", "崇文派出所", "死亡", "2020-06-01"],
        ["周九", make_id("140524", "19600101", "661")[:17], "男", "崇文派出所", "死亡", "2020-06-01"],
        ["吴十", make_id("140524", "19610101", "662"), "女", "崇文派出所", "死亡", "2020-13-45"],
    ]
    write_csv(raw / "departments" / "police" / PERIOD / "户籍变动_2020Q2.csv", rows, headers=POLICE_HEADERS,
              encoding="utf-8-sig")


@pytest.fixture(scope="module")
def checked(tmp_path_factory):
    base = tmp_path_factory.mktemp("xc")
    raw, processed = base / "raw", base / "processed"
    a, b = _registry(raw)
    _medical(raw, a, b)
    _police(raw, a, b)
    ingest(raw, processed)
    summary = crosscheck(processed, PERIOD)
    return processed, summary, a, b


def _rows(processed, table, where="true"):
    return duckdb.sql(f"select * from {warehouse.scan(processed, table)} where {where}").df()


def test_findings_are_the_planted_ones(checked):
    processed, summary, a, b = checked
    found = {(r.rule, r.person_key) for r in _rows(processed, "crosscheck_findings").itertuples()}
    pk = keys.person_key
    assert found == {("high_out_of_pocket", pk(a[1])), ("insured_not_enrolled", pk(a[2])),
                     ("insured_not_enrolled", pk(b[2])), ("dead_in_registry", pk(b[0]))}
    assert summary["by_rule"] == {"dead_in_registry": 1, "high_out_of_pocket": 1, "insured_not_enrolled": 2}


def test_findings_carry_household_region_date_and_detail(checked):
    processed, _s, a, b = checked
    f = _rows(processed, "crosscheck_findings").set_index("person_key")
    dead = f.loc[keys.person_key(b[0])]
    assert dead["household_key"] == keys.household_key("1405241002000002")
    assert (dead["department"], dead["department_label"], str(dead["record_date"])[:10]) == ("police", "公安", "2020-05-03")
    assert dead["village_code"] == "140524100200" and dead["county_code"] == "140524"
    high = f.loc[keys.person_key(a[1])]
    assert high["detail"] == "年度个人自付医疗费用25001元，超过预警线20000元"  # 25 000.5 rounds to 25 001
    assert f.loc[keys.person_key(a[2])]["detail"] == "建档立卡已参保，医保参保状态为暂停参保"
    assert f.loc[keys.person_key(b[2])]["detail"] == "建档立卡已参保，医保名单无此人"


def test_every_row_is_loaded_or_quarantined_with_its_reason(checked):
    processed, *_ = checked
    q = _rows(processed, "quarantine", "source_kind like 'departments/%'")
    reasons = sorted(zip(q["source_kind"], q["reason"], q["source_row"]))
    assert reasons == [
        ("departments/medical", "blank_row", 9),
        ("departments/medical", "id_damaged_by_spreadsheet", 8),
        ("departments/medical", "unknown_code_label", 10),
        ("departments/police", "bad_record_date", 6),
        ("departments/police", "invalid_id_number", 5),
    ]
    m = _rows(processed, "ingest_manifest", "source_kind like 'departments/%'").set_index("source_kind")
    assert m.loc["departments/medical", ["rows_read", "rows_loaded", "rows_quarantined"]].tolist() == [8, 5, 3]
    assert m.loc["departments/police", ["rows_read", "rows_loaded", "rows_quarantined"]].tolist() == [5, 3, 2]
    records = _rows(processed, "department_records")
    assert records.groupby("department").size().to_dict() == {"medical": 5, "police": 3}


def test_no_id_numbers_or_names_downstream(checked):
    processed, _s, a, b = checked
    text = "".join(_rows(processed, t).to_csv() for t in ("department_records", "crosscheck_findings", "quarantine"))
    for secret in [*a, *b, "张三", "李四", "王五", "外地人", "吴十", "140524198001019000"]:
        assert secret not in text


def test_an_unknown_department_folder_is_refused(tmp_path):
    raw = tmp_path / "raw"
    a, b = _registry(raw)
    write_csv(raw / "departments" / "tax" / PERIOD / "纳税人.csv", [["张三", a[0]]], headers=["姓名", "身份证号"])
    with pytest.raises(IngestError, match=r"departments/tax: not a known department folder; expected one of medical"):
        ingest(raw, tmp_path / "processed")


def test_a_quarter_without_lists_writes_an_empty_partition_and_says_so(tmp_path):
    raw = tmp_path / "raw"
    _registry(raw)
    ingest(raw, tmp_path / "processed")
    summary = crosscheck(tmp_path / "processed", PERIOD)
    assert summary["findings"] == 0 and "nothing was checked" in summary["note"]
    assert len(_rows(tmp_path / "processed", "crosscheck_findings")) == 0
    lists = _rows(tmp_path / "processed", "crosscheck_lists")
    assert len(lists) == 7 and lists["records"].sum() == 0


def test_findings_enter_the_problem_ledger_with_their_department_as_source(checked, tmp_path):
    from openpyxl import load_workbook

    from pipelines.policy import load_policy
    from pipelines.validate.pipeline import run as validate

    SHEET = load_policy().validate.ledger.sheet

    processed, _s, a, b = checked
    raw = processed.parent / "raw"
    # the hand-made village (tests/ingest/conftest.py) is not in config/regions: the gate's region
    # check fails by design, so the ledger is published as an overridden gate
    validate(processed, PERIOD, docs_dir=tmp_path / "docs", reports_dir=tmp_path / "reports", raw_dir=raw,
             allow_failed_gate=True)
    p = _rows(processed, "problems", "source <> 'registry'")
    got = sorted(zip(p["criterion"], p["source"], p["source_label"], p["status"], p["problem"]))
    assert got == [
        ("dead_in_registry", "police", "公安", "新发现", "公安已注销（死亡），建档立卡仍为家庭成员（2020-05-03）"),
        ("high_out_of_pocket", "medical", "医保", "新发现", "年度个人自付医疗费用超过预警线（2020-06-30）"),
        ("insured_not_enrolled", "medical", "医保", "新发现", "建档立卡显示已参保，医保无参保记录（2020-06-30）"),
        ("insured_not_enrolled", "medical", "医保", "新发现", "建档立卡显示已参保，医保无参保记录（2020-06-30）"),
    ]
    # the registry's own problems keep their source
    assert set(_rows(processed, "problems", "source = 'registry'")["source_label"]) <= {"建档立卡"}
    # the printed 问题清单 names the department under 来源 and the member by name
    book = next((tmp_path / "reports" / PERIOD / "问题清单").glob("*.xlsx"))
    rows = []
    for ws in load_workbook(book, read_only=True).worksheets[1:]:
        values = list(ws.iter_rows(min_row=2, values_only=True))
        header = values[0]
        rows += [dict(zip(header, r)) for r in values[1:]]
    dead = [r for r in rows if r[SHEET["source_label"]] == "公安"]
    assert len(dead) == 1 and dead[0][SHEET["members"]] == "王五：公安已死亡注销，建档立卡仍为家庭成员"


def test_audit_pii_reads_the_department_lists(checked, tmp_path):
    """The audit collects names and IDs from the department lists too: the processed warehouse
    holds none, and a stranger's ID (a person on 公安's list only) copied into an output is found."""
    import shutil

    from pipelines import audit as pii

    processed, _s, _a, _b = checked
    raw = processed.parent / "raw"
    assert pii.audit(raw, processed).ok
    stranger = make_id("140581", "19500101", "771")  # on 公安's list only, never in the registry
    leak = shutil.copytree(processed, tmp_path / "processed", symlinks=True)
    out = tmp_path / "leak.parquet"
    duckdb.connect().execute(f"copy (select '{stranger}' as note) to '{out}' (format parquet)")
    shutil.move(out, leak / "current" / "leak.parquet")
    report = pii.audit(raw, leak)
    assert not report.ok and any("leak.parquet" in h.location and "id" in h.kinds for h in report.hits)


def test_a_death_after_the_quarter_end_is_not_this_quarters_finding(tmp_path):
    """公安's list for 2020Q2 sent late: 李四 died on the quarter's last day (a finding: the
    registry still counts him at the quarter's end), 赵六 on 2020-07-02 (none this quarter: he was
    alive at 2020-06-30, when the registry's membership is taken)."""
    raw = tmp_path / "raw"
    a, b = _registry(raw)
    rows = [["李四", a[1], "男", "崇文派出所", "死亡", "2020-06-30"],
            ["赵六", b[1], "男", "崇文派出所", "死亡", "2020-07-02"]]
    write_csv(raw / "departments" / "police" / PERIOD / "户籍变动_2020Q2.csv", rows, headers=POLICE_HEADERS,
              encoding="utf-8-sig")
    ingest(raw, tmp_path / "processed")
    crosscheck(tmp_path / "processed", PERIOD)
    found = _rows(tmp_path / "processed", "crosscheck_findings")
    assert found[["rule", "person_key"]].values.tolist() == [["dead_in_registry", keys.person_key(a[1])]]
    assert str(found["record_date"].iat[0])[:10] == "2020-06-30"


def test_department_lists_of_a_quarter_without_registry_are_refused_by_crosscheck(tmp_path):
    """Lists for 2020Q3 beside a registry of 2020Q2 only: ingest loads them (the registry may come
    later), but crosscheck of 2020Q3 has nothing to compare with and says so instead of reporting
    0 discrepancies."""
    raw = tmp_path / "raw"
    a, _ = _registry(raw)
    write_csv(raw / "departments" / "police" / "2020Q3" / "户籍变动_2020Q3.csv",
              [["张三", a[0], "男", "崇文派出所", "死亡", "2020-08-01"]], headers=POLICE_HEADERS, encoding="utf-8-sig")
    ingest(raw, tmp_path / "processed")
    with pytest.raises(FileNotFoundError, match=r"crosscheck 2020Q3: no registry persons for 2020Q3 .*data/raw/registry/2020Q3/"):
        crosscheck(tmp_path / "processed", "2020Q3")
