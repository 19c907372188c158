"""summary.xlsx: one sheet per published table (xlsxwriter): title row, Chinese headers with units,
frozen header, number formats, bold totals row, suppressed cells as text ("<5")."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd
import xlsxwriter

from pipelines import inert

FIXED_TIME = datetime(2020, 1, 1)  # workbook metadata: fixed so reruns give identical bytes


def write_workbook(path: Path, sheets: list[dict], notes: list[tuple[str, str]]) -> None:
    """sheets: [{sheet, title, frame (published), spec, totals: bool, source}]; notes: (key, value)
    rows for the first sheet 说明 (definitions, sources, lines, suppression rule)."""
    # every string a string (no formula, URL or number), formula-like text quote-prefixed (pipelines/inert.py)
    wb = xlsxwriter.Workbook(str(path), {"nan_inf_to_errors": True, **inert.WORKBOOK_OPTIONS})
    wb.set_properties({"title": "povmon 季度汇总", "created": FIXED_TIME})
    base = {
        "title": {"bold": True, "font_size": 13},
        "note": {"italic": True, "font_color": "#555555"},
        "head": {"bold": True, "bg_color": "#dde7f2", "border": 1, "text_wrap": True, "valign": "vcenter"},
        "int": {"num_format": "#,##0", "border": 1},
        "money": {"num_format": "#,##0", "border": 1},
        "pct": {"num_format": "0.00%", "border": 1},
        "dec": {"num_format": "0.0", "border": 1},
        "text": {"border": 1},
        "right": {"border": 1, "align": "right"},
    }
    fmt = {k: wb.add_format(v) for k, v in base.items()}
    bold = {k: wb.add_format({**v, "bold": True, "bg_color": "#f3f3f3"}) for k, v in base.items()}
    quoted = {}
    for props, group in ((base, fmt), ({k: {**v, "bold": True, "bg_color": "#f3f3f3"} for k, v in base.items()}, bold)):
        for k, f in group.items():
            quoted[id(f)] = wb.add_format({**props[k], "quote_prefix": True})

    def text(ws, r: int, c: int, value: str, f) -> None:
        inert.write_text(ws, r, c, value, f, quoted[id(f)])

    ws = wb.add_worksheet("说明")
    ws.set_column(0, 0, 22)
    ws.set_column(1, 1, 100)
    for r, (k, v) in enumerate(notes):
        text(ws, r, 0, k, fmt["head"] if r == 0 else fmt["text"])
        text(ws, r, 1, v, fmt["head"] if r == 0 else fmt["text"])

    for sheet in sheets:
        frame: pd.DataFrame = sheet["frame"]
        spec = sheet["spec"]
        ws = wb.add_worksheet(spec["sheet"][:31])
        text(ws, 0, 0, spec["title"], fmt["title"])
        text(ws, 1, 0, sheet["source"], fmt["note"])
        header_row = 3
        kinds = _kinds(spec)
        for c, name in enumerate(frame.columns):
            text(ws, header_row, c, str(name), fmt["head"])
            ws.set_column(c, c, max(10, min(28, 2 * len(str(name)) + 2)))
        ws.set_row(header_row, 32)
        cols = list(spec["columns"])
        published = [k for k in cols if spec["columns"][k] in frame.columns]
        for r, row in enumerate(frame.itertuples(index=False), start=header_row + 1):
            is_total = sheet.get("totals") and str(row[published.index("county_name")] if "county_name" in published else "") == "合计"
            f = bold if is_total else fmt
            for c, (key, value) in enumerate(zip(published, row)):
                kind = kinds.get(key, "text")
                if value is None or (isinstance(value, float) and value != value):
                    ws.write_blank(r, c, None, f["text"])
                elif isinstance(value, str):
                    text(ws, r, c, value, f["right"] if kind != "text" else f["text"])
                elif kind == "text":
                    text(ws, r, c, str(value), f["text"])
                else:
                    ws.write_number(r, c, float(value), f[kind])
        ws.freeze_panes(header_row + 1, 0)
        if sheet.get("empty_note"):
            text(ws, header_row + 1, 0, sheet["empty_note"], fmt["note"])
    wb.close()


def _kinds(spec: dict) -> dict[str, str]:
    kinds = {}
    for key in spec.get("counts", []):
        kinds[key] = "int"
    for key in spec.get("money", []):
        kinds[key] = "money"
    for key in spec.get("shares", []):
        kinds[key] = "pct"
    for key in spec.get("months", []):
        kinds[key] = "dec"
    for key in ("rural_population", "rows_read", "rows_loaded", "rows_quarantined", "findings", "files",
                "row_count", "n_weighted", "n_unweighted", "change"):
        kinds.setdefault(key, "int")
    return kinds
