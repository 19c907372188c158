"""summary.xlsx: one sheet per published table (xlsxwriter): title, source and ⚠ rows, Chinese
headers with units, frozen and repeated on every printed page (A4 landscape, one page wide),
columns sized to their content, numbers stored as numbers (whole numbers without decimals,
dates as dates, rates as percentages that never round a shortfall to 100.00 %), a bold totals row.

A count withheld for the public audience is an EMPTY cell with a grey hatched fill — never text
in a number column — and the row's last column "不公开" names it with its mark ("未脱贫户数(户)
<5"); the 说明 sheet explains the marks."""

from __future__ import annotations

import unicodedata
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import xlsxwriter

from pipelines import inert
from pipelines.report import formats
from pipelines.report.publish import SHOWN

FIXED_TIME = datetime(2020, 1, 1)  # workbook metadata: fixed so reruns give identical bytes
FLAG_HEADER = "不公开"
A4 = 9
NUMBER_FORMATS = {"count": "#,##0", "integer": "#,##0", "money": "#,##0", "wan": "#,##0.00", "share": "0.00%", "month": "0.0",
                  "date": "yyyy-mm-dd", "text": "@"}


def display_width(text: str) -> int:
    """Columns a text needs: CJK (wide) characters count two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in str(text))


class _Formats:
    """Cell formats of one workbook: kind x (body | totals row) x (plain | withheld | quoted)."""

    def __init__(self, wb: xlsxwriter.Workbook):
        self.wb, self.cache = wb, {}

    def get(self, kind: str = "text", total: bool = False, withheld: bool = False, quoted: bool = False,
            num_format: str | None = None, **extra) -> object:
        key = (kind, total, withheld, quoted, num_format, tuple(sorted(extra.items())))
        if key not in self.cache:
            props = {"border": 1, "num_format": num_format or NUMBER_FORMATS.get(kind, "@"), "valign": "top"}
            if kind == "text":
                props["text_wrap"] = True
            if total:
                props.update({"bold": True, "bg_color": "#f3f3f3"})
            if withheld:
                props.update({"pattern": 8, "fg_color": "#d9d9d9"})  # light grey hatch
            if quoted:
                props["quote_prefix"] = True
            props.update(extra)
            self.cache[key] = self.wb.add_format(props)
        return self.cache[key]


def _text(ws, fmts: _Formats, r: int, c: int, value: str, **fmt) -> None:
    inert.write_text(ws, r, c, value, fmts.get(**fmt), fmts.get(quoted=True, **fmt))


def _share_format(v: float) -> str | None:
    """A number format that keeps the value but does not round a shortfall to 100.00 %."""
    text = formats.share(v)
    return f'"{text}"' if text.startswith((">", "<")) else None


def write_cell(ws, fmts: _Formats, r: int, c: int, value, kind: str, total: bool) -> None:
    if formats.missing(value):
        ws.write_blank(r, c, None, fmts.get(kind, total))
    elif isinstance(value, bool):
        _text(ws, fmts, r, c, "是" if value else "否", kind="text", total=total)
    elif kind == "date" or isinstance(value, (date, datetime, pd.Timestamp)):
        ws.write_datetime(r, c, pd.Timestamp(value).to_pydatetime(), fmts.get("date", total))
    elif kind == "text" or isinstance(value, str):
        _text(ws, fmts, r, c, str(value), kind="text", total=total)
    elif kind == "share":
        ws.write_number(r, c, float(value), fmts.get("share", total, num_format=_share_format(float(value))))
    else:
        ws.write_number(r, c, float(value), fmts.get(kind, total))


def write_notes(ws, fmts: _Formats, notes: list[tuple[str, str]]) -> None:
    ws.set_column(0, 0, 22)
    ws.set_column(1, 1, 110)
    for r, (k, v) in enumerate(notes):
        head = r == 0
        props = {"bold": True, "bg_color": "#dde7f2"} if head else {}
        if str(k).startswith("⚠"):
            props = {"font_color": "#a33", "bold": True}
        _text(ws, fmts, r, 0, k, **props)
        _text(ws, fmts, r, 1, v, **props)
    ws.set_paper(A4)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)


def write_sheet(ws, fmts: _Formats, sheet: dict, labels: dict[int, str]) -> None:
    """One published table. labels: {SMALL: "<5", HIDDEN: "x"}."""
    spec, df, codes = sheet["spec"], sheet["frame"], sheet["codes"]
    kinds = formats.column_kinds(spec)
    ws.set_paper(A4)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.5)
    ws.set_footer("&C第 &P 页，共 &N 页")
    _text(ws, fmts, 0, 0, spec["title"], bold=True, font_size=13, border=0, text_wrap=False)
    _text(ws, fmts, 1, 0, "来源与口径：" + sheet["source"], italic=True, font_color="#555555", border=0, text_wrap=False)
    row = 2
    for w in sheet.get("warnings", []):
        _text(ws, fmts, row, 0, w, bold=True, font_color="#a33", border=0, text_wrap=False)
        row += 1
    header_row = row + 1
    if df is None:
        columns = list(spec["columns"])
        for c, key in enumerate(columns):
            _text(ws, fmts, header_row, c, spec["columns"][key], bold=True, bg_color="#dde7f2")
            ws.set_column(c, c, max(8, display_width(spec["columns"][key]) + 2))
        _text(ws, fmts, header_row + 1, 0, sheet["empty_note"], italic=True, font_color="#555555", border=0,
              text_wrap=False)
        ws.repeat_rows(header_row)
        return
    columns = [c for c in spec["columns"] if c in df.columns]
    withheld_any = codes is not None and any((codes[c] != SHOWN).any() for c in codes.columns if c in columns)
    headers = [spec["columns"][c] for c in columns] + ([FLAG_HEADER] if withheld_any else [])
    widths = [display_width(h) for h in headers]
    for c, h in enumerate(headers):
        _text(ws, fmts, header_row, c, h, bold=True, bg_color="#dde7f2", valign="vcenter")
    for i, r in enumerate(df.index, start=header_row + 1):
        total = "is_total" in df.columns and df.at[r, "is_total"] == 1
        flags = []
        for c, col in enumerate(columns):
            kind = kinds.get(col, "text")
            if codes is not None and col in codes.columns and codes.at[r, col] != SHOWN:
                ws.write_blank(i, c, None, fmts.get(kind, total, withheld=True))
                flags.append(f"{spec['columns'][col]}{labels[int(codes.at[r, col])]}")
                continue
            value = df.at[r, col]
            write_cell(ws, fmts, i, c, value, kind, total)
            widths[c] = max(widths[c], display_width(formats.cell_text(value, kind, col)))
        if withheld_any:
            text = "；".join(flags)
            if text:
                _text(ws, fmts, i, len(columns), text, kind="text", total=total)
            else:
                ws.write_blank(i, len(columns), None, fmts.get("text", total))
            widths[-1] = max(widths[-1], min(display_width(text), 60))
    for c, w in enumerate(widths):
        ws.set_column(c, c, min(max(w + 2, 8), 62))
    ws.set_row(header_row, 30)
    ws.freeze_panes(header_row + 1, 0)
    ws.repeat_rows(header_row)


def write_workbook(path: Path, sheets: list[dict], notes: list[tuple[str, str]], labels: dict[int, str],
                   title: str = "povmon 季度汇总") -> None:
    """sheets: [{name, spec, frame (the query result or None), codes, source, warnings, empty_note}];
    notes: (key, value) rows of the first sheet 说明 (version, quarter, lines, ⚠, marks, sources)."""
    # every string a string (no formula, URL or number), formula-like text quote-prefixed (pipelines/inert.py)
    wb = xlsxwriter.Workbook(str(path), {"nan_inf_to_errors": True, **inert.WORKBOOK_OPTIONS})
    wb.set_properties({"title": title, "created": FIXED_TIME})
    fmts = _Formats(wb)
    write_notes(wb.add_worksheet("说明"), fmts, notes)
    for sheet in sheets:
        write_sheet(wb.add_worksheet(sheet["spec"]["sheet"][:31]), fmts, sheet, labels)
    wb.close()

