"""One writer per raw file format. Every cell is text; every write is atomic (temp file + os.replace);
files embed a fixed timestamp so equal inputs give equal bytes.

`write_export(frame, path, fmt, title=None, merge_columns=None, sheet="Sheet1", merge_groups=None)`
is the public entry point (ingest tests use it to write the same data in every format).
Row numbers a person sees (data_contract.md §1): xlsx row = data index + 2 + title rows;
CSV line = data index + 2 + title lines; dta/sav/parquet = data index + 2.

Stata/SPSS variable names cannot hold brackets or other punctuation: such headers are written
with those characters replaced by "_" and the original header kept as the variable label
(`stat_name`); ingest can match on the label when the name is not an alias.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd

FORMATS = ("xlsx", "csv-utf8-bom", "csv-utf8", "csv-gb18030", "dta", "sav", "parquet")
CSV_ENCODINGS = {"csv-utf8-bom": "utf-8-sig", "csv-utf8": "utf-8", "csv-gb18030": "gb18030"}
EXTENSIONS = {"xlsx": "xlsx", "csv-utf8-bom": "csv", "csv-utf8": "csv", "csv-gb18030": "csv",
              "dta": "dta", "sav": "sav", "parquet": "parquet"}
FIXED_TIME = dt.datetime(2021, 1, 5, 9, 0, 0)
_NOT_NAME_CHAR = re.compile(r"[^\w]")


def first_data_row(fmt: str, title: str | None, names_only: bool = False) -> int:
    """Row number (as a person sees it) of the first data row (a names-only export: row 5, under
    two title rows and a header of two rows)."""
    if names_only:
        return 5
    return 2 + (1 if title and fmt in ("xlsx", "csv-utf8-bom", "csv-utf8", "csv-gb18030") else 0)


def stat_name(header: str) -> str:
    """Stata/SPSS-safe variable name: NFKC, punctuation -> '_' (e.g. 人均日供水量(升) -> 人均日供水量_升_)."""
    return _NOT_NAME_CHAR.sub("_", unicodedata.normalize("NFKC", header))


def _atomic(path: Path, write) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{path.suffix}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def _text(frame: pd.DataFrame) -> pd.DataFrame:
    """Every cell a str ('' for missing); one object block (cheap when cells already are str)."""
    values = np.array(frame.to_numpy(dtype=object), dtype=object, copy=True)
    values[pd.isna(values)] = ""
    for j, dtype in enumerate(frame.dtypes):
        if not pd.api.types.is_string_dtype(dtype):  # numbers, dates: as their text
            values[:, j] = [v if isinstance(v, str) else str(v) for v in values[:, j]]
    return pd.DataFrame(values, columns=list(frame.columns))


def merge_runs(keys: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) data indexes of runs of >= 2 equal, non-empty consecutive keys."""
    keys = np.asarray(keys, dtype=object)
    if len(keys) == 0:
        return []
    change = np.r_[True, keys[1:] != keys[:-1]]
    starts = np.flatnonzero(change)
    ends = np.r_[starts[1:], len(keys)] - 1
    return [(s, e) for s, e in zip(starts, ends) if e > s and keys[s] not in ("", None)]


def column_letters(n: int) -> list[str]:
    """Excel column letters A, B, ..., Z, AA, ... for n columns."""
    out = []
    for i in range(n):
        name, i = "", i + 1
        while i:
            i, r = divmod(i - 1, 26)
            name = chr(65 + r) + name
        out.append(name)
    return out


def _xml_escape(values: np.ndarray) -> np.ndarray:
    """&, < and > escaped in every cell (as str); each distinct value escaped once (a registry
    sheet repeats most of its values: labels, 是/否, household fields)."""
    flat = np.asarray(values, dtype=object).ravel()
    codes, uniques = pd.factorize(flat, use_na_sentinel=False)
    escaped = np.array([str(u).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") for u in uniques],
                       dtype=object)
    return escaped[codes].reshape(np.shape(values))


_XLSX_STATIC = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
        '</Types>'),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/>'
        '</Relationships>'),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>'
        '</Relationships>'),
    "xl/styles.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<fonts count="2"><font><sz val="11"/><name val="宋体"/></font><font><b/><sz val="14"/><name val="宋体"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1" applyAlignment="1"><alignment horizontal="center"/></xf>'
        '<xf numFmtId="49" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1" applyAlignment="1"><alignment vertical="center"/></xf>'
        '</cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>'),
}


