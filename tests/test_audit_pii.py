"""`povmon audit-pii`: the sample city's outputs (processed tables, reports with 问题清单 workbooks
and Data Docs, the quarterly summary, 明白卡) hold no personal value from data/raw; a name, ID or
phone planted into a table, a workbook cell or a page is found and the place named, never the value."""

from __future__ import annotations

import shutil

import duckdb
import pyarrow as pa
import pytest
from openpyxl import load_workbook

from pipelines import audit as pii
from pipelines.cli import main
from pipelines.policy import load_policy
from tests.ingest.conftest import HEADERS, household, make_id, write_csv
from tests.report_runs import without_pngs

PERIOD = "2020Q2"


@pytest.fixture(scope="module")
def city_outputs(staged_city, tmp_path_factory):
    """The staged small city plus its 2020Q2 summary and the 明白卡 of its busiest village."""
    from pipelines.report.pipeline import run as report
    from pipelines.risk.cards import write_cards

    out = tmp_path_factory.mktemp("audit")
    shutil.copytree(staged_city / "reports", out / "reports")
    report(staged_city / "processed", PERIOD, out / "reports" / PERIOD, policy=without_pngs())  # no PNGs: report_runs.py
    con = duckdb.connect(str(staged_city / "processed" / "povmon.duckdb"), read_only=True)
    village = con.execute("select village_code from risk where period = ? group by 1 order by count(*) desc, 1 "
                          "limit 1", [PERIOD]).fetchone()[0]
    con.close()
    cards = write_cards(staged_city / "processed", PERIOD, village, raw_dir=staged_city / "raw",
                        out_dir=out / "cards", pdf=False)
    assert cards
    return staged_city, out


def _run(capsys, raw, processed, reports, cards) -> tuple[int, str]:
    code = main(["audit-pii", "--raw", str(raw), "--processed", str(processed), "--reports", str(reports),
                 "--cards", str(cards)])
    return code, capsys.readouterr().out


def test_the_sample_city_passes(city_outputs, capsys):
    city, out = city_outputs
    books = list((out / "reports").rglob("问题清单/*.xlsx"))
    assert books and (out / "reports" / PERIOD / "summary.html").exists()
    code, text = _run(capsys, city / "raw", city / "processed", out / "reports", out / "cards")
    assert code == 0, text
    report = pii.audit(city / "raw", city / "processed", out / "reports", out / "cards")
    s = report.summary()
    assert s["hits"] == 0
    # the ledgers, summary.xlsx and 交总账_<q>.xlsx, and povmon tasks' per-unit workbooks
    tracker = list((out / "reports").rglob("整改清单/*.xlsx"))
    assert s["scanned"]["parquet"] >= 40 and s["scanned"]["workbooks"] == len(books) + len(tracker) + 2
    assert s["excused_cells"]["head_name"] >= 1  # the cards and the ledger print the head's name (read from raw)
    assert s["excused_cells"]["printed"] >= 1  # and members' names and 户编号 (read from raw)
    assert s["excused_cells"]["cadre_contact"] >= 1  # pairings.cadre_name / cadre_phone
    assert s["raw_values"]["name"] > 1000 and s["raw_values"]["phone"] > 100


