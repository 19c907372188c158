"""No formula in any workbook or CSV we write (pipelines/inert.py): formula-like text injected
through every data text column that reaches one — county, township and village names (regions),
the 帮扶责任人's name, phone and unit (pairings) — comes out as inert text in the 问题清单
workbooks, summary.xlsx and measures.csv."""

from __future__ import annotations

import csv
import re
import shutil
import zipfile
from itertools import cycle

import duckdb
import pytest
from openpyxl import load_workbook

from pipelines import inert, warehouse
from tests.report_runs import without_pngs

PERIOD = "2020Q2"
PAYLOADS = ['=HYPERLINK("http://x","y")', "=1+1", "+1", "-1+1", "@SUM(A1)", "\t=1+1", "\r=1+1"]


def _excel(value):
    """A string cell as Excel reads it: openpyxl leaves xlsxwriter's escape of a CR (_x000D_) as is."""
    return value.replace("_x000D_", "\r") if isinstance(value, str) else value


def _rewrite(path, sql_for: str, out) -> None:
    """Rewrite one Parquet file through a select over `t`."""
    con = duckdb.connect()
    con.execute(f"create table t as select * from read_parquet('{path}')")
    con.execute(f"copy ({sql_for}) to '{path}.new' (format parquet)")
    con.close()
    shutil.move(f"{path}.new", path)


@pytest.fixture(scope="module")
def injected(staged_city, tmp_path_factory):
    """The staged small city with formula-like names and cadre fields, and its workbooks and CSV."""
    from pipelines.measures.pipeline import run as measures
    from pipelines.policy import load_policy
    from pipelines.report.pipeline import run as report
    from pipelines.validate import ledger
    from pipelines.validate.pipeline import build_database

    base = tmp_path_factory.mktemp("inject")
    processed = base / "processed"
    shutil.copytree(staged_city / "processed", processed, symlinks=True)
    payload = cycle(PAYLOADS)
    con = duckdb.connect()
    regions = warehouse.stable_path(processed, "regions")
    codes = [r[0] for r in con.execute(f"select code from read_parquet('{regions}') "
                                       "order by level, code").fetchall()]
    names = {c: next(payload) + c for c in codes}  # every name starts like a formula, all distinct
    con.close()
    values = ", ".join(f"('{c}', '{warehouse.sql_escape(n)}')" for c, n in names.items())
    (processed / "regions").mkdir()
    _rewrite(regions, f"select t.* replace (n.name as name) from t inner join (values {values}) as n(code, name) "
                      "using (code)", processed / "regions" / "data.parquet")
    for period, path in warehouse.partitions(processed, "pairings").items():
        (processed / "pairings" / f"period={period}").mkdir(parents=True)
        _rewrite(path, "select * replace ('=1+1' as cadre_name, '+8613900000000' as cadre_phone, "
                       "'=HYPERLINK(\"http://x\",\"y\")' as cadre_unit) from t",
                 processed / "pairings" / f"period={period}" / "data.parquet")
    warehouse.recover(processed)  # imports the rewritten partitions into a snapshot
    reports = base / "reports"
    with duckdb.connect(str(base / "ledger.duckdb")) as con:
        build_database(con, processed, PERIOD, load_policy())
        books = ledger.write_excel(con, PERIOD, reports / PERIOD / "问题清单")
    measures(processed, PERIOD)
    report(processed, PERIOD, reports / PERIOD, policy=without_pngs())  # no PNGs (tests/report_runs.py)
    books.append(reports / PERIOD / "summary.xlsx")
    return books, warehouse.stable_path(processed, "measures", PERIOD).with_name("measures.csv"), names


def test_the_payloads_reach_the_workbooks(injected):
    books, _csv, names = injected
    values = set()
    for path in books:
        wb = load_workbook(path, read_only=True)
        values |= {_excel(c) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for c in row
                   if isinstance(c, str)}
    assert any(v.startswith("=HYPERLINK") for v in values) and "=1+1" in values
    assert "+8613900000000" in values
    assert {v for v in values if inert.looks_like_formula(v)} & set(names.values())  # region names
    assert {p[:1] for p in (v for v in values if inert.looks_like_formula(v))} == {"=", "+", "-", "@", "\t", "\r"}


def test_no_workbook_holds_a_formula(injected):
    books, _csv, _names = injected
    assert len(books) >= 3
    formula_like = 0
    for path in books:
        with zipfile.ZipFile(path) as zf:
            for member in zf.namelist():
                if member.startswith("xl/worksheets/") and member.endswith(".xml"):
                    assert not re.search(rb"<f[ >/]", zf.read(member)), (path.name, member)
        wb = load_workbook(path)
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", (path.name, ws.title, cell.coordinate)
                    if inert.looks_like_formula(_excel(cell.value)):
                        assert cell.data_type == "s" and cell.quotePrefix, (path.name, ws.title, cell.coordinate)
                        formula_like += 1
    print(f"{formula_like} formula-like cells in {len(books)} workbooks, none a formula")
    assert formula_like >= 100


def test_csv_text_is_inert(injected):
    _books, path, names = injected
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    regions = {r["region_name"] for r in rows if r["region_level"] in ("county", "township", "village")}
    assert regions and all(n.startswith("'") for n in regions)
    assert {n[1:] for n in regions} <= set(names.values())
    for row in rows:
        for value in row.values():
            if value and value[0] in "=+-@\t\r":
                float(value)  # only numbers may start so (a negative estimate): never text


def test_inert_rules():
    assert [inert.csv_text(v) for v in ("=1+1", "+1", "-1", "@A", "\t=1", "a=1", "", None, 5)] == \
        ["'=1+1", "'+1", "'-1", "'@A", "'\t=1", "a=1", "", None, 5]
