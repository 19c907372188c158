"""IDs, 户编号 and phones a spreadsheet turned into numbers: quarantined as id_damaged_by_spreadsheet
in every format (xlsx number cells, numeric .dta / .sav / Parquet columns, CSV text shaped by a
number), never loaded as a plausible fake, never a duplicate_person, never a source of sex or
birth date; the quarantine names file, sheet, row and column but no digit of the value."""

from __future__ import annotations

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pyreadstat
import pytest
import xlsxwriter

from pipelines import idcard, keys
from pipelines.ingest.pipeline import run
from pipelines.policy import load_policy
from pipelines.synth.writers import stat_name
from tests.ingest.conftest import HEADERS, household, make_id, person, write_csv

REASON = "id_damaged_by_spreadsheet"


# these files are quarantined whole on purpose: the per-file quarantine limit is lifted
LIFTED = load_policy(overrides={"thresholds": {"ingest": {"max_quarantined_share": 1.0}}})


def _ingest(raw, tmp_path):
    summary = run(raw, tmp_path / "processed", policy=LIFTED)
    con = duckdb.connect(str(tmp_path / "processed" / "povmon.duckdb"), read_only=True)
    return summary, con


def _rows(con, sql, *params):
    return con.execute(sql, list(params)).fetchall()


def _frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([[r.get(h, "") for h in HEADERS] for r in rows], columns=HEADERS)


def _no_value_in_processed(tmp_path, values):
    blobs = b"\n".join(p.read_bytes() for p in (tmp_path / "processed").rglob("*") if p.is_file())
    texts = []
    con = duckdb.connect()
    for p in (tmp_path / "processed").rglob("*.parquet"):
        texts += [str(v) for row in con.execute("select * from read_parquet(?)", [str(p)]).fetchall() for v in row]
    text = "\n".join(texts)
    for v in values:
        assert v not in text and v.encode() not in blobs, v


def test_float_ids_in_a_stata_file_are_quarantined_not_guessed(tmp_path):
    # two members whose 18-digit IDs differ in the last digits: as float64 they are the same number
    hh = household("1405241002000001")
    ids = [make_id("140524", "19820202", f"{s:03d}") for s in range(20, 40)]
    hh[1]["证件号码"], hh[2]["证件号码"] = next((a, b) for a in ids for b in ids if a < b and "X" not in a + b
                                            and float(a) == float(b))
    frame = _frame(hh)
    frame["证件号码"] = [float(v.replace("X", "0")) for v in frame["证件号码"]]  # as a Stata double
    names = {h: stat_name(h) for h in HEADERS}
    frame.columns = [names[h] for h in HEADERS]
    path = tmp_path / "raw/registry/2020Q4/140524_陵川县_a.dta"
    path.parent.mkdir(parents=True)
    frame.to_stata(path, version=118, write_index=False,
                   variable_labels={names[h]: h for h in HEADERS if names[h] != h})
    _summary, con = _ingest(tmp_path / "raw", tmp_path)
    got = _rows(con, "select source_row, reason, column_name, detail from quarantine order by 1")
    assert [(r[0], r[1], r[2]) for r in got] == [(2, REASON, "证件号码"), (3, REASON, "证件号码"), (4, REASON, "证件号码")]
    assert all(r[3].startswith("a number cell, not text") and "re-export the column as text" in r[3] for r in got)
    assert _rows(con, "select count(*) from persons") == [(0,)]
    assert _rows(con, "select count(*) from quarantine where reason = 'duplicate_person'") == [(0,)]
    assert _rows(con, "select count(*) from findings where reason like 'id_%' or reason like 'duplicate%'") == [(0,)]
    assert _rows(con, "select rows_read, rows_loaded, rows_quarantined from ingest_manifest") == [(3, 0, 3)]
    # the damaged digits a float made up appear nowhere, nor the IDs themselves
    made_up = [str(int(v)) for v in frame[names["证件号码"]]]
    _no_value_in_processed(tmp_path, made_up + [r["证件号码"] for r in hh])


def test_numeric_household_number_in_an_spss_file_is_quarantined(tmp_path):
    hh = household("1405241002000001")
    frame = _frame(hh)
    frame["户编号"] = frame["户编号"].astype("float64")  # SPSS numeric: 16 digits, one float can hold
    names = {h: stat_name(h) for h in HEADERS}
    frame.columns = [names[h] for h in HEADERS]
    path = tmp_path / "raw/registry/2020Q4/140524_陵川县_a.sav"
    path.parent.mkdir(parents=True)
    pyreadstat.write_sav(frame, str(path), column_labels={names[h]: h for h in HEADERS})
    _summary, con = _ingest(tmp_path / "raw", tmp_path)
    assert _rows(con, "select source_row, reason, column_name from quarantine order by 1") == [
        (2, REASON, "户编号"), (3, REASON, "户编号"), (4, REASON, "户编号")]
    assert _rows(con, "select count(*) from households") == [(0,)]