@pytest.fixture(scope="module")
def planted(city_outputs, tmp_path_factory):
    """A copy of the outputs with a member's name, ID and phone planted in a table, a workbook and a page."""
    city, out = city_outputs
    raw = pii.read_raw_values(city / "raw")
    heads, cadres = raw.values(["head"]), raw.values(["cadre"])
    name = sorted(raw.values(["name"]) - heads - cadres)[0]
    head = sorted(heads - cadres)[0]
    numbers = raw.values(["household_id", "person_id"])
    id_number = sorted(v for v in raw.values(["id"]) - numbers if len(v) == 18)[0]
    phone = sorted(raw.values(["phone"]) - cadres)[0]
    base = tmp_path_factory.mktemp("planted")
    shutil.copytree(city / "processed", base / "processed")
    shutil.copytree(out / "reports", base / "reports")
    shutil.copytree(out / "cards", base / "cards")
    # a processed table: the phone inside a sentence, the ID inside a longer number, the name alone
    table = base / "processed" / "notes" / f"period={PERIOD}" / "data.parquet"
    table.parent.mkdir(parents=True)
    con = duckdb.connect()
    con.register("t", pa.table({"comment": ["核实后回电" + phone + "。", "正常"], "ref": ["00" + id_number + "7", "1"],
                                "who": [name, None]}))
    con.execute(f"copy t to '{table}' (format parquet)")
    # workbooks: a member's ID number in a 问题清单 cell (names and 户编号 only may be there), a head's
    # name in summary.xlsx
    ledger = sorted((base / "reports").rglob("问题清单/*.xlsx"))[0]
    wb = load_workbook(ledger)
    wb.worksheets[-1]["C3"] = id_number
    wb.save(ledger)
    summary = base / "reports" / PERIOD / "summary.xlsx"
    wb = load_workbook(summary)
    wb.worksheets[1]["B7"] = head
    wb.save(summary)
    # a page: the ID as text, the name as a JSON-escaped string (as Plotly writes)
    page = base / "reports" / PERIOD / "summary.html"
    escaped = "".join(f"\\u{ord(ch):04x}" for ch in name)
    page.write_text(page.read_text(encoding="utf-8") + f"<p>证件 {id_number}</p><script>var n = \"{escaped}\";</script>",
                    encoding="utf-8")
    return city, base, {"name": name, "head": head, "id": id_number, "phone": phone,
                        "household_id": sorted(raw.values(["household_id"]) - raw.values(["person_id"]))[0]}, ledger


def _sheet(path, index: int) -> str:
    return load_workbook(path, read_only=True).worksheets[index].title


def test_planted_values_are_found_and_named(planted, capsys):
    city, base, values, ledger = planted
    code, text = _run(capsys, city / "raw", base / "processed", base / "reports", base / "cards")
    assert code == 1
    hits = {}  # "location | column" (or "location" for a page) -> kinds and counts
    for line in text.splitlines():
        if line.startswith("personal data: "):
            parts = line.removeprefix("personal data: ").split(" | ")
            hits[" | ".join(parts[:-2])] = parts[-2]
    notes = f"processed/notes/period={PERIOD}/data.parquet"
    summary = base / "reports" / PERIOD / "summary.xlsx"
    assert hits == {
        f"{notes} | column comment": "联系电话 phone",  # inside a sentence
        f"{notes} | column ref": "证件号码 ID number",  # inside a longer number
        f"{notes} | column who": "姓名 name",
        f"reports/{ledger.relative_to(base / 'reports').as_posix()} | column sheet {_sheet(ledger, -1)}!C":
            "证件号码 ID number",
        f"reports/{PERIOD}/summary.xlsx | column sheet {_sheet(summary, 1)}!B": "姓名 name",  # a head, outside
        f"reports/{PERIOD}/summary.html": "证件号码 ID number, 姓名 name",  # text and a JSON-escaped string
    }
    for value in values.values():
        assert value not in text  # the report names places, never the personal value


def test_names_and_household_numbers_are_allowed_only_on_cards_and_in_the_ledger(planted):
    """config/audit.toml [exceptions]: in a 问题清单 workbook the head's and members' names and the
    户编号 are excused; an ID number there is not, and none of them is excused elsewhere."""
    city, base, values, ledger = planted
    wb = load_workbook(ledger)
    for cell, kind in (("C4", "head"), ("C5", "name"), ("C6", "household_id")):
        wb.worksheets[-1][cell] = values[kind]
    wb.save(ledger)
    summary = base / "reports" / PERIOD / "summary.xlsx"
    wb = load_workbook(summary)
    wb.worksheets[1]["B8"] = values["household_id"]
    wb.save(summary)
    report = pii.audit(city / "raw", base / "processed", base / "reports", base / "cards")
    ledger_loc = f"reports/{ledger.relative_to(base / 'reports').as_posix()}"
    in_ledger = [h for h in report.hits if h.location == ledger_loc]
    assert [(h.kinds, h.cells) for h in in_ledger] == [(["id"], 1)]  # the planted ID number only
    outside = {k for h in report.hits if h.location.endswith("summary.xlsx") for k in h.kinds}
    assert {"name", "household_id"} <= outside  # the head's name and the 户编号 outside: hits


# ---- the matching rules, on hand-written raw values ---------------------------------------------------

