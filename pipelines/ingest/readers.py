"""Raw file -> text DataFrame + metadata. One function per format; every cell is read as text.

A reader returns `RawSheet`s: the cells below the header as a DataFrame of str/None whose
columns are the headers as written (positionally; duplicates and extra cells get `_extra_<i>`),
plus `source_row` as defined in docs/data_contract.md §1. Header detection is delegated to a
callable `find_header(rows) -> index | None` so readers know nothing about the alias table.
Raw Parquet is not read here: DuckDB reads it directly (see pipeline.py).
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

import pandas as pd

MAX_SCAN = 64  # rows handed to find_header (it looks at max_title_rows + 1 of them)
FindHeader = Callable[[Sequence[Sequence[str | None]]], "int | None"]


class IngestError(ValueError):
    """Bad input: the message names file, sheet, row and column and what was expected."""


@dataclass
class RawSheet:
    """Cells of one sheet (or CSV/DTA/SAV file) below its header, all text."""

    data: pd.DataFrame  # columns: headers as written (+ `_extra_<i>`); index irrelevant
    source_row: list[int]  # 1-based row a person sees, one per data row
    sheet: str | None
    header_row: int  # 1-based row of the header
    encoding: str | None = None
    merged_fills: list[tuple[int, list[str]]] = field(default_factory=list)  # (source_row, headers)


def file_digest(path: Path) -> tuple[str, int]:
    """SHA-256 hex and size in bytes of a raw file (read in chunks, never modified)."""
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


def detect_encoding(raw: bytes) -> str:
    """'utf-8-sig' (BOM), 'utf-8', else 'gb18030' (superset of GBK: 䶮 breaks the gbk codec)."""
    if raw.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        raw.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        return "gb18030"


def _cell(value: object) -> str | None:
    """Header-area cell as text or None (data cells are cleaned in SQL, not here)."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    text = str(value)
    return text if text.strip() else None


def _names(header: Sequence[object], width: int) -> list[str]:
    """Column names from the header cells; blank, extra and repeated ones become `_extra_<i>`."""
    names: list[str] = []
    for i in range(width):
        h = _cell(header[i]) if i < len(header) else None
        name = h if h is not None else f"_extra_{i}"
        names.append(name if name not in names else f"_extra_{i}")
    return names


def _frame(rows: Sequence[Sequence[str | None]], header: Sequence[object]) -> pd.DataFrame:
    """Rows padded to a common width; columns named by header (see _names)."""
    width = max([len(header), *(len(r) for r in rows)]) if rows else len(header)
    padded = [list(r) + [None] * (width - len(r)) if len(r) < width else r for r in rows]
    columns = list(zip(*padded)) if padded else [()] * width
    return _columns_frame([list(c) for c in columns], header)


def _columns_frame(columns: Sequence[list], header: Sequence[object]) -> pd.DataFrame:
    """DataFrame of object columns from per-column lists (no per-cell work)."""
    names = _names(header, len(columns))
    return pd.DataFrame({n: pd.Series(c, dtype=object) for n, c in zip(names, columns)}, columns=names)


def _split_at_header(
    rows: list[list[str | None]], find_header: FindHeader, where: str
) -> tuple[int, list[str | None], list[list[str | None]]]:
    idx = find_header([[_cell(v) for v in r] for r in rows[:MAX_SCAN]])
    if idx is None:
        raise IngestError(f"{where}: no header row found in the first rows (expected a row of known column headers)")
    return idx, rows[idx], rows[idx + 1 :]


def read_csv(path: Path, find_header: FindHeader, label: str | None = None) -> RawSheet:
    """CSV in UTF-8-BOM / UTF-8 / GB18030; title lines above the header allowed; ragged rows kept."""
    raw = path.read_bytes()
    encoding = detect_encoding(raw)
    text = raw.decode(encoding)
    rows = list(csv.reader(io.StringIO(text, newline="")))
    idx, header, body = _split_at_header(rows, find_header, label or str(path))
    # csv.reader drops nothing: line number = list index + 1 (no quoted newlines in exports)
    return RawSheet(
        data=_frame(body, header),
        source_row=list(range(idx + 2, idx + 2 + len(body))),
        sheet=None,
        header_row=idx + 1,
        encoding=encoding,
    )


_REF = re.compile(r"([A-Z]+)(\d+)")