def _xlsx_core() -> str:
    stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ")
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:creator>povmon synth</dc:creator>'
            f'<dcterms:created xsi:type="dcterms:W3CDTF">{stamp}</dcterms:created>'
            f'<dcterms:modified xsi:type="dcterms:W3CDTF">{stamp}</dcterms:modified></cp:coreProperties>')


def _xlsx_sheet(header: list[str], values: np.ndarray, title: str | None, merges: list[str]) -> str:
    """Worksheet XML with inline strings; empty cells are omitted (one join per row: ~40 % less
    CPU than building every cell's XML as numpy object arithmetic)."""
    top = 1 if title else 0
    grid = np.vstack([np.array([header], dtype=object), values]) if len(values) else np.array([header], dtype=object)
    heads = ['<c r="' + letter for letter in column_letters(len(header))]
    lines = []
    if title:
        lines.append(f'<row r="1"><c r="A1" s="1" t="inlineStr"><is><t>{_xml_escape(np.array([title], dtype=object))[0]}</t></is></c></row>')
    for r, row in enumerate(_xml_escape(grid).tolist(), start=top + 1):  # escaping keeps '' as ''
        rest = f'{r}" t="inlineStr"><is><t>'
        lines.append(f'<row r="{r}">' + "".join([h + rest + v + "</t></is></c>" for h, v in zip(heads, row) if v])
                     + "</row>")
    merge_xml = (f'<mergeCells count="{len(merges)}">' + "".join(f'<mergeCell ref="{m}"/>' for m in merges)
                 + "</mergeCells>") if merges else ""
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            '<sheetData>' + "".join(lines) + '</sheetData>' + merge_xml + '</worksheet>')


def write_xlsx(frame: pd.DataFrame, path: Path, title: str | None = None, merge_columns: list[str] | None = None,
               sheet: str = "Sheet1", merge_groups=None) -> Path:
    """xlsx (inline strings, one sheet): optional merged title row; household columns merged vertically.

    merge_columns: cells of these columns are merged over runs of consecutive rows with equal
    `merge_groups` (default: equal values of merge_columns[0]); the value stays in the top cell only.
    Written directly as SpreadsheetML (xlsxwriter is ~20x slower on city-size files); zip entries
    carry a fixed timestamp so the bytes are reproducible.
    """

    data = _text(frame)
    values = np.array(data.to_numpy(dtype=object), dtype=object, copy=True)
    header = list(data.columns)
    letters = column_letters(len(header))
    top = 1 if title else 0
    merges = [f"A1:{letters[-1]}1"] if title and len(header) > 1 else []
    if merge_columns:
        groups = merge_groups if merge_groups is not None else data[merge_columns[0]].to_numpy()
        cols = [data.columns.get_loc(c) for c in merge_columns]
        for s, e in merge_runs(np.asarray(groups, dtype=object)):
            for c in cols:
                merges.append(f"{letters[c]}{top + 2 + s}:{letters[c]}{top + 2 + e}")
                values[s + 1:e + 1, c] = ""
    parts = dict(_XLSX_STATIC)
    parts["xl/workbook.xml"] = _workbook_xml([sheet])
    parts["docProps/core.xml"] = _xlsx_core()
    parts["xl/worksheets/sheet1.xml"] = _xlsx_sheet(header, values, title, merges)

    return _atomic(path, lambda tmp: _write_zip(tmp, parts))


def _write_zip(tmp: Path, parts: dict[str, str], level: int = 6) -> None:
    """The workbook's parts, deflated at `level`, each with the fixed timestamp (equal inputs,
    equal bytes)."""
    import zipfile

    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=level) as zf:
        for name, text in parts.items():
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, text.encode("utf-8"), compresslevel=level)