def _auditor(rows: list[tuple[str, str]]) -> pii.Auditor:
    table = pa.table({"value": [v for v, _k in rows], "kind": [k for _v, k in rows]})
    return pii.Auditor(pii.RawValues(table), pii.settings(load_policy()))


@pytest.mark.parametrize("text, found", [
    ("王平", True), ("户主王平，9岁", False), ("王平，9岁", True), ("太王平原", False), ("<td>王平</td>", True),
    ("编号140524199001015611号", True), ("x14052419900101561199", True), ("1405241990010156", False),
    ("电话：139-1234-5678", True), ("139 1234 5678", True), ("电话13912345678。", True), ("H0001", False), ("户H00012345", True),
])
def test_tokens_and_windows(text, found):
    auditor = _auditor([("王平", "name"), ("140524199001015611", "id"), ("13912345678", "phone"),
                        ("H00012345", "household_id")])
    try:
        auditor.scan_cells("x", [("c", text)])
        assert bool(auditor.report.hits) is found, text
    finally:
        auditor.close()


def test_raw_values_include_a_displaced_rows_name_and_phone(tmp_path):
    rows = household("H1405241")
    rows[0]["姓名"], rows[0]["联系电话"] = "欧阳娜娜", "13912340001"
    cells = [rows[0].get(h, "") for h in HEADERS]
    at = HEADERS.index("户编号")
    shifted = cells[:at] + [""] + cells[at:]  # name under 证件号码, ID under 性别, phone past the last header
    lower_x = rows[1]
    lower_x["证件号码"] = make_id("140524", "19820202", "202")[:17] + "x"
    write_csv(tmp_path / "raw" / "registry" / "2020Q4" / "a.csv", [shifted, lower_x, rows[2]])
    raw = pii.read_raw_values(tmp_path / "raw")
    assert "欧阳娜娜" in raw.values(["name"]) and "13912340001" in raw.values(["phone"])
    assert rows[0]["证件号码"] in raw.values(["id"])
    assert lower_x["证件号码"].upper() in raw.values(["id"])
    assert {"H1405241", "H140524103"} <= raw.values(["household_id", "person_id"])


def test_a_page_is_read_as_text_with_escapes_decoded(tmp_path):
    page = tmp_path / "p.html"
    page.write_text('<td>王平</td><p>电话 139-1234-5678</p><script>"\\u5f20\\u4e09"</script>&#x674e;&#x56db;',
                    encoding="utf-8")
    auditor = _auditor([("王平", "name"), ("13912345678", "phone"), ("张三", "name"), ("李四", "name")])
    try:
        auditor.scan_file(page, "page", print_ok=False)
        assert [(h.kinds, h.cells, h.values) for h in auditor.report.hits] == [(["name", "phone"], 4, 4)]
    finally:
        auditor.close()


def test_a_displaced_rows_household_number_printed_in_the_ledger_is_no_hit(tmp_path):
    """In a displaced (column-shifted) row the 户编号 stands under 人编号 and the 人编号 one cell on:
    those cells are guesses. Taken as a 人编号 too, the household's 户编号 printed in a 问题清单 (where
    户编号 are excused) was a hit. Read by header from the household's other rows it is a 户编号
    only; the displaced row's own 人编号 stays a 人编号, a hit when printed anywhere."""
    from openpyxl import Workbook

    hh = "1405241002000007"
    rows = household(hh)
    cells = [rows[1].get(h, "") for h in HEADERS]
    at = HEADERS.index("户编号")
    write_csv(tmp_path / "raw" / "registry" / "2020Q4" / "a.csv", [rows[0], cells[:at] + [""] + cells[at:], rows[2]])
    raw = pii.read_raw_values(tmp_path / "raw")
    assert hh in raw.values(["household_id"]) and hh not in raw.values(["person_id"])
    assert rows[1]["人编号"] in raw.values(["person_id"])  # the displaced row's, found one cell over

    book = tmp_path / "reports" / "2020Q4" / "问题清单" / "140524.xlsx"
    book.parent.mkdir(parents=True)
    wb = Workbook()
    wb.active.append([hh, rows[1]["人编号"]])
    wb.save(book)
    report = pii.audit(tmp_path / "raw", tmp_path / "processed", tmp_path / "reports")
    assert [(h.column, "person_id" in h.kinds, h.cells) for h in report.hits] == [("sheet Sheet!B", True, 1)]
    # excused: the 户编号 in A, and in B the 户编号 inside the 人编号 (its first 16 digits: a window)
    assert report.excused["printed"] == 2