def _col_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def _sheet_xml_paths(zf: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> path of its XML part inside the xlsx zip."""
    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
          "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships"}
    wb = ElementTree.fromstring(zf.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target") for r in rels}
    out = {}
    for s in wb.iter(f"{{{ns['m']}}}sheet"):
        target = targets.get(s.get(f"{{{ns['r']}}}id"), "")
        target = target.lstrip("/")
        out[s.get("name")] = target if target.startswith("xl/") else f"xl/{target}"
    return out


def merged_ranges(path: Path) -> dict[str, list[tuple[int, int, int, int, int]]]:
    """Per sheet: merged ranges as (row1, col1, row2, col2, first_used_col), 0-based absolute.

    Parsed from `<mergeCell ref=…>` in the sheet XML (cheap: regex over the tail of the part).
    `first_used_col` is the sheet's first column with a value, which is column 0 for fastexcel.
    """
    out: dict[str, list[tuple[int, int, int, int, int]]] = {}
    with zipfile.ZipFile(path) as zf:
        for name, part in _sheet_xml_paths(zf).items():
            try:
                xml = zf.read(part).decode("utf-8")
            except KeyError:
                continue
            refs = re.findall(r'<mergeCell[^>]*ref="([A-Z]+\d+):([A-Z]+\d+)"', xml)
            if not refs:
                continue
            cols = [_col_index(m) for m in re.findall(r'<c r="([A-Z]+)\d+"[^>]*?>(?:<f[^<]*</f>)?<(?:v|is)\b', xml)]
            first_col = min(cols) if cols else 0
            ranges = []
            for a, b in refs:
                (ca, ra), (cb, rb) = _REF.match(a).groups(), _REF.match(b).groups()
                ranges.append((int(ra) - 1, _col_index(ca), int(rb) - 1, _col_index(cb), first_col))
            out[name] = ranges
    return out


def _fill_merges(columns: list[list], header_idx: int, header: list[str | None], ranges
                 ) -> list[tuple[int, list[str]]]:
    """Fill each merged range's top-left value over the range (data area only); return fills."""
    filled: dict[int, list[str]] = {}
    height = len(columns[0]) if columns else 0
    for r1, c1, r2, c2, first_col in ranges:
        c1, c2 = c1 - first_col, c2 - first_col
        if r1 <= header_idx or r1 >= height or c1 < 0 or c1 >= len(columns):
            continue
        value = columns[c1][r1]
        for c in range(c1, min(c2, len(columns) - 1) + 1):
            col = columns[c]
            for r in range(r1, min(r2, height - 1) + 1):
                if (r, c) == (r1, c1) or _cell(col[r]) is not None:
                    continue
                col[r] = value
                if _cell(value) is not None:
                    head = _cell(header[c]) if c < len(header) else None
                    filled.setdefault(r + 1, []).append(head or f"_extra_{c}")
    return sorted(filled.items())


def read_xlsx(path: Path, find_header: FindHeader, label: str | None = None) -> list[RawSheet]:
    """Every sheet that has a header row; cells as text (fastexcel); merged cells filled."""
    import fastexcel

    reader = fastexcel.read_excel(str(path))
    merges = merged_ranges(path)
    sheets = []
    for name in reader.sheet_names:
        table = reader.load_sheet(name, header_row=None, skip_rows=0, dtypes="string").to_arrow()
        columns = [col.to_pylist() for col in table.columns]  # row i = Excel row i+1
        head_rows = [[_cell(c[i]) for c in columns] for i in range(min(MAX_SCAN, table.num_rows))]
        idx = find_header(head_rows)
        if idx is None:
            continue  # notes / empty sheet: no data rows in it
        header = head_rows[idx]
        fills = _fill_merges(columns, idx, header, merges.get(name, []))
        sheets.append(RawSheet(
            data=_columns_frame([c[idx + 1:] for c in columns], header),
            source_row=list(range(idx + 2, table.num_rows + 1)),
            sheet=name,
            header_row=idx + 1,
            merged_fills=fills,
        ))
    if not sheets:
        raise IngestError(f"{label or path}: no sheet has a header row (expected a row of known column headers)")
    return sheets


def _stats_frame(df: pd.DataFrame, find_header: FindHeader, label: str) -> RawSheet:
    header = [str(c) for c in df.columns]
    if find_header([header]) is None:
        raise IngestError(f"{label}: variable names are not known column headers")
    return RawSheet(data=_columns_frame([list(df[c]) for c in df.columns], header),
                    source_row=list(range(2, 2 + len(df))), sheet=None, header_row=1)


def _labelled(df: pd.DataFrame, labels: dict[str, str | None]) -> pd.DataFrame:
    """Variable labels as headers where present: Stata and SPSS names cannot hold brackets or
    full-width punctuation, so exporters keep the original header (务工时间（月）) as the label."""
    return df.rename(columns={c: labels[c].strip() for c in df.columns if labels.get(c) and labels[c].strip()})


def read_dta(path: Path, find_header: FindHeader, label: str | None = None) -> RawSheet:
    """Stata .dta (format 118, Unicode names; variable labels win); values as text, value labels not applied."""
    with pd.io.stata.StataReader(path) as reader:
        df = reader.read(convert_categoricals=False, convert_dates=False, preserve_dtypes=True)
        labels = reader.variable_labels()
    return _stats_frame(_as_text(_labelled(df, labels)), find_header, label or str(path))


def read_sav(path: Path, find_header: FindHeader, label: str | None = None) -> RawSheet:
    """SPSS .sav via pyreadstat (variable labels win over names); values as text."""
    import pyreadstat

    df, meta = pyreadstat.read_sav(str(path), apply_value_formats=False, dates_as_pandas_datetime=False)
    return _stats_frame(_as_text(_labelled(df, meta.column_names_to_labels)), find_header, label or str(path))


def _as_text(df: pd.DataFrame) -> pd.DataFrame:
    """Numbers to text without a spurious '.0' (3.0 -> '3'); strings kept as they are."""
    out = {}
    for col in df.columns:
        s = df[col]
        if not (pd.api.types.is_float_dtype(s) or pd.api.types.is_integer_dtype(s)):
            out[col] = s.astype(object).where(s.notna(), None).tolist()
            continue
        if pd.api.types.is_float_dtype(s):
            out[col] = [None if v != v else (str(int(v)) if float(v).is_integer() else repr(float(v))) for v in s]
        elif pd.api.types.is_integer_dtype(s):
            out[col] = [str(v) for v in s]
        else:
            out[col] = [None if v is None or (isinstance(v, float) and v != v) else str(v) for v in s]
    return pd.DataFrame(out, columns=df.columns, dtype=object)
