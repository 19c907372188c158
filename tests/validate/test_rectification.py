"""A 问题清单 sheet a township returns filled in is read back by `povmon ingest` (every row loaded or
quarantined with a reason) and changes the next quarter's ledger: a problem reported rectified but
still failing is 已报整改仍未达标, a rectified one cites the report. Sample city, 2020Q1 -> 2020Q2."""

from __future__ import annotations

import datetime as dt
import shutil

import duckdb
import pytest
from openpyxl import load_workbook

from pipelines import warehouse
from pipelines.ingest.pipeline import run as ingest
from pipelines.policy import load_policy
from pipelines.risk.cards import raw_roster
from pipelines.validate.pipeline import run as validate

SHEET = load_policy().validate.ledger.sheet
MEASURE_FIXED = "已为该户接入集中供水管网"
MEASURE_FAILED = "已发放补助并完成整改"


def _q(sql: str) -> list[tuple]:
    with duckdb.connect() as con:
        return con.execute(sql).fetchall()


def _problem(processed, period: str, status: str) -> tuple[str, str, str]:
    """(household_key, criterion, criterion_label) of the first problem of the period with `status`."""
    rows = _q(f"select household_key, criterion, criterion_label from "
              f"read_parquet('{warehouse.stable_path(processed, 'problems', period)}') "
              f"where status = '{status}' and source = 'registry' order by household_key, criterion limit 1")
    assert rows, f"the sample city has no {status} problem in {period}"
    return rows[0]


def _find(books, household_id: str, label: str):
    """(workbook path, sheet name, row number) of a problem's row in the 2020Q1 ledgers."""
    for book in books:
        wb = load_workbook(book, read_only=True)
        for ws in wb.worksheets[1:]:
            rows = list(ws.iter_rows(min_row=2, values_only=True))
            header = rows[0]
            at_id, at_label = header.index(SHEET["household_id"]), header.index(SHEET["criterion_label"])
            for i, row in enumerate(rows[1:], start=3):
                if row[at_id] == household_id and row[at_label] == label:
                    return book, ws.title, i
    raise AssertionError(f"{household_id} {label} not in the 2020Q1 问题清单")


@pytest.fixture(scope="module")
def returned(staged_city, tmp_path_factory):
    root = tmp_path_factory.mktemp("returned")
    processed = shutil.copytree(staged_city / "processed", root / "processed", symlinks=True)
    raw = root / "raw"
    raw.mkdir()
    for kind in ("registry", "pairing", "survey", "reference"):
        (raw / kind).symlink_to(staged_city / "raw" / kind, target_is_directory=True)
    before = {r[:2]: r[2] for r in _q(
        f"select household_key, criterion, status from "
        f"read_parquet('{warehouse.stable_path(processed, 'problems', '2020Q2')}')")}
    still = _problem(processed, "2020Q2", "持续")  # open in Q1, failing in Q2: reported fixed anyway
    fixed = _problem(processed, "2020Q2", "已整改")  # open in Q1, fixed by Q2
    ids = raw_roster("2020Q1", raw).households.set_index("household_key")["household_id"]
    books = sorted((staged_city / "reports" / "2020Q1" / "问题清单").glob("*.xlsx"))
    out = raw / "rectification" / "2020Q1"
    out.mkdir(parents=True)
    filled: dict = {}
    still_sheet = None
    for (hkey, _criterion, label), measure, unit, done in (
            (still, MEASURE_FAILED, "乡镇民政办", dt.datetime(2020, 4, 20)),
            (fixed, MEASURE_FIXED, "县水务局", dt.datetime(2020, 5, 6))):
        book, sheet, row = _find(books, ids[hkey], label)
        still_sheet = still_sheet or sheet  # the sheet of `still`: the bad rows go there
        path = out / f"返回_{book.name}"
        if path not in filled:
            shutil.copy(book, path)
            filled[path] = load_workbook(path)
        ws = filled[path][sheet]
        header = [c.value for c in ws[2]]
        for col, value in (("measure", measure), ("responsible_unit", unit), ("completed_on", done)):
            ws.cell(row=row, column=header.index(SHEET[col]) + 1, value=value)
    # two rows a township got wrong: a category that is no criterion, a completion date that is no date
    path, wb = next(iter(filled.items()))
    ws = wb[still_sheet]  # a sheet with registry problems (a township may have only department findings)
    header = [c.value for c in ws[2]]
    for label, done in (("其他问题", "2020-04-01"), (still[2], "上个月")):
        values = {SHEET["household_id"]: ids[still[0]], SHEET["criterion_label"]: label,
                  SHEET["measure"]: "见附件", SHEET["responsible_unit"]: "村委会", SHEET["completed_on"]: done}
        ws.append([values.get(h) for h in header])
    for p, book in filled.items():
        book.save(p)
    data_rows = sum(ws.max_row - 2 for p in filled for ws in load_workbook(p).worksheets[1:])
    summary = ingest(raw_dir=raw, processed_dir=processed, periods=["2020Q1"])
    after = validate(processed, "2020Q2", docs_dir=root / "docs", reports_dir=root / "reports", raw_dir=raw)
    return dict(processed=processed, root=root, still=still, fixed=fixed, before=before, ingest=summary,
                validate=after, data_rows=data_rows, ids=ids)