def test_a_pages_unchanged_plotly_library_is_not_read_but_a_changed_copy_is(tmp_path):
    """The summary page embeds plotly.js (~4.6 MB) verbatim: a <script> block byte-identical to the
    installed library is left out (counted); a block that differs, or data after it, is read."""
    from plotly.offline import get_plotlyjs

    js = get_plotlyjs()
    pages = {
        "same.html": f'<script type="text/javascript">{js}</script><td>王平</td>',
        "changed.html": f'<script type="text/javascript">{js[:5000]}"王平"{js[5000:]}</script>',
        "appended.html": f'<script>{js};var who = "\\u738b\\u5e73";</script>',
    }
    auditor = _auditor([("王平", "name"), ("13912345678", "phone")])
    try:
        for name, text in pages.items():
            (tmp_path / name).write_text(text, encoding="utf-8")
            auditor.scan_file(tmp_path / name, name, print_ok=False)
        report = auditor.report
        assert [(h.location, h.kinds, h.cells) for h in report.hits] == [
            ("same.html", ["name"], 1), ("changed.html", ["name"], 1), ("appended.html", ["name"], 1)]
        assert report.libraries == {"plotly.js": 1}
    finally:
        auditor.close()


@pytest.mark.parametrize("pending_rows", [1, 10_000])
def test_places_matched_together_keep_their_own_names_and_exceptions(monkeypatch, pending_rows):
    """Cells of several places are matched in one batch (or one place per batch): each hit still
    names its own place, in scan order, and the print-time exception holds only where it applies."""
    monkeypatch.setattr(pii, "PENDING_ROWS", pending_rows)
    auditor = _auditor([("王平", "name"), ("H00012345", "household_id"), ("13912345678", "phone")])
    try:
        auditor.scan_cells("ledger", [("A", "王平"), ("B", "户H00012345")], print_ok=True)
        auditor.scan_cells("page", [("", "王平"), ("", "王平"), ("", "电话13912345678")])
        auditor.scan_cells("clean", [("A", "王平原")])
        auditor.scan_cells("table", [("who", "H00012345")])
        report = auditor.report
        assert [(h.location, h.column, h.kinds, h.cells) for h in report.hits] == [
            ("page", "", ["name", "phone"], 3), ("table", "who", ["household_id"], 1)]
        assert report.excused == {"printed": 2} and report.scanned["cells"] == 7
    finally:
        auditor.close()


def test_squeezed_cells_equal_the_regex_replace_they_stand_for():
    """audit._squeezed drops whitespace as `str.replace(r"\\s+", "")` does, Unicode spaces included
    (ideographic space, no-break space, tab, line breaks), and keeps missing cells out."""
    import pandas as pd

    from pipelines.audit import _fullmatch, _squeezed

    cells = pd.Series(["张\u3000三", " 李四 ", "王\xa0五", "1401\t2219\n9001011234", None, float("nan"), 42, "x"],
                      dtype=object)
    expected = cells.dropna().astype(str).str.replace(r"\s+", "", regex=True)
    got = _squeezed(cells)
    assert got.tolist() == expected.tolist() == ["张三", "李四", "王五", "140122199001011234", "42", "x"]
    assert got.index.tolist() == [0, 1, 2, 3, 6, 7]
    assert _squeezed(pd.Series(["14012219900101123x "]), upper=True).tolist() == ["14012219900101123X"]
    import re

    assert _fullmatch(re.compile("[0-9]+"), got).tolist() == [False, False, False, True, True, False]


def test_cells_too_short_for_an_id_are_skipped_only_when_no_id_fits():
    """The ID scan skips cells under MIN_ID_CHARS bytes: the ID pattern matches nothing shorter."""
    from pipelines.audit import MIN_ID_CHARS, Shapes, settings
    from pipelines.policy import load_policy

    shapes = Shapes(settings(load_policy()))
    shortest = MIN_ID_CHARS
    assert shapes.id.fullmatch("1" * shortest) and shapes.id.fullmatch("1" * (shortest - 1) + "X")
    assert not shapes.id.fullmatch("1" * (shortest - 1)) and not shapes.id.fullmatch("1" * (shortest - 2) + "X")