def test_xlsx_number_cells_in_id_columns_are_quarantined_where_they_are(tmp_path):
    """A title row, data from column C: the number cells are found on their Excel rows."""
    hh = household("1405241002000001")
    hh2 = household("1405241002000002", seq0=20, names=("赵一", "赵二", "赵三"))
    rows = [*hh, *hh2]
    path = tmp_path / "raw/registry/2020Q4/140524_陵川县_a.xlsx"
    path.parent.mkdir(parents=True)
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("成员")
    ws.write_string(1, 2, "陵川县建档立卡贫困人口信息表")  # C2: title; row 1 and columns A-B empty
    ws.write_row(2, 2, HEADERS)  # header on Excel row 3
    for i, r in enumerate(rows):
        for j, h in enumerate(HEADERS):
            ws.write_string(3 + i, 2 + j, r[h])
    idc, phone, hid = (2 + HEADERS.index(h) for h in ("证件号码", "联系电话", "户编号"))
    ws.write_number(4, idc, float(hh[1]["证件号码"]))  # Excel row 5: an ID typed as a number
    ws.write_number(7, phone, 13912345671)  # Excel row 8: a phone typed as a number
    ws.write_number(8, hid, 1405241002000002)  # Excel row 9: 户编号 as a number (16 digits)
    wb.close()
    _summary, con = _ingest(tmp_path / "raw", tmp_path)
    got = _rows(con, "select sheet, source_row, reason, column_name from quarantine order by 2")
    assert got == [("成员", 5, REASON, "证件号码"), ("成员", 8, REASON, "联系电话"), ("成员", 9, REASON, "户编号")]
    loaded = _rows(con, "select source_row, relation from persons order by 1")
    assert loaded == [(4, "head"), (6, "son"), (7, "head")]
    assert _rows(con, "select rows_read, rows_loaded, rows_quarantined from ingest_manifest") == [(6, 3, 3)]
    # the remaining head of household 2 is loaded; the member count shows two members missing
    assert _rows(con, "select household_size, member_count from households where household_key = ?",
                 keys.household_key("1405241002000002")) == [(3, 1)]


@pytest.mark.parametrize("cell,shape", [
    ("1.40524198E+17", "scientific notation (9 significant digits)"),
    ("1.4052419800101E+17", "scientific notation (14 significant digits)"),
    ("140524198001010000.0", "a number with a decimal part"),
])
def test_csv_text_shaped_by_a_number_is_quarantined(tmp_path, cell, shape):
    hh = household()
    hh[1]["证件号码"] = cell
    write_csv(tmp_path / "raw/registry/2020Q4/140524_a.csv", hh)
    _summary, con = _ingest(tmp_path / "raw", tmp_path)
    assert _rows(con, "select source_row, reason, column_name, detail from quarantine") == [
        (3, REASON, "证件号码", f"{shape}; re-export the column as text")]
    assert _rows(con, "select count(*) from persons") == [(2,)]


def test_a_phone_written_as_a_float_is_quarantined(tmp_path):
    hh = household()
    hh[2]["联系电话"] = "13912345673.0"
    write_csv(tmp_path / "raw/registry/2020Q4/140524_a.csv", hh)
    _summary, con = _ingest(tmp_path / "raw", tmp_path)
    assert _rows(con, "select source_row, column_name, detail from quarantine") == [
        (4, "联系电话", "a number with a decimal part; re-export the column as text")]


def _id_ending_in_000(county: str) -> str:
    return next(i for i in (make_id(county, "19800101", f"{s:03d}") for s in range(1000)) if i.endswith("000"))


def test_ids_ending_in_000(tmp_path):
    """Excel keeps 15 significant digits: 140524198001011234 typed as a number shows 140524198001011000.
    One that fails the check digit is damaged; one that passes is a real ID (about 1 in 1 100 end
    in 000) unless the column of its file shows the damage elsewhere."""
    real = _id_ending_in_000("140524")
    assert idcard.is_valid(real)
    clean = household("H1")
    clean[0]["证件号码"] = real
    write_csv(tmp_path / "raw/registry/2020Q4/140524_a.csv", clean)
    failing = household("H2", seq0=20, names=("钱一", "钱二", "钱三"))
    failing[1]["证件号码"] = "140581198202020000"
    assert not idcard.is_valid(failing[1]["证件号码"])
    write_csv(tmp_path / "raw/registry/2020Q4/140581_b.csv", failing)
    damaged_file = household("H3", seq0=30, names=("孙一", "孙二", "孙三"))
    damaged_file[0]["证件号码"] = _id_ending_in_000("140525")
    damaged_file[1]["证件号码"] = "1.40525198202E+17"
    write_csv(tmp_path / "raw/registry/2020Q4/140525_c.csv", damaged_file)
    _summary, con = _ingest(tmp_path / "raw", tmp_path)
    got = _rows(con, "select source_file, source_row, detail from quarantine order by 1, 2")
    hint = "; re-export the column as text"
    assert got == [
        ("registry/2020Q4/140525_c.csv", 2,
         "18 digits ending in 000, in a column the spreadsheet damaged elsewhere in this file" + hint),
        ("registry/2020Q4/140525_c.csv", 3, "scientific notation (12 significant digits)" + hint),
        ("registry/2020Q4/140581_b.csv", 3,
         "18 digits ending in 000 that fail the check digit (a spreadsheet keeps 15 significant digits)" + hint),
    ]
    # the real ID ending in 000 is a person, with sex (17th digit 0: female) and age (born 1980-01-01) from it
    assert _rows(con, "select sex, age, id_valid from persons where person_key = ?",
                 keys.person_key(real)) == [("female", 40, True)]