def write_csv(frame: pd.DataFrame, path: Path, encoding: str, title: str | None = None) -> Path:
    """CSV in the given encoding ('utf-8-sig' = UTF-8 with BOM, 'gb18030', 'utf-8'); optional title line."""
    data = _text(frame)

    def write(tmp: Path):
        with open(tmp, "w", encoding=encoding, newline="") as fh:
            if title:
                fh.write(title + "\n")
            data.to_csv(fh, index=False, lineterminator="\n")

    return _atomic(path, write)


def write_dta(frame: pd.DataFrame, path: Path) -> Path:
    """Stata format 118 (Unicode names) via pyreadstat; names made Stata-safe, original headers as
    variable labels; the header timestamp is fixed."""
    import pyreadstat

    data = _text(frame)
    names = [stat_name(c) for c in data.columns]
    labels = {n: c for n, c in zip(names, data.columns) if n != c}
    data.columns = names

    def write(tmp: Path):
        pyreadstat.write_dta(data, str(tmp), version=14, column_labels=labels or None)  # version 14 = format 118
        with open(tmp, "r+b") as fh:
            head = fh.read(512)
            at = head.index(b"<timestamp>") + len(b"<timestamp>")
            fh.seek(at)
            fh.write(b"\x11" + FIXED_TIME.strftime("%d %b %Y %H:%M").encode("ascii"))

    return _atomic(path, write)


def write_sav(frame: pd.DataFrame, path: Path) -> Path:
    """SPSS .sav via pyreadstat; names made SPSS-safe with labels; creation stamp fixed."""
    import pyreadstat

    data = _text(frame)
    names = [stat_name(c) for c in data.columns]
    labels = {n: c for n, c in zip(names, data.columns) if n != c}
    data.columns = names

    def write(tmp: Path):
        pyreadstat.write_sav(data, str(tmp), column_labels=labels or None)
        with open(tmp, "r+b") as fh:  # header: creation date (9 bytes) at 92, time (8 bytes) at 101
            fh.seek(92)
            fh.write(FIXED_TIME.strftime("%d %b %y").encode("ascii") + FIXED_TIME.strftime("%H:%M:%S").encode("ascii"))

    return _atomic(path, write)