def test_every_returned_row_is_loaded_or_quarantined(returned):
    processed = returned["processed"]
    (manifest,) = _q(f"select sum(rows_read), sum(rows_loaded), sum(rows_quarantined) from "
                     f"read_parquet('{warehouse.stable_path(processed, 'ingest_manifest')}') "
                     "where source_kind = 'rectification'")
    assert manifest == (returned["data_rows"], returned["data_rows"] - 2, 2)
    reasons = _q(f"select reason, column_name from "
                         f"read_parquet('{warehouse.stable_path(processed, 'quarantine', '2020Q1')}') "
                         "where source_kind = 'rectification' order by 1")
    assert reasons == [("bad_completion_date", SHEET["completed_on"]), ("unknown_criterion", SHEET["criterion_label"])]
    loaded = _q(f"select household_key, criterion, completed_on, measure_given from "
                        f"read_parquet('{warehouse.stable_path(processed, 'rectification', '2020Q1')}')")
    assert len(loaded) == returned["data_rows"] - 2
    reported = {(k, c): (d, m) for k, c, d, m in loaded}
    assert reported[returned["still"][:2]] == (dt.date(2020, 4, 20), True)
    assert reported[returned["fixed"][:2]] == (dt.date(2020, 5, 6), True)
    # rows the township left empty are loaded too, with nothing reported
    assert sum(1 for d, m in reported.values() if d is None and not m) == len(loaded) - 2


def test_the_next_quarter_cites_the_returned_sheet(returned):
    processed, still, fixed = returned["processed"], returned["still"], returned["fixed"]
    rows = {r[:2]: r[2:] for r in _q(
        "select household_key, criterion, status, is_open, rectification_period, rectification_completed_on "
        f"from read_parquet('{warehouse.stable_path(processed, 'problems', '2020Q2')}')")}
    assert rows[still[:2]] == ("已报整改仍未达标", True, "2020Q1", dt.date(2020, 4, 20))
    assert rows[fixed[:2]] == ("已整改", False, "2020Q1", dt.date(2020, 5, 6))
    changed = {k for k, v in rows.items() if v[0] != returned["before"][k]}
    assert changed == {still[:2]}  # nothing else moved
    assert returned["validate"]["ledger"]["printed"]["reports_cited"] == 2

    cited = {}
    for book in (returned["root"] / "reports" / "2020Q2" / "问题清单").glob("*.xlsx"):
        for ws in load_workbook(book, read_only=True).worksheets[1:]:
            rows_ = list(ws.iter_rows(min_row=2, values_only=True))
            h = rows_[0]
            for r in rows_[1:]:
                cited[(r[h.index(SHEET["household_id"])], r[h.index(SHEET["criterion_label"])])] = (
                    r[h.index(SHEET["status"])], r[h.index(SHEET["previous_rectification"])])
    ids = returned["ids"]
    assert cited[(ids[fixed[0]], fixed[2])] == ("已整改", f"2020Q1清单反馈：2020-05-06完成；措施：{MEASURE_FIXED}；责任单位：县水务局")
    status, text = cited[(ids[still[0]], still[2])]
    assert status == "已报整改仍未达标" and "2020-04-20完成" in text and MEASURE_FAILED in text


def test_the_measures_stay_in_raw(returned):
    """The free text a township wrote is read at print time: no processed file holds it."""
    for f in returned["processed"].rglob("*"):
        if f.is_file() and not f.is_symlink():
            data = f.read_bytes()
            assert MEASURE_FIXED.encode() not in data and MEASURE_FAILED.encode() not in data, f
