"""Compare two quarterly summaries table by table: `python benchmarks/compare_reports.py A B`.

A and B are report folders (reports/<quarter>) or parent folders holding several quarters. For
each summary.xlsx every sheet but 说明 is read back cell by cell (numbers equal within 1e-9), and
for each summary.html every <table> cell and every headline card's value and label. Exit 1 and
a line per difference when they differ; how a refactoring of the report is shown to change no
published number.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from html.parser import HTMLParser
from pathlib import Path

import openpyxl

TOLERANCE = 1e-9
NOTES_SHEET = "说明"


def workbook_cells(path: Path, skip: tuple[str, ...] = (NOTES_SHEET,)) -> dict[str, list[tuple]]:
    """{sheet: rows of values} of every sheet but `skip`."""
    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        return {ws.title: [tuple(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets
                if ws.title not in skip}
    finally:
        wb.close()


class _PageParser(HTMLParser):
    """Collects the text of every table cell (per table) and of the headline cards' value/label."""

    def __init__(self):
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self.cards: list[tuple[str, str]] = []
        self._cell: list[str] | None = None
        self._card: list[str] | None = None
        self._div_class: list[str] = []

    def handle_starttag(self, tag, attrs):
        cls = dict(attrs).get("class", "") or ""
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif tag in ("td", "th") and self.tables:
            self._cell = []
        elif tag == "div":
            self._div_class.append(cls)
            if "kpi" in cls.split():
                self._card = []
            elif self._card is not None:
                self._card.append("")

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "div" and self._div_class:
            cls = self._div_class.pop()
            if "kpi" in cls.split() and self._card is not None:
                self.cards.append(tuple(p.strip() for p in self._card[:2]))
                self._card = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._card:
            self._card[-1] += data


def page_parts(path: Path) -> tuple[list, list]:
    parser = _PageParser()
    text = path.read_text(encoding="utf-8")
    parser.feed(re.sub(r"<script.*?</script>", "", text, flags=re.S))
    return parser.tables, parser.cards


def _same(a, b) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return math.isclose(float(a), float(b), rel_tol=TOLERANCE, abs_tol=TOLERANCE)
    return a == b


def compare_workbooks(a: Path, b: Path) -> list[str]:
    left, right = workbook_cells(a), workbook_cells(b)
    out = [f"{b}: sheet {s} only in A" for s in left if s not in right]
    out += [f"{b}: sheet {s} only in B" for s in right if s not in left]
    for sheet in (s for s in left if s in right):
        la, lb = left[sheet], right[sheet]
        if len(la) != len(lb):
            out.append(f"{b} [{sheet}]: {len(la)} rows in A, {len(lb)} in B")
        for i, (ra, rb) in enumerate(zip(la, lb), start=1):
            for j in range(max(len(ra), len(rb))):
                va = ra[j] if j < len(ra) else None
                vb = rb[j] if j < len(rb) else None
                if not _same(va, vb):
                    out.append(f"{b} [{sheet}] row {i} column {j + 1}: A {va!r}, B {vb!r}")
    return out


def compare_pages(a: Path, b: Path) -> list[str]:
    (ta, ca), (tb, cb) = page_parts(a), page_parts(b)
    out = []
    if len(ta) != len(tb):
        out.append(f"{b}: {len(ta)} tables in A, {len(tb)} in B")
    for k, (x, y) in enumerate(zip(ta, tb), start=1):
        if x != y:
            diff = next((i for i, (rx, ry) in enumerate(zip(x, y)) if rx != ry), min(len(x), len(y)))
            out.append(f"{b} table {k} row {diff + 1}: A {x[diff] if diff < len(x) else None}, "
                       f"B {y[diff] if diff < len(y) else None}")
    if ca != cb:
        out.append(f"{b}: headline cards differ: A {ca}, B {cb}")
    return out


def report_dirs(root: Path) -> list[Path]:
    root = Path(root)
    if (root / "summary.xlsx").exists():
        return [root]
    return sorted(p.parent for p in root.glob("*/summary.xlsx"))


def compare(a: Path, b: Path, pages: bool = True) -> list[str]:
    a, b = Path(a), Path(b)
    da = {d.relative_to(a).as_posix(): d for d in report_dirs(a)}
    db = {d.relative_to(b).as_posix(): d for d in report_dirs(b)}
    out = [f"report {k} only in A" for k in da if k not in db] + [f"report {k} only in B" for k in db if k not in da]
    for key in sorted(set(da) & set(db)):
        out += compare_workbooks(da[key] / "summary.xlsx", db[key] / "summary.xlsx")
        if pages:
            out += compare_pages(da[key] / "summary.html", db[key] / "summary.html")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("a", type=Path)
    ap.add_argument("b", type=Path)
    ap.add_argument("--xlsx-only", action="store_true", help="compare the workbooks only, not the pages")
    args = ap.parse_args(argv)
    diffs = compare(args.a, args.b, pages=not args.xlsx_only)
    for line in diffs:
        print(line)
    n = len(report_dirs(args.a))
    print(f"{n} report(s) compared: {'identical tables' if not diffs else f'{len(diffs)} difference(s)'}")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