def write_parquet(frame: pd.DataFrame, path: Path) -> Path:
    """Parquet (zstd), every column a string; missing cells become ''."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    columns = {}
    for name in frame.columns:
        col = pa.array(frame[name].to_numpy(dtype=object), type=pa.string(), from_pandas=True)
        columns[str(name)] = pc.fill_null(col, "") if col.null_count else col
    table = pa.table(columns)
    return _atomic(path, lambda tmp: pq.write_table(table, tmp, compression="zstd"))


def write_export(frame: pd.DataFrame, path: Path, fmt: str, title: str | None = None,
                 merge_columns: list[str] | None = None, sheet: str = "Sheet1", merge_groups=None) -> Path:
    """Write a raw export (Chinese headers, text cells) in one of FORMATS."""
    if fmt == "xlsx":
        return write_xlsx(frame, path, title, merge_columns, sheet, merge_groups)
    if fmt in CSV_ENCODINGS:
        return write_csv(frame, path, CSV_ENCODINGS[fmt], title)
    if fmt == "dta":
        return write_dta(frame, path)
    if fmt == "sav":
        return write_sav(frame, path)
    if fmt == "parquet":
        return write_parquet(frame, path)
    raise ValueError(f"unknown format {fmt!r}; expected one of {FORMATS}")


# ---------------------------------------------------------------- a names-only member export (domain.md §1)

FULL_WIDTH_DIGITS = str.maketrans("0123456789", "０１２３４５６７８９")


def write_names_only_xlsx(frame: pd.DataFrame, path: Path, spec: dict, group: tuple[str, list[str]] | None = None,
                          merge_columns: list[str] | None = None, merge_groups=None,
                          number_cells: dict[int, str] | None = None, total_row: dict[str, str] | None = None) -> Path:
    """A member export as a county office saves it from the registry system: an instructions sheet
    and a hidden code-list sheet before the data sheet; on the data sheet two title rows, a header
    of two rows (every header merged down over both, except the `group` columns under their merged
    group title), the data (household `merge_columns` merged over runs of `merge_groups`: the value
    in the top cell only), `number_cells` {data index: header} whose ID is written as a number cell
    (what a spreadsheet does to an ID typed as a number), and a 合计 row (`total_row`: header ->
    text). Text cells go through a shared-string table, as Excel saves them. spec: sheet,
    instructions_sheet, instructions, code_sheet, code_lists {header: [labels]}, title, unit_line.
    First data row: Excel row 5. Written directly as SpreadsheetML, vectorised over the grid
    (xlsxwriter's per-cell calls took most of the generator's time at a million households)."""
    data = _text(frame)
    header = list(data.columns)
    width = len(header)
    letters = column_letters(width)
    values = np.array(data.to_numpy(dtype=object), dtype=object, copy=True).reshape(len(data), width)
    merges = [f"A1:{letters[-1]}1"]
    grouped = set(group[1]) if group else set()
    top = np.full(width, "", dtype=object)  # header row 3
    low = np.full(width, "", dtype=object)  # header row 4
    for j, h in enumerate(header):
        if h in grouped:
            low[j] = h
        else:
            top[j] = h
            merges.append(f"{letters[j]}3:{letters[j]}4")
    if group:
        cols = [header.index(h) for h in group[1]]
        top[min(cols)] = group[0]
        merges.append(f"{letters[min(cols)]}3:{letters[max(cols)]}3")
    if merge_columns:
        keys = merge_groups if merge_groups is not None else data[merge_columns[0]].to_numpy()
        cols = [header.index(m) for m in merge_columns]
        for s, e in merge_runs(np.asarray(keys, dtype=object)):
            for c in cols:
                merges.append(f"{letters[c]}{5 + s}:{letters[c]}{5 + e}")
                values[s + 1:e + 1, c] = ""
    numbers = np.full(values.shape, False)
    for i, h in (number_cells or {}).items():
        numbers[i, header.index(h)] = True
    total = np.full((1 if total_row else 0, width), "", dtype=object)
    for h, v in (total_row or {}).items():
        total[0, header.index(h)] = v
    title = np.full((2, width), "", dtype=object)
    title[0, 0], title[1, 0] = spec["title"], spec["unit_line"]
    grid = np.vstack([title, top[None, :], low[None, :], values, total])
    numeric = np.vstack([np.full((4, width), False), numbers, np.full(total.shape, False)])
    notes = np.array([[line] for line in spec["instructions"]], dtype=object).reshape(-1, 1)
    lists = list(spec["code_lists"].items())
    codes = np.full((1 + max((len(v) for _, v in lists), default=0), len(lists)), "", dtype=object)
    for j, (head, labels) in enumerate(lists):
        codes[0, j] = head
        codes[1:1 + len(labels), j] = labels
    strings = _SharedStrings()
    sheets = [(spec["instructions_sheet"], _shared_sheet(notes, strings, column_letters(1), [])),
              (spec["code_sheet"], _shared_sheet(codes, strings, column_letters(max(1, len(lists))), [])),
              (spec["sheet"], _shared_sheet(grid, strings, letters, merges, numeric))]
    parts = {"[Content_Types].xml": _names_only_content_types(len(sheets)),
             "_rels/.rels": _XLSX_STATIC["_rels/.rels"],
             "xl/workbook.xml": _workbook_xml([n for n, _ in sheets], hidden={1}),
             "xl/_rels/workbook.xml.rels": _names_only_workbook_rels(len(sheets)),
             "xl/styles.xml": _XLSX_STATIC["xl/styles.xml"],
             "docProps/core.xml": _xlsx_core()}
    for k, (_, xml) in enumerate(sheets, start=1):
        parts[f"xl/worksheets/sheet{k}.xml"] = xml
    parts["xl/sharedStrings.xml"] = strings.xml()
    # deflate level 1: a third of the write time at level 6 went to zlib; the file is ~1.3x larger
    return _atomic(path, lambda tmp: _write_zip(tmp, parts, level=1))


class _SharedStrings:
    """The workbook's shared-string table: each distinct text once, in order of first use."""

    def __init__(self):
        self.index: dict[str, int] = {}
        self.uses = 0

    def codes(self, texts: np.ndarray) -> np.ndarray:
        """Index of each text (added when new), in the order given."""
        codes, uniques = pd.factorize(np.asarray(texts, dtype=object), use_na_sentinel=False)
        known = np.array([self.index.setdefault(u, len(self.index)) for u in uniques], dtype=np.int64)
        self.uses += len(codes)
        return known[codes]

    def xml(self) -> str:
        items = _xml_escape(np.array(list(self.index), dtype=object))
        sis = "".join(f'<si><t xml:space="preserve">{t}</t></si>' if t[:1].isspace() or t[-1:].isspace()
                      else f"<si><t>{t}</t></si>" for t in items.tolist())
        return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                f'count="{self.uses}" uniqueCount="{len(self.index)}">{sis}</sst>')