def test_a_numeric_parquet_id_column_is_damaged(tmp_path):
    frame = _frame(household())
    table = pa.table({h: (pa.array([float(v.replace("X", "0")) for v in frame[h]], pa.float64()) if h == "证件号码"
                          else pa.array(frame[h].tolist(), pa.string())) for h in HEADERS})
    path = tmp_path / "raw/registry/2020Q4/140524_a.parquet"
    path.parent.mkdir(parents=True)
    pq.write_table(table, path)
    _summary, con = _ingest(tmp_path / "raw", tmp_path)
    assert _rows(con, "select count(*), min(reason), min(column_name) from quarantine") == [(3, REASON, "证件号码")]


def test_warning_names_file_column_and_rows_without_values(tmp_path):
    hh = household()
    hh[0]["证件号码"] = "1.40524198E+17"
    hh[1]["证件号码"] = "1.40524198E+17"
    write_csv(tmp_path / "raw/registry/2020Q4/140524_a.csv", [*hh, person("H9", "H901", "孙九", make_id(
        "140524", "19900101", "991"), "男", "19900101", "户主", size=1)])
    summary, _con = _ingest(tmp_path / "raw", tmp_path)
    assert summary["warnings"] == [
        "registry/2020Q4/140524_a.csv, column 证件号码: 2 cells stored as or shaped like numbers (rows 2–3) "
        "quarantined as id_damaged_by_spreadsheet; re-export the column as text"]
    assert summary["quarantined"] == {REASON: 2}


def _through_a_float(id18: str) -> str:
    """What a reader writes for an 18-digit ID a spreadsheet held as a double: the double's exact digits."""
    return str(int(float(id18)))


def _float_damaged(county: str, birth: str, passes: bool) -> tuple[str, str]:
    """(real ID, its float-damaged form) whose damaged form passes / fails the check digit."""
    for s in range(1000):
        real = make_id(county, birth, f"{s:03d}")
        if real.endswith("X"):
            continue
        damaged = _through_a_float(real)
        if damaged != real and not damaged.endswith("000") and idcard.is_valid(damaged) == passes:
            return real, damaged
    raise AssertionError("no such ID")


def test_ids_a_float_held_exactly_are_damaged_never_a_plausible_fake(tmp_path):
    """140524198001010123 as a double is 140524198001010112: 18 digits nobody wrote. In a column
    whose IDs mostly are such (it went through a float) every one is damaged, whether it fails the
    check digit or passes it (1 in 11), so none loads as a person with a sex its 17th digit made
    up. A real ID that happens to be such a multiple, in a clean column, is loaded."""
    real_a, fails = _float_damaged("140524", "19800101", passes=False)
    real_b, passes = _float_damaged("140524", "19820202", passes=True)
    assert float(fails) == float(real_a) and float(passes) == float(real_b)  # the float cannot tell them apart
    hh = household("H1")
    hh[0]["证件号码"], hh[1]["证件号码"] = fails, passes  # 2 of 3 IDs of the column: it went through a float
    write_csv(tmp_path / "raw/registry/2020Q4/140524_a.csv", hh)
    _summary, con = _ingest(tmp_path / "raw", tmp_path)
    got = _rows(con, "select source_row, reason, column_name, detail from quarantine order by 1")
    hint = "; re-export the column as text"
    assert got == [
        (2, REASON, "证件号码", "18 digits a float holds exactly, in a column whose IDs mostly are such "
                                "(it went through a float)" + hint),
        (3, REASON, "证件号码", "18 digits a float holds exactly, in a column whose IDs mostly are such "
                                "(it went through a float)" + hint),
    ]
    # no person was made from either: no sex, birth date or key derived from a damaged ID
    assert _rows(con, "select count(*) from persons where person_key in (?, ?)",
                 keys.person_key(fails), keys.person_key(passes)) == [(0,)]
    assert _rows(con, "select count(*) from persons") == [(1,)]
    _no_value_in_processed(tmp_path, [fails, passes])


def test_a_real_id_a_float_holds_exactly_loads_in_a_clean_column(tmp_path):
    real = next(i for i in (make_id("140524", "19800101", f"{s:03d}") for s in range(1000))
                if not i.endswith(("X", "000")) and str(int(float(i))) == i)
    hh = household("H1")
    hh[0]["证件号码"] = real  # one of three: a clean column
    write_csv(tmp_path / "raw/registry/2020Q4/140524_a.csv", hh)
    _summary, con = _ingest(tmp_path / "raw", tmp_path)
    assert _rows(con, "select count(*) from quarantine") == [(0,)]
    assert _rows(con, "select sex, id_valid from persons where person_key = ?", keys.person_key(real)) == [
        ("male" if int(real[16]) % 2 else "female", True)]