def _shared_sheet(grid: np.ndarray, strings: _SharedStrings, letters: list[str], merges: list[str],
                  numeric: np.ndarray | None = None) -> str:
    """Worksheet XML: text cells as shared strings, `numeric` cells as numbers (%.16G, as Excel
    writes them), empty cells omitted."""
    n_rows, width = grid.shape
    numeric = np.zeros(grid.shape, dtype=bool) if numeric is None else numeric
    filled = grid != ""
    codes = strings.codes(grid[filled & ~numeric]).tolist()  # row-major: the order a reader meets them
    kinds = (filled.astype(np.int8) + (filled & numeric)).tolist()  # 0 empty, 1 text, 2 number
    heads = ['<c r="' + letter for letter in letters[:width]]
    rows, k = [], 0
    for r, row in enumerate(kinds):  # one pass of plain string formatting (2x faster than numpy object arithmetic)
        if not any(row):
            continue
        at = str(r + 1)
        cells = []
        for c, kind in enumerate(row):
            if kind == 1:
                cells.append(f'{heads[c]}{at}" t="s"><v>{codes[k]}</v></c>')
                k += 1
            elif kind == 2:
                cells.append(f'{heads[c]}{at}"><v>{float(grid[r, c]):.16G}</v></c>')
        rows.append(f'<row r="{at}">' + "".join(cells) + "</row>")
    body = "".join(rows)
    merge_xml = (f'<mergeCells count="{len(merges)}">' + "".join(f'<mergeCell ref="{m}"/>' for m in merges)
                 + "</mergeCells>") if merges else ""
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            f"<sheetData>{body}</sheetData>{merge_xml}</worksheet>")


def _names_only_content_types(n_sheets: int) -> str:
    sheets = "".join(f'<Override PartName="/xl/worksheets/sheet{k}.xml" ContentType="application/'
                     'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>' for k in range(1, n_sheets + 1))
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            f"{sheets}"
            '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
            '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
            "</Types>")


def _workbook_xml(names: list[str], hidden: set[int] = frozenset()) -> str:
    """xl/workbook.xml naming the sheets in order (index in `hidden`: a hidden sheet)."""
    esc = _xml_escape(np.array(names, dtype=object)).tolist()
    sheets = "".join(f'<sheet name="{n.replace(chr(34), "&quot;")}" sheetId="{k + 1}"'
                     f'{" state=" + chr(34) + "hidden" + chr(34) if k in hidden else ""} r:id="rId{k + 1}"/>'
                     for k, n in enumerate(esc))
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            f"<sheets>{sheets}</sheets></workbook>")


def _names_only_workbook_rels(n_sheets: int) -> str:
    ws = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
    rels = "".join(f'<Relationship Id="rId{k}" Type="{ws}worksheet" Target="worksheets/sheet{k}.xml"/>'
                   for k in range(1, n_sheets + 1))
    rels += (f'<Relationship Id="rId{n_sheets + 1}" Type="{ws}styles" Target="styles.xml"/>'
             f'<Relationship Id="rId{n_sheets + 2}" Type="{ws}sharedStrings" Target="sharedStrings.xml"/>')
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f"{rels}</Relationships>")
