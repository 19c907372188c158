"""Raw file -> text DataFrame + metadata. One function per format; every cell is read as text.

A reader returns `RawSheet`s: the cells below the header as a DataFrame of str/None whose
columns are the headers as written, positionally (a repeated header stays repeated, so the
header mapping can refuse it; blank headers and cells beyond the header get `_extra_<i>`), plus
`source_row` as defined in docs/data_contract.md §1. Header detection is delegated to a callable
`find_header(rows) -> index | None` so readers know nothing about the alias table; likewise
`text_columns(header) -> positions` names the columns whose cells must be stored as text (ID
numbers, 户编号, phones), for which an xlsx reader reports the cells stored as numbers.

`read_sheets` is the one place a file's format is chosen (by suffix, `format_of`): ingest, the
明白卡 head-name lookup (risk/cards.py) and the PII audit all read raw files through it. Raw Parquet
is read in batches with its own column types (ingest itself hands Parquet to DuckDB instead,
without pandas: see pipeline.py).

Hostile files are bounded (`Limits`, config/thresholds.toml [limits]): sizes, rows, columns,
cells and cell length are checked while reading, before a library is handed the file where it
would allocate by what the file declares (an xlsx sheet is decompressed and measured first).
Any failure is an `IngestError` naming the file (sheet, line) and what was expected.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import itertools
import posixpath
import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import pandas as pd
import pyarrow as pa

MAX_SCAN = 64  # rows handed to find_header (it looks at max_title_rows + 1 of them)
FindHeader = Callable[[Sequence[Sequence[str | None]]], "int | None"]
TextColumns = Callable[[Sequence[str | None]], "set[int]"]
CHUNK = 1 << 20  # bytes read or inflated at a time


class IngestError(ValueError):
    """Bad input: the message names file, sheet, row and column and what was expected."""


@dataclass
class RawSheet:
    """Cells of one sheet (or CSV/DTA/SAV file) below its header, all text.

    A reader gives the cells either as `data` or as `cells`, the same text as Arrow columns
    (positional, named by the headers as written; no per-cell Python object): `data` is then made
    from `cells` when first asked for (ingest itself reads `cells`: nodes.positional_table)."""

    data: pd.DataFrame | None  # columns: headers as written (+ `_extra_<i>`), positional; index irrelevant
    source_row: list[int]  # 1-based row a person sees, one per data row
    sheet: str | None
    header_row: int  # 1-based row of the header
    encoding: str | None = None
    merged_fills: list[tuple[int, list[str]]] = field(default_factory=list)  # (source_row, headers)
    # column position -> data-row indices whose cell is stored as a number (None: every non-empty
    # cell of the column); an xlsx reports only the positions `text_columns` asked for
    numeric_cells: dict[int, list[int] | None] = field(default_factory=dict)
    first_column: int = 0  # 0-based sheet column of data column 0 (for column letters in messages)
    # a sheet read in pieces (read_sheets' piece_cells): the piece's number (0 first) and whether it
    # is the sheet's last; a piece's numeric_cells and merged_fills are its own rows'. A CSV piece
    # is as wide as the widest row so far: later pieces may add `_extra_<i>` columns, never others
    piece: int = 0
    last: bool = True
    cells: object | None = None  # pyarrow.Table of string columns (see above), or None

    @property
    def headers(self) -> list[str]:
        """The column names (headers as written, `_extra_<i>`), without making `data`."""
        if self._data is None and self.cells is not None:
            return list(self.cells.column_names)
        return [str(h) for h in self.data.columns]

    def header_only(self) -> RawSheet:
        """This sheet's metadata and headers, no rows."""
        return replace(self, data=_columns_frame([[] for _ in self.headers], self.headers), cells=None)


def _get_data(sheet: RawSheet) -> pd.DataFrame | None:
    if sheet._data is None and sheet.cells is not None:
        sheet._data = _columns_frame([c.to_numpy(zero_copy_only=False) for c in sheet.cells.columns],
                                     sheet.cells.column_names)
    return sheet._data


def _set_data(sheet: RawSheet, value: pd.DataFrame | None) -> None:
    sheet._data = value


RawSheet.data = property(_get_data, _set_data)  # the dataclass field `data`, made on first use from `cells`


@dataclass(frozen=True)
class Limits:
    """What one raw file may hold (config/thresholds.toml [limits]); beyond it the file is refused."""

    max_file_bytes: int
    max_xlsx_part_bytes: int
    max_xlsx_total_bytes: int
    max_rows: int
    max_columns: int
    max_cells: int
    max_cell_chars: int

    @classmethod
    def from_policy(cls, policy=None) -> Limits:
        """The policy's config/thresholds.toml [limits] (load_policy() when none is given)."""
        if policy is None:
            from pipelines.policy import load_policy

            policy = load_policy()
        section = policy.thresholds.limits
        mb = 1 << 20
        return cls(
            max_file_bytes=int(section.max_file_mb * mb),
            max_xlsx_part_bytes=int(section.max_xlsx_part_mb * mb),
            max_xlsx_total_bytes=int(section.max_xlsx_total_mb * mb),
            max_rows=int(section.max_rows),
            max_columns=int(section.max_columns),
            max_cells=int(section.max_cells),
            max_cell_chars=int(section.max_cell_chars),
        )


LIMITS_HINT = "config/thresholds.toml [limits]"


def _limit_error(where: str, what: str, limit_name: str, limit: int | str) -> IngestError:
    return IngestError(f"{where}: {what}, over the limit {limit_name} = {limit} ({LIMITS_HINT}); "
                       f"split the file or raise the limit if it is genuine")


def file_digest(path: Path) -> tuple[str, int]:
    """SHA-256 hex and size in bytes of a raw file (read in chunks, never modified)."""
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


def column_letter(index: int) -> str:
    """0-based column index -> spreadsheet letters (0 -> A, 27 -> AB)."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _col_index(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n - 1


def _cell(value: object) -> str | None:
    """Header-area cell as text or None (data cells are cleaned in SQL, not here)."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    text = str(value)
    return text if text.strip() else None


def _names(header: Sequence[object], width: int) -> list[str]:
    """Column names from the header cells as written; blank and extra ones become `_extra_<i>`.
    A repeated header stays repeated: headers.map_headers decides whether that is an error."""
    names: list[str] = []
    for i in range(width):
        h = _cell(header[i]) if i < len(header) else None
        names.append(h if h is not None else f"_extra_{i}")
    return names


def _padded_columns(rows: Sequence[Sequence[str | None]], header: Sequence[object], width: int | None = None
                    ) -> list[Sequence[str | None]]:
    """Rows padded with None to a common width (the widest row or header, or `width` if wider), as
    columns."""
    width = max([len(header), width or 0, *(len(r) for r in rows)])
    padded = [list(r) + [None] * (width - len(r)) if len(r) < width else r for r in rows]
    return list(zip(*padded)) if padded else [()] * width


def _columns_frame(columns: Sequence[list], header: Sequence[object]) -> pd.DataFrame:
    """DataFrame of object columns from per-column lists (no per-cell work); names may repeat."""
    frame = pd.DataFrame({i: pd.Series(c, dtype=object) for i, c in enumerate(columns)}, columns=range(len(columns)))
    frame.columns = _names(header, len(columns))
    return frame


# ---- CSV -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _DecodeFailure:
    offset: int  # 0-based byte offset of the first byte that does not decode
    line: int  # 1-based line it is on
    byte: bytes  # the offending bytes (a few)
    non_ascii_before: bool  # text before it held non-ASCII characters that did decode


def _first_undecodable(path: Path, encoding: str, where: str) -> _DecodeFailure | None:
    """Stream-decode the file; the first byte that does not decode, or None. NUL bytes are refused
    on the way (a UTF-16 'Unicode text' export, or a binary file named .csv)."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    offset = lines = 0
    non_ascii = False
    with open(path, "rb") as fh:
        while True:
            chunk = fh.read(CHUNK)
            pending = decoder.getstate()[0]
            data = pending + chunk
            nul = chunk.find(b"\x00")
            if nul >= 0:
                line = lines + chunk.count(b"\n", 0, nul) + 1
                raise IngestError(f"{where}, line {line}: NUL byte at byte {offset + nul} (a UTF-16 'Unicode text' "
                                  f"export or a binary file?); expected CSV text: save it as CSV UTF-8")
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                at = offset - len(pending) + exc.start
                before = data[: exc.start]
                return _DecodeFailure(at, lines + before.count(b"\n") + 1, data[exc.start : max(exc.end, exc.start + 1)],
                                      non_ascii or not before.isascii())
            if not chunk:
                return None
            non_ascii = non_ascii or not chunk.isascii()
            lines += chunk.count(b"\n")
            offset += len(chunk)


def sniff_csv_encoding(path: Path, where: str) -> str:
    """'utf-8-sig' (BOM), 'utf-8', else 'gb18030' (superset of GBK: 䶮 breaks the gbk codec).

    A file that decodes as neither is refused naming the line and byte; so is a UTF-8 file with one
    bad byte after valid Chinese text (GB18030 would decode it into nonsense without a word)."""
    with open(path, "rb") as fh:
        head = fh.read(4)
    if head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        raise IngestError(f"{where}: UTF-16 text (Excel's 'Unicode text'); expected CSV in UTF-8 or GB18030: "
                          f"save it as CSV UTF-8")
    bom = head.startswith(codecs.BOM_UTF8)
    failure = _first_undecodable(path, "utf-8", where)
    if failure is None:
        return "utf-8-sig" if bom else "utf-8"
    if bom or failure.non_ascii_before:
        raise IngestError(f"{where}, line {failure.line}: byte {failure.offset} (0x{failure.byte.hex()}) is not valid "
                          f"UTF-8, in a file that is UTF-8 before it; expected UTF-8 text throughout: "
                          f"fix or re-export the file as CSV UTF-8")
    failure = _first_undecodable(path, "gb18030", where)
    if failure is None:
        return "gb18030"
    raise IngestError(f"{where}, line {failure.line}: byte {failure.offset} (0x{failure.byte.hex()}) decodes as "
                      f"neither UTF-8 nor GB18030; expected CSV text in UTF-8 (with or without BOM) or GB18030/GBK: "
                      f"re-export the file as CSV UTF-8")


def _csv_records(path: Path, encoding: str, limits: Limits, where: str) -> Iterator[tuple[list[str], int]]:
    """Every CSV record and the physical line it starts on (a quoted cell may hold line breaks:
    the next record starts after them, as a text editor shows it), one at a time. Bounded by
    `limits`."""
    cells = records = 0
    max_records = limits.max_rows + MAX_SCAN
    previous = csv.field_size_limit(limits.max_cell_chars + 1)  # the csv module refuses a field of the limit
    try:
        with open(path, encoding=encoding, newline="") as fh:
            reader = csv.reader(fh)
            line = 0  # physical lines consumed so far
            try:
                for row in reader:
                    start = line + 1
                    line = reader.line_num
                    if len(row) > limits.max_columns:
                        raise _limit_error(f"{where}, line {start}", f"{len(row)} cells in one row",
                                           "max_columns", limits.max_columns)
                    cells += len(row)
                    if cells > limits.max_cells:
                        raise _limit_error(where, f"more than {limits.max_cells} cells", "max_cells", limits.max_cells)
                    if records >= max_records:
                        raise _limit_error(where, f"more than {limits.max_rows} rows", "max_rows", limits.max_rows)
                    records += 1
                    yield row, start
            except csv.Error as exc:
                if "field larger than field limit" in str(exc):
                    raise _limit_error(f"{where}, line {line + 1}",
                                       f"a cell longer than {limits.max_cell_chars} characters (or a quote \" that "
                                       f"is never closed, making the rest of the file one cell)",
                                       "max_cell_chars", limits.max_cell_chars) from None
                raise IngestError(f"{where}, line {line + 1}: not readable as CSV ({exc})") from None
            except UnicodeDecodeError as exc:  # the file changed since it was sniffed
                raise IngestError(f"{where}, line {line + 1}: text is not {encoding} ({exc.reason})") from None
    finally:
        csv.field_size_limit(previous)


def piece_rows(piece_cells: int | None, width: int) -> int | None:
    """Rows of one piece of a sheet `width` columns wide: piece_cells cells (at least one row);
    None (no pieces: the whole sheet) when piece_cells is None."""
    return None if piece_cells is None else max(1, piece_cells // max(1, width))


def read_csv(path: Path, find_header: FindHeader, label: str | None = None, *, limits: Limits | None = None
             ) -> RawSheet:
    """CSV in UTF-8-BOM / UTF-8 / GB18030; title lines above the header allowed; ragged rows kept.
    source_row is the physical line a record starts on (quoted cells may span lines)."""
    (sheet,) = csv_pieces(path, find_header, label, limits=limits)
    return sheet


def csv_pieces(path: Path, find_header: FindHeader, label: str | None = None, *, limits: Limits | None = None,
               piece_cells: int | None = None) -> Iterator[RawSheet]:
    """read_csv in pieces of about piece_cells cells (None: one piece, the whole file), read as
    the file streams: only one piece's rows are held. Every limit is checked as for the whole file
    (a file over max_rows is refused before its last piece is given)."""
    limits = limits or Limits.from_policy()
    where = label or str(path)
    encoding = sniff_csv_encoding(path, where)
    records = _csv_records(path, encoding, limits, where)
    head = list(itertools.islice(records, MAX_SCAN))
    idx = find_header([[_cell(v) for v in r] for r, _start in head])
    if idx is None:
        for _record in records:  # a limit broken further down is named first, as when the whole file is read
            pass
        raise IngestError(f"{where}: no header row found in the first rows (expected a row of known column headers)")
    header, header_row = head[idx]
    size = piece_rows(piece_cells, len(header))
    first = head[idx + 1][1] if idx + 1 < len(head) else None  # line of the first data record (None: past the head)
    simple = _simple_body(path, header_row, len(header), limits) if first in (None, header_row + 1) else None
    if simple is not None:
        records.close()
        yield from _arrow_csv_pieces(path, encoding, header, header_row, simple, size, where)
        return
    body = itertools.chain(head[idx + 1:], records)
    del head
    width = len(header)
    rows: list[list[str]] = []
    starts: list[int] = []
    count = number = 0
    for row, start in body:
        if size is not None and len(rows) == size:  # a full piece, and another row after it: not the last
            width = max(width, *(len(r) for r in rows))
            yield RawSheet(data=None, cells=_text_table(_padded_columns(rows, header, width), header),
                           source_row=starts, sheet=None, header_row=header_row, encoding=encoding, piece=number,
                           last=False)
            rows, starts, number = [], [], number + 1
        rows.append(row)
        starts.append(start)
        count += 1
    if count > limits.max_rows:
        raise _limit_error(where, f"{count} data rows", "max_rows", limits.max_rows)
    width = max([width, *(len(r) for r in rows)])
    yield RawSheet(data=None, cells=_text_table(_padded_columns(rows, header, width), header), source_row=starts,
                   sheet=None, header_row=header_row, encoding=encoding, piece=number)


CSV_SCAN = 4 << 20  # bytes of a CSV examined at a time by _simple_body (its index arrays take up to ~16x a chunk
# on a CSV of mostly commas: 4 MiB -> ~64 MiB at most, beside the reader budget)


def _simple_body(path: Path, header_row: int, width: int, limits: Limits) -> tuple[int, int] | None:
    """(byte offset, data lines) of the records below the header on line `header_row` when they
    are simple enough that a plain split gives what the csv module gives: one record per line
    (no blank line, no CR but before LF), every one `width` cells, quotes only wrapping a whole
    cell (no quote inside one, none spanning lines), no line longer than max_cell_chars bytes,
    within max_rows and max_cells. None otherwise (the csv module reads the file, as always).
    ',', '"', CR and LF never occur inside a multi-byte UTF-8 or GB18030 character."""
    offset = lines = 0
    data_at = None
    carry = b""
    with open(path, "rb") as fh:
        while True:
            chunk = fh.read(CSV_SCAN)
            buf = carry + chunk
            cut = len(buf) if not chunk else buf.rfind(b"\n") + 1
            if cut <= 0 and chunk:
                carry = buf
                continue
            part, carry = buf[:cut], buf[cut:]
            start = offset
            offset += len(part)
            if data_at is None:  # skip the title lines and the header line
                ends = np.flatnonzero(np.frombuffer(part, np.uint8) == 10)
                skip = header_row - lines
                skipped = part if len(ends) < skip else part[:int(ends[skip - 1]) + 1 if skip else 0]
                if b"\r" in skipped.replace(b"\r\n", b""):
                    return None  # a CR not before LF: the csv module counts it as a line, this count would not
                if len(ends) < skip:
                    lines += len(ends)
                    if not chunk:
                        return None
                    continue
                data_at = start + len(skipped)
                part = part[data_at - start:]
                lines = 0
            if part:
                counted = _simple_lines(part, width, limits)
                if counted is None:
                    return None
                lines += counted
                if lines > limits.max_rows or lines * width > limits.max_cells:
                    return None
            if not chunk:
                return (data_at, lines) if data_at is not None else None


def _simple_lines(part: bytes, width: int, limits: Limits) -> int | None:
    """Lines in `part` (whole lines, the last may lack its LF) when every one is simple (see
    _simple_body), else None."""
    b = np.frombuffer(part, np.uint8)
    lf = np.flatnonzero(b == 10)
    ends = lf if len(lf) and lf[-1] == len(b) - 1 else np.append(lf, len(b))  # end of each line
    starts = np.concatenate(([0], ends[:-1] + 1))
    if ((ends - starts) > limits.max_cell_chars).any():
        return None
    cr = np.flatnonzero(b == 13)
    if len(cr) and (cr + 1 >= len(b)).any() or len(cr) and (b[np.minimum(cr + 1, len(b) - 1)] != 10).any():
        return None  # a CR not before LF
    body_ends = ends - np.isin(ends - 1, cr)  # line end without its CR
    if (body_ends <= starts).any():
        return None  # a blank line (the csv module gives it as an empty record)
    quotes = np.flatnonzero(b == 34)
    commas = np.flatnonzero(b == 44)
    if len(quotes):
        if len(quotes) % 2:
            return None
        opens, closes = quotes[0::2], quotes[1::2]
        line_of_open = np.searchsorted(ends, opens)
        if (np.searchsorted(ends, closes) != line_of_open).any():
            return None  # a quoted cell over two lines
        before = np.where(opens == starts[line_of_open], 44, b[np.maximum(opens - 1, 0)])
        after = np.where(closes + 1 == body_ends[line_of_open], 44, b[np.minimum(closes + 1, len(b) - 1)])
        if (before != 44).any() or (after != 44).any():
            return None  # a quote inside a cell, or text after a closing quote
        inside = np.searchsorted(opens, commas, side="right") - np.searchsorted(closes, commas, side="right")
        commas = commas[inside == 0]
    per_line = np.bincount(np.searchsorted(ends, commas), minlength=len(ends))
    if (per_line != width - 1).any():
        return None
    return len(ends)


def _arrow_csv_pieces(path: Path, encoding: str, header: list[str], header_row: int, simple: tuple[int, int],
                      size: int | None, where: str | None = None) -> Iterator[RawSheet]:
    """The records below the header of a simple CSV (_simple_body) parsed by Arrow, in pieces of
    `size` rows, as csv_pieces gives them (cells as text, '' for an empty cell)."""
    import pyarrow.csv as pacsv

    offset, lines = simple
    names = [f"c{i}" for i in range(len(header))]
    with open(path, "rb") as fh:
        fh.seek(offset)
        reader = pacsv.open_csv(
            fh,
            read_options=pacsv.ReadOptions(column_names=names, encoding="utf8" if encoding.startswith("utf-8") else encoding,
                                           block_size=4 << 20),
            parse_options=pacsv.ParseOptions(newlines_in_values=False, ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False))
        size = size or max(lines, 1)
        pending: list = []
        held = done = number = 0
        for batch in itertools.chain(reader, [None]):
            if batch is not None:
                pending.append(batch)
                held += batch.num_rows
            while held >= size and (held > size or batch is None) or batch is None and (held or not number):
                table = pa.Table.from_batches(pending, reader.schema) if pending else pa.table(
                    {n: pa.array([], pa.string()) for n in names})
                n = min(size, held)
                piece, rest = table.slice(0, n), table.slice(n)
                pending, held = rest.to_batches(), held - n
                last = batch is None and not held
                yield RawSheet(data=None, cells=_text_table(list(piece.columns), header),
                               source_row=list(range(header_row + 1 + done, header_row + 1 + done + n)), sheet=None,
                               header_row=header_row, encoding=encoding, piece=number, last=last)
                done, number = done + n, number + 1
                if last:
                    break
    if done != lines:
        raise IngestError(f"{where or path}: {done} records read below the header on line {header_row}, {lines} lines "
                          f"counted before (the file changed while read?); expected the same: read it again")


# ---- xlsx: measured before it is opened ------------------------------------------------------------

_NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
       "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships"}
_SIGNATURES = (
    (b"\xd0\xcf\x11\xe0", "an old Excel 97-2003 .xls or a password-protected workbook"),
    (b"<", "HTML or XML text (a web page saved with an .xlsx name)"),
    (b"\xef\xbb\xbf<", "HTML or XML text (a web page saved with an .xlsx name)"),
)


def _not_a_workbook(path: Path, where: str, why: str) -> IngestError:
    with open(path, "rb") as fh:
        head = fh.read(512)
    looks = next((what for sig, what in _SIGNATURES if head.lstrip(b" \t\r\n").startswith(sig)), None)
    if looks is None and head.startswith(b"PK\x03\x04"):
        looks = "a zip archive that ends early or is damaged (a truncated download or copy)"
    if looks is None and head and b"," in head and b"\x00" not in head:
        looks = "CSV text"
    found = f"the file is {looks}" if looks else f"{why}"
    return IngestError(f"{where}: not a readable xlsx workbook ({found}); expected an Excel .xlsx: "
                       f"open it in Excel and save as 'Excel Workbook (*.xlsx)'")


def _inflate(path: Path, info: zipfile.ZipInfo, limit: int, where: str) -> Iterator[bytes]:
    """The decompressed bytes of one zip member, counted as they come (the sizes the zip
    directory declares are not trusted): an IngestError past `limit` bytes."""
    part = f"{where}: part {info.filename}"
    with open(path, "rb") as fp:
        fp.seek(info.header_offset)
        head = fp.read(30)
        if len(head) < 30 or head[:4] != b"PK\x03\x04":
            raise IngestError(f"{part}: local header missing (a truncated or damaged file); expected an intact xlsx")
        name_len, extra_len = struct.unpack("<HH", head[26:30])
        fp.seek(info.header_offset + 30 + name_len + extra_len)
        if info.flag_bits & 0x1:
            raise IngestError(f"{part}: encrypted zip member; expected an unencrypted xlsx")
        total = 0
        if info.compress_type == zipfile.ZIP_STORED:
            left = info.compress_size
            if left > limit:
                raise _limit_error(part, f"{left} bytes", "max_xlsx_part_mb", limit >> 20)
            while left:
                data = fp.read(min(CHUNK, left))
                if not data:
                    raise IngestError(f"{part}: ends early (a truncated file); expected an intact xlsx")
                left -= len(data)
                yield data
            return
        if info.compress_type != zipfile.ZIP_DEFLATED:
            raise IngestError(f"{part}: compression method {info.compress_type} (expected deflate, as Excel writes)")
        inflater = zlib.decompressobj(-15)
        while not inflater.eof:
            data = fp.read(1 << 16)
            if not data:
                raise IngestError(f"{part}: compressed data ends early (a truncated file); expected an intact xlsx")
            while True:
                try:
                    out = inflater.decompress(data, CHUNK)
                except zlib.error as exc:
                    raise IngestError(f"{part}: compressed data is damaged ({exc}); expected an intact xlsx") from None
                if out:
                    total += len(out)
                    if total > limit:
                        raise _limit_error(part, f"decompresses to more than {limit >> 20} MB", "max_xlsx_part_mb",
                                           limit >> 20)
                    yield out
                data = inflater.unconsumed_tail
                if inflater.eof or (not data and len(out) < CHUNK):
                    break


# Cell and row references. Writers spell them r="AB12" / r="12" (a literal: fast to search); any
# other spelling (r='12', r = "ab12", or none at all) sends the part to an exact, slower count.
_REF_PLAIN = b' r="'
_REF_ANY = re.compile(rb"""(?<=\s)r\s*=\s*["']\s*([A-Za-z]*)(\d*)""")
_CELL_TAG = re.compile(rb"<c[\s>/]")
_ROW_TAG = re.compile(rb"<row[\s>/]")
_ROW_REF = re.compile(rb'<row r="(\d+)"')
_NOT_TEXT_ATTR = re.compile(rb' t="[ndbe]"')  # a cell typed number, date, boolean or error (_NOT_TEXT)
_MERGE = re.compile(rb"""<mergeCell\b[^>]*?\bref\s*=\s*["']\s*([A-Za-z]+)(\d+)\s*:\s*([A-Za-z]+)(\d+)""")


def _count(pattern: re.Pattern, buf: bytes, carry: bytes) -> int:
    """Matches in buf not wholly inside carry (those were counted with the previous chunk)."""
    return len(pattern.findall(buf)) - len(pattern.findall(carry))


def _letters_above(letters: str) -> re.Pattern:
    """Plain references whose column letters come after `letters` (any case): a sparse search."""
    alts = [b"[A-Za-z]{%d,}" % (len(letters) + 1)]
    for i, ch in enumerate(letters):
        if ch < "Z":
            nxt = chr(ord(ch) + 1)
            prefix = "".join(f"[{c}{c.lower()}]" for c in letters[:i])
            alts.append(f"{prefix}[{nxt}-Z{nxt.lower()}-z][A-Za-z]{{{len(letters) - i - 1}}}".encode())
    return re.compile(re.escape(_REF_PLAIN) + b"(" + b"|".join(alts) + rb")(?![A-Za-z])")


def _number_above(n: int) -> re.Pattern:
    """Plain references (cell or row) whose row number is above n."""
    digits = str(n)
    alts = [rb"\d{%d,}" % (len(digits) + 1)]
    for i, ch in enumerate(digits):
        if ch < "9":
            alts.append(f"{digits[:i]}[{int(ch) + 1}-9]\\d{{{len(digits) - i - 1}}}".encode())
    return re.compile(re.escape(_REF_PLAIN) + rb"[A-Za-z]*(" + b"|".join(alts) + rb')"')


@dataclass
class _SheetScan:
    """What a sheet part holds, measured while it streams: its extent and merges.

    Fast mode (plain references): the exact last column, and a search for any row beyond what
    the limits allow at that width (rows_allowed); both searches match almost nothing in a normal
    sheet. Exact mode (set when the tags and plain references do not add up): every reference."""

    limits: Limits
    exact: bool = False
    max_row: int = 0
    max_col: int = -1
    beyond: bytes | None = None  # a reference past rows_allowed (fast mode)
    refs: int = 0
    cell_refs: int = 0
    row_refs: int = 0
    cell_tags: int = 0
    r_first: int = 0  # cell tags that start <c r="
    typed: int = 0  # cells with a ' t="' attribute (a cell without one holds a number)
    not_text: int = 0  # cells typed as number, date, boolean or error
    row_tags: int = 0
    merges: set = field(default_factory=set)
    rows_checked_at: int | None = None  # the largest rows_allowed a chunk was checked against
    _carry: bytes = b""
    _cols: re.Pattern | None = None
    _rows: re.Pattern | None = None

    @property
    def rows_allowed(self) -> int:
        width = max(1, self.max_col + 1)
        return min(self.limits.max_rows + MAX_SCAN, self.limits.max_cells // width)

    def feed(self, chunk: bytes) -> None:
        buf = self._carry + chunk
        carry = self._carry
        self.cell_tags += _count(_CELL_TAG, buf, carry)
        self.r_first += buf.count(b'<c r="') - carry.count(b'<c r="')
        self.typed += buf.count(b' t="') - carry.count(b' t="')
        self.not_text += _count(_NOT_TEXT_ATTR, buf, carry)
        self.row_tags += _count(_ROW_TAG, buf, carry)
        if self.exact:
            self._feed_exact(buf, carry)
        else:
            self._feed_fast(buf, carry)
        if b"<mergeCell" in buf:  # the pattern's literal start: no search of a sheet without merges
            self.merges.update(_MERGE.findall(buf))
        self._carry = buf[-256:]

    def _feed_fast(self, buf: bytes, carry: bytes) -> None:
        self.refs += buf.count(_REF_PLAIN) - carry.count(_REF_PLAIN)
        rows = _ROW_REF.findall(buf)
        self.row_refs += len(rows) - len(_ROW_REF.findall(carry))
        if rows:
            self.max_row = max(self.max_row, max(map(int, set(rows))))
        pos = 0
        while True:  # a new last column: rare after the header row
            self._cols = self._cols or _letters_above(column_letter(self.max_col) if self.max_col >= 0 else "")
            m = self._cols.search(buf, pos)
            if m is None:
                break
            self.max_col = _col_index(m.group(1).decode("ascii"))
            self._cols, pos = None, m.end()
            if self.max_col + 1 > self.limits.max_columns:
                return
        allowed = self.rows_allowed
        if self._rows is None or self.rows_checked_at != allowed:
            self._rows = _number_above(allowed)
        self.rows_checked_at = max(self.rows_checked_at or 0, allowed)
        m = self._rows.search(buf)
        if m is not None and self.beyond is None:
            self.beyond = m.group(0)[len(_REF_PLAIN):-1]

    def _feed_exact(self, buf: bytes, carry: bytes) -> None:
        refs = _REF_ANY.findall(buf)
        old = _REF_ANY.findall(carry)
        if not refs:
            return
        letters, digits = zip(*refs)
        old_letters = [c for c, _ in old]
        cells = len(letters) - letters.count(b"")
        self.cell_refs += cells - (len(old_letters) - old_letters.count(b""))
        self.row_refs += (len(refs) - cells) - (len(old) - (len(old_letters) - old_letters.count(b"")))
        numbers = set(digits) - {b""}
        if numbers:
            self.max_row = max(self.max_row, max(map(int, numbers)))
        names = set(letters) - {b""}
        if names:
            self.max_col = max(self.max_col, max(_col_index(c.decode("ascii")) for c in names))

    @property
    def plain(self) -> bool:
        """Every cell and row tag carries a plain reference (fast mode's measures hold)."""
        return self.cell_tags + self.row_tags == self.refs and self.row_tags == self.row_refs

    @property
    def only_text(self) -> bool:
        """Every cell is typed as text (inline or shared strings): no cell holds a number."""
        return self.typed == self.cell_tags and self.not_text == 0 and self.r_first == self.cell_tags

    @property
    def rechecked(self) -> bool:
        """False when the width grew after rows were checked against a larger allowance."""
        return self.rows_checked_at is None or self.rows_checked_at <= self.rows_allowed


def _bounded_xml(path: Path, zf: zipfile.ZipFile, name: str, limits: Limits, where: str) -> ElementTree.Element:
    try:
        info = zf.getinfo(name)
    except KeyError:
        raise IngestError(f"{where}: part {name} missing; expected an xlsx workbook") from None
    data = b"".join(_inflate(path, info, limits.max_xlsx_part_bytes, where))
    try:
        return ElementTree.fromstring(data)
    except ElementTree.ParseError as exc:
        raise IngestError(f"{where}: part {name} is not well-formed XML ({exc}); expected an intact xlsx") from None


def _sheet_parts(path: Path, zf: zipfile.ZipFile, limits: Limits, where: str) -> dict[str, str]:
    """Sheet name -> path of its XML part inside the xlsx zip."""
    wb = _bounded_xml(path, zf, "xl/workbook.xml", limits, where)
    rels = _bounded_xml(path, zf, "xl/_rels/workbook.xml.rels", limits, where)
    targets = {r.get("Id"): r.get("Target") or "" for r in rels}
    out = {}
    for s in wb.iter(f"{{{_NS['m']}}}sheet"):
        target = targets.get(s.get(f"{{{_NS['r']}}}id"), "").lstrip("/")
        out[s.get("name")] = posixpath.normpath(target if target.startswith("xl/") else f"xl/{target}")
    return out


def _scan_part(path: Path, info: zipfile.ZipInfo, limits: Limits, where: str, exact: bool) -> _SheetScan:
    scan = _SheetScan(limits, exact=exact)
    for chunk in _inflate(path, info, limits.max_xlsx_part_bytes, where):
        scan.feed(chunk)
    return scan


def inspect_xlsx(path: Path, limits: Limits, where: str) -> dict[str, _SheetScan]:
    """Measure an xlsx before any library opens it: declared and actual decompressed sizes of every
    part, each sheet's extent (rows × columns, as the reader would allocate it), merges.
    Per sheet name: its scan. Raises IngestError naming the file, sheet and limit."""
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise _not_a_workbook(path, where, f"not a zip archive: {exc}") from None
    with zf:
        infos = zf.infolist()
        declared = 0
        for info in infos:
            if info.file_size > limits.max_xlsx_part_bytes:
                raise _limit_error(f"{where}: part {info.filename}", f"declares {info.file_size >> 20} MB decompressed",
                                   "max_xlsx_part_mb", limits.max_xlsx_part_bytes >> 20)
            declared += info.file_size
        if declared > limits.max_xlsx_total_bytes:
            raise _limit_error(where, f"declares {declared >> 20} MB decompressed", "max_xlsx_total_mb",
                               limits.max_xlsx_total_bytes >> 20)
        parts = _sheet_parts(path, zf, limits, where)
        by_part = {part: name for name, part in parts.items()}
        scans: dict[str, _SheetScan] = {}
        total = 0
        for info in infos:
            sheet = by_part.get(info.filename)
            scan = _SheetScan(limits) if sheet is not None else None
            size = 0
            for chunk in _inflate(path, info, limits.max_xlsx_part_bytes, where):
                size += len(chunk)
                total += len(chunk)
                if total > limits.max_xlsx_total_bytes:
                    raise _limit_error(where, f"decompresses to more than {limits.max_xlsx_total_bytes >> 20} MB",
                                       "max_xlsx_total_mb", limits.max_xlsx_total_bytes >> 20)
                if scan is not None:
                    scan.feed(chunk)
                    if scan.max_col + 1 > limits.max_columns or scan.beyond is not None:
                        _check_extent(scan, limits, f"{where}, sheet '{sheet}'")
            if size != info.file_size:
                raise IngestError(f"{where}: part {info.filename} decompresses to {size} bytes but the zip directory "
                                  f"says {info.file_size} (a damaged or doctored file); expected an intact xlsx")
            if scan is None:
                continue
            if not scan.plain:  # references spelled otherwise, or missing: count every one
                scan = _scan_part(path, info, limits, where, exact=True)
            elif not scan.rechecked:  # the last column came late: rows again at the final width
                scan = _scan_part(path, info, limits, where, exact=False)
            _check_extent(scan, limits, f"{where}, sheet '{sheet}'")
            scans[sheet] = scan
    return scans


def _check_extent(scan: _SheetScan, limits: Limits, where: str) -> None:
    """The rows × columns a reader allocates for the sheet within the limits: from the cell
    references, plus cells written without one (each takes the next column) and, when there are
    such cells, rows written without one (each takes the next row)."""
    if scan.max_col + 1 > limits.max_columns:
        raise _limit_error(where, f"cells out to column {column_letter(scan.max_col)}", "max_columns", limits.max_columns)
    if scan.beyond is not None:
        ref = scan.beyond.decode("ascii", "replace")
        at = f"a cell at {ref}" if ref[:1].isalpha() else f"row {ref}"
        raise _limit_error(where, f"{at} with cells out to column "
                                  f"{column_letter(max(scan.max_col, 0))} (more than {scan.rows_allowed} rows at that width)",
                           "max_rows/max_cells", f"{limits.max_rows}/{limits.max_cells}")
    cells_without_ref = max(0, scan.cell_tags - scan.cell_refs) if scan.exact else 0
    rows_without_ref = max(0, scan.row_tags - scan.row_refs) if cells_without_ref else 0
    rows = scan.max_row + rows_without_ref
    cols = scan.max_col + 1 + cells_without_ref
    if rows > limits.max_rows + MAX_SCAN:
        raise _limit_error(where, f"{rows} rows", "max_rows", limits.max_rows)
    if cols > limits.max_columns:
        raise _limit_error(where, f"cells out to column {cols} (counting {cells_without_ref} cells written without "
                                  f"a cell reference)", "max_columns", limits.max_columns)
    if rows * cols > limits.max_cells:
        raise _limit_error(where, f"{rows} rows × {cols} columns", "max_cells", limits.max_cells)
    area = sum((int(r2) - int(r1) + 1) * (_col_index(c2.decode()) - _col_index(c1.decode()) + 1)
               for c1, r1, c2, r2 in scan.merges)
    if len(scan.merges) > limits.max_cells or area > limits.max_cells:
        raise _limit_error(where, f"{len(scan.merges)} merged ranges over {area} cells", "max_cells", limits.max_cells)


_T_ATTR = re.compile(rb"""(?<=\s)t\s*=\s*["']\s*(\w+)""")
_NOT_TEXT = (b"n", b"d", b"b", b"e")  # number, date, boolean, error: every cell type but a string


def _numeric_cells(path: Path, part: str, letters: dict[str, int], limits: Limits, where: str, r_first: bool
                   ) -> dict[int, list[int]]:
    """Per column (letters -> position): Excel rows (1-based) whose cell is not stored as text
    (no `t` attribute, or t="n" / "d" / "b" / "e"), read from the sheet XML; only the columns asked
    for. r_first: every cell tag starts `<c r="` (as writers write it): a literal-led search."""
    if not letters:
        return {}
    names = b"|".join(re.escape(k.encode()) for k in sorted(letters, key=len, reverse=True))
    if r_first:
        pattern = re.compile(rb'<c r="(' + names + rb')(\d+)"([^>]*)>')
    else:
        pattern = re.compile(rb"<c\b[^>]*?(?<=\s)r\s*=\s*[\"']\s*(" + names + rb")(\d+)\s*[\"']([^>]*)>", re.I)
    found: dict[int, set[int]] = {}
    carry = b""
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(part)
    for chunk in _inflate(path, info, limits.max_xlsx_part_bytes, where):
        buf = carry + chunk
        for col, row, attrs in pattern.findall(buf):
            if attrs.endswith(b"/"):
                continue  # <c r="B4" s="1"/>: a styled blank
            if r_first and b' t="' in attrs:
                kind = attrs.split(b' t="', 1)[1].split(b'"', 1)[0]
            else:
                t = _T_ATTR.search(attrs)
                kind = t.group(1) if t else b"n"
            if kind in _NOT_TEXT:
                found.setdefault(letters[col.decode().upper()], set()).add(int(row))
        carry = buf[-512:]
    return {pos: sorted(rows) for pos, rows in found.items()}


MAX_HEADER_ROWS = 3  # a header of merged cells spans at most this many rows


def header_bottom(top: int, ranges: Sequence[tuple[int, int, int, int]], scanned: int) -> int:
    """The last row of the header that starts on row `top`: a cell merged down from it (序号 over
    two header rows, beside 收入情况 merged across its sub-headers) makes the header that deep."""
    bottom = top
    for r1, _c1, r2, _c2 in ranges:
        if r1 == top and r2 > r1:
            bottom = max(bottom, min(r2, top + MAX_HEADER_ROWS - 1, scanned - 1))
    return bottom


def stacked_header(rows: Sequence[Sequence[str | None]]) -> list[str | None]:
    """One header from the rows of a header of merged cells: per column, its lowest non-blank cell
    (a sub-header under a group title, or the cell merged down over the rows)."""
    width = max((len(r) for r in rows), default=0)
    out: list[str | None] = []
    for c in range(width):
        cells = [r[c] for r in rows if c < len(r) and r[c] is not None]
        out.append(cells[-1] if cells else None)
    return out


def _fill_merges(columns: list[list], header_idx: int, header: list[str | None], ranges, *, start: int = 0,
                 height: int | None = None, carried: dict[int, object] | None = None) -> list[tuple[int, list[str]]]:
    """Fill each merged range's top-left value over the range (data area only); return fills.
    Ranges are (row1, col1, row2, col2), 0-based in the loaded table's coordinates. `columns` hold
    the table's rows start … start + len - 1 (a piece of a table `height` rows high; the whole
    table by default); `carried` keeps, per range (its index) whose top-left is in this piece and
    that reaches past it, the value the later pieces fill with. Ranges are applied in order in
    each piece, so a piece is filled exactly as the same rows of the whole table are."""
    filled: dict[int, list[str]] = {}
    end = start + (len(columns[0]) if columns else 0)
    height = end if height is None else height
    carried = {} if carried is None else carried
    for i, (r1, c1, r2, c2) in enumerate(ranges):
        if r1 <= header_idx or r1 >= height or c1 < 0 or c1 >= len(columns):
            continue
        last = min(r2, height - 1)
        if r1 >= end or last < start:
            continue  # outside this piece
        if r1 >= start:
            value = columns[c1][r1 - start]
            if last >= end:
                carried[i] = value
        else:
            value = carried[i]
        for c in range(c1, min(c2, len(columns) - 1) + 1):
            col = columns[c]
            for r in range(max(r1, start), min(last, end - 1) + 1):
                if (r, c) == (r1, c1) or _cell(col[r - start]) is not None:
                    continue
                col[r - start] = value
                if _cell(value) is not None:
                    head = _cell(header[c]) if c < len(header) else None
                    filled.setdefault(r + 1, []).append(head or f"_extra_{c}")
    return sorted(filled.items())


def _text_table(columns: Sequence, header: Sequence[object]) -> pa.Table:
    """Arrow text columns (Arrow arrays, or lists of str / None) as RawSheet.cells, named by header
    (see _names)."""
    arrays = [pa.chunked_array([c]) if isinstance(c, pa.Array) else c if isinstance(c, pa.ChunkedArray)
              else pa.chunked_array([pa.array(c, pa.string())]) for c in columns]
    return pa.Table.from_arrays([a.cast(pa.string()) for a in arrays], names=_names(header, len(columns)))


def _merged_columns(ranges, start: int, end: int, width: int) -> list[int]:
    """Columns a merged range (row1, col1, row2, col2; table coordinates) reaches within table rows
    start … end - 1: the ones _fill_merges may read or fill there."""
    out: set[int] = set()
    for r1, c1, r2, c2 in ranges:
        if r1 < end and r2 >= start and c2 >= 0 and c1 < width:
            out.update(range(max(c1, 0), min(c2, width - 1) + 1))
    return sorted(out)


def _load_sheet(reader, name: str, where: str):
    import fastexcel

    try:
        sheet = reader.load_sheet(name, header_row=None, skip_rows=0, dtypes="string")
        table = sheet.to_arrow()
    except fastexcel.FastExcelError as exc:
        raise IngestError(f"{where}: cannot read the sheet ({' '.join(str(exc).split())[:200]}); "
                          f"expected an intact xlsx") from None
    columns = sheet.available_columns()
    first_col = columns[0].absolute_index if columns else 0
    return table, first_col


def _check_cell_length(table, limits: Limits, where: str, first_col: int) -> None:
    import pyarrow.compute as pc

    for i, col in enumerate(table.columns):
        if col.null_count == len(col):
            continue
        lengths = pc.utf8_length(col)
        if (pc.max(lengths).as_py() or 0) > limits.max_cell_chars:
            row = pc.index(pc.greater(lengths, limits.max_cell_chars), True).as_py()
            raise _limit_error(f"{where}, cell {column_letter(first_col + i)}{row + 1}",
                               f"a cell longer than {limits.max_cell_chars} characters", "max_cell_chars",
                               limits.max_cell_chars)


def read_xlsx(path: Path, find_header: FindHeader, label: str | None = None, *, limits: Limits | None = None,
              text_columns: TextColumns | None = None) -> list[RawSheet]:
    """Every sheet that has a header row; cells as text (fastexcel); merged cells filled.
    The file is measured first (inspect_xlsx); cells of `text_columns` stored as numbers are reported."""
    return list(xlsx_pieces(path, find_header, label, limits=limits, text_columns=text_columns))


def xlsx_pieces(path: Path, find_header: FindHeader, label: str | None = None, *, limits: Limits | None = None,
                text_columns: TextColumns | None = None, piece_cells: int | None = None) -> Iterator[RawSheet]:
    """read_xlsx sheet by sheet, each in pieces of about piece_cells cells (None: one piece per
    sheet). A sheet is loaded whole as Arrow text (fastexcel); only a piece's cells are made
    Python objects at a time."""
    import fastexcel

    limits = limits or Limits.from_policy()
    where = label or str(path)
    scans = inspect_xlsx(path, limits, where)
    try:
        reader = fastexcel.read_excel(str(path))
    except fastexcel.FastExcelError as exc:
        raise _not_a_workbook(path, where, " ".join(str(exc).split())[:200]) from None
    with zipfile.ZipFile(path) as zf:
        parts = _sheet_parts(path, zf, limits, where)
    sheets = 0
    for name in reader.sheet_names:
        sheet_where = f"{where}, sheet '{name}'"
        scan = scans.get(name)
        if scan is None:
            raise IngestError(f"{sheet_where}: its part ({parts.get(name)}) is not in the file; expected an intact xlsx")
        for piece in _xlsx_sheet(path, reader, name, scan, parts.get(name), find_header, text_columns, limits,
                                 sheet_where, piece_cells):  # none: notes / an empty sheet, no header row in it
            sheets += piece.last
            yield piece
    if not sheets:
        raise IngestError(f"{where}: no sheet has a header row (expected a row of known column headers)")


def _xlsx_sheet(path: Path, reader, name: str, scan: _SheetScan, part: str | None, find_header: FindHeader,
                text_columns: TextColumns | None, limits: Limits, where: str, piece_cells: int | None = None
                ) -> Iterator[RawSheet]:
    """One measured sheet below its header row, in pieces (none when it has no header row):
    merged cells filled, the cells of `text_columns` stored as numbers listed."""
    table, first_col = _load_sheet(reader, name, where)
    if table.num_rows > limits.max_rows + MAX_SCAN or table.num_columns > limits.max_columns:
        raise _limit_error(where, f"{table.num_rows} rows × {table.num_columns} columns", "max_rows/max_columns",
                           f"{limits.max_rows}/{limits.max_columns}")
    _check_cell_length(table, limits, where, first_col)
    # row i = Excel row i + 1 (skip_rows=0)
    head = [c.to_pylist() for c in table.slice(0, MAX_SCAN).columns]
    head_rows = [[_cell(c[i]) for c in head] for i in range(min(MAX_SCAN, table.num_rows))]
    top = find_header(head_rows)
    if top is None:
        return
    ranges = [(int(r1) - 1, _col_index(c1.decode()) - first_col, int(r2) - 1, _col_index(c2.decode()) - first_col)
              for c1, r1, c2, r2 in sorted(scan.merges)]
    idx = header_bottom(top, ranges, len(head_rows))  # last row of a header of merged cells
    header = stacked_header(head_rows[top:idx + 1])
    height = table.num_rows - idx - 1  # data rows
    numeric: dict[int, list[int]] = {}
    wanted = text_columns(header) if text_columns else set()
    if wanted and not scan.only_text:
        letters = {column_letter(first_col + pos): pos for pos in wanted}
        r_first = scan.r_first == scan.cell_tags
        for pos, rows in _numeric_cells(path, part, letters, limits, where, r_first).items():
            data_rows = [r - 1 - (idx + 1) for r in rows]
            numeric[pos] = [i for i in data_rows if 0 <= i < height]
    if height > limits.max_rows:
        raise _limit_error(where, f"{height} data rows", "max_rows", limits.max_rows)
    size = piece_rows(piece_cells, table.num_columns) or max(height, 1)
    carried: dict[int, object] = {}
    for number, at in enumerate(range(0, max(height, 1), size)):
        n = min(size, height - at)
        start = idx + 1 + at  # the piece's first row in the table
        columns: list = [c.slice(start, n) for c in table.columns]
        merged = _merged_columns(ranges, start, start + n, len(columns))
        for c in merged:  # only the columns a merged range reaches are made Python lists (and filled)
            columns[c] = columns[c].to_pylist()
        fills = _fill_merges(columns, idx, header, ranges, start=start, height=table.num_rows, carried=carried)
        piece_numeric = {p: [i - at for i in r if at <= i < at + n] for p, r in numeric.items()}
        yield RawSheet(
            data=None,
            cells=_text_table(columns, header),
            source_row=list(range(start + 1, start + n + 1)),
            sheet=name,
            header_row=top + 1,
            merged_fills=fills,
            numeric_cells={p: r for p, r in piece_numeric.items() if r},
            first_column=first_col,
            piece=number,
            last=at + size >= height,
        )


# ---- Stata / SPSS --------------------------------------------------------------------------------

def _check_stats_shape(rows: int | None, cols: int, limits: Limits, where: str) -> None:
    if cols > limits.max_columns:
        raise _limit_error(where, f"{cols} variables", "max_columns", limits.max_columns)
    if rows is not None and rows > limits.max_rows:
        raise _limit_error(where, f"{rows} observations", "max_rows", limits.max_rows)
    if rows is not None and rows * cols > limits.max_cells:
        raise _limit_error(where, f"{rows} observations × {cols} variables", "max_cells", limits.max_cells)


def _stats_frame(df: pd.DataFrame, find_header: FindHeader, label: str, limits: Limits, first: int = 0,
                 piece: int = 0, last: bool = True) -> RawSheet:
    """A .dta / .sav frame (or a piece of one starting at observation `first`) as a RawSheet."""
    header = [str(c) for c in df.columns]
    if find_header([header]) is None:
        raise IngestError(f"{label}: variable names are not known column headers")
    _check_stats_shape(len(df), len(df.columns), limits, label)
    numeric: dict[int, list[int] | None] = {}
    for i in range(df.shape[1]):
        s = df.iloc[:, i]
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            numeric[i] = None  # every non-empty value of the variable is a number
        elif s.dtype == object and len(s):
            try:
                longest = s.str.len().max()  # NaN for a cell that is not text (and for no text at all)
            except AttributeError:  # no text in the column at all
                longest = 0
            if longest > limits.max_cell_chars:
                raise _limit_error(f"{label}, variable '{header[i]}'",
                                   f"a value longer than {limits.max_cell_chars} characters", "max_cell_chars",
                                   limits.max_cell_chars)
    cells = _text_table(_text_columns(df, arrow=True), header)
    return RawSheet(data=None, cells=cells, source_row=list(range(first + 2, first + 2 + len(df))), sheet=None, header_row=1,
                    numeric_cells=numeric, piece=piece, last=last)


def _stats_pieces(read: Callable[[int, int | None], pd.DataFrame], rows: int | None, size: int | None,
                  find_header: FindHeader, where: str, limits: Limits) -> Iterator[RawSheet]:
    """The pieces of a .dta / .sav file: `read(offset, n)` gives n observations from offset (n
    None: all the rest); `rows` the observations the file declares (None: unknown, so each piece
    is known to be the last only when the next one comes back empty)."""
    if size is None:
        yield _stats_frame(read(0, None), find_header, where, limits)
        return
    offset, number = 0, 0
    frame = read(0, size)
    while True:
        done = offset + len(frame)
        if rows is not None:
            last = done >= rows or len(frame) < size
            following = None
        else:
            following = read(done, size) if len(frame) == size else None
            last = following is None or len(following) == 0
        yield _stats_frame(frame, find_header, where, limits, offset, number, last)
        if last:
            return
        frame = following if following is not None else read(done, size)
        offset, number = done, number + 1


def _labelled(df: pd.DataFrame, labels: dict[str, str | None]) -> pd.DataFrame:
    """Variable labels as headers where present: Stata and SPSS names cannot hold brackets or
    full-width punctuation, so exporters keep the original header (务工时间（月）) as the label."""
    out = df.copy(deep=False)
    out.columns = [labels[c].strip() if labels.get(c) and labels[c].strip() else c for c in df.columns]
    return out


def _stats_error(where: str, what: str, exc: BaseException) -> IngestError:
    return IngestError(f"{where}: not readable as {what} ({type(exc).__name__}: {' '.join(str(exc).split())[:200]}); "
                       f"expected an intact file: export it again")


def read_dta(path: Path, find_header: FindHeader, label: str | None = None, *, limits: Limits | None = None
             ) -> RawSheet:
    """Stata .dta (format 118, Unicode names; variable labels win); values as text, value labels not applied."""
    (sheet,) = dta_pieces(path, find_header, label, limits=limits)
    return sheet


def dta_pieces(path: Path, find_header: FindHeader, label: str | None = None, *, limits: Limits | None = None,
               piece_cells: int | None = None) -> Iterator[RawSheet]:
    """read_dta in pieces of about piece_cells cells (None: one piece): pyreadstat's row_offset and
    row_limit (its C decoder: pandas' StataReader decodes every text cell in Python). Numbers come
    as float64 (whole numbers still read '3'), dates as their numbers, value labels not applied."""
    import pyreadstat

    yield from _pyreadstat_pieces(path, pyreadstat.read_dta, "a Stata .dta file", {"disable_datetime_conversion": True},
                                  find_header, label, limits, piece_cells)


def _pyreadstat_pieces(path: Path, reader: Callable, what: str, options: dict, find_header: FindHeader,
                       label: str | None, limits: Limits | None, piece_cells: int | None) -> Iterator[RawSheet]:
    """A .dta / .sav file through a pyreadstat reader (`reader`, with `options`) in pieces: its shape
    from the metadata (checked against the limits), then row_offset / row_limit reads; any error
    of the file is one line naming it and `what` it should be."""
    import pyreadstat

    limits = limits or Limits.from_policy()
    where = label or str(path)
    errors = (pyreadstat.ReadstatError, pyreadstat.PyreadstatError, ValueError, OSError, UnicodeDecodeError)
    try:
        _df, meta = reader(str(path), metadataonly=True)
    except errors as exc:
        raise _stats_error(where, what, exc) from None
    rows = meta.number_rows if meta.number_rows is not None and meta.number_rows >= 0 else None
    _check_stats_shape(rows, meta.number_columns, limits, where)

    def read(offset: int, n: int | None) -> pd.DataFrame:
        try:
            df, meta = reader(str(path), apply_value_formats=False, row_offset=offset, row_limit=n or 0, **options)
        except errors as exc:
            raise _stats_error(where, what, exc) from None
        return _labelled(df, meta.column_names_to_labels)

    yield from _stats_pieces(read, rows, piece_rows(piece_cells, meta.number_columns), find_header, where, limits)


def read_sav(path: Path, find_header: FindHeader, label: str | None = None, *, limits: Limits | None = None
             ) -> RawSheet:
    """SPSS .sav via pyreadstat (variable labels win over names); values as text."""
    (sheet,) = sav_pieces(path, find_header, label, limits=limits)
    return sheet


def sav_pieces(path: Path, find_header: FindHeader, label: str | None = None, *, limits: Limits | None = None,
               piece_cells: int | None = None) -> Iterator[RawSheet]:
    """read_sav in pieces of about piece_cells cells (None: one piece): pyreadstat's row_offset
    and row_limit."""
    import pyreadstat

    yield from _pyreadstat_pieces(path, pyreadstat.read_sav, "an SPSS .sav file", {"dates_as_pandas_datetime": False},
                                  find_header, label, limits, piece_cells)


def _as_text(df: pd.DataFrame) -> pd.DataFrame:
    """Numbers to text without a spurious '.0' (3.0 -> '3'); strings kept as they are.
    (A number in a column that must be text is reported in numeric_cells, never trusted.)"""
    out = dict(enumerate(_text_columns(df)))
    frame = pd.DataFrame(out, columns=range(len(df.columns)), dtype=object)
    frame.columns = list(df.columns)
    return frame


def _text_columns(df: pd.DataFrame, arrow: bool = False) -> list:
    """_as_text's columns (str / None per cell); with `arrow`, a column of pandas' Arrow-backed
    text is given as its Arrow array as it is (the same text, no Python object per cell)."""
    out: list = []
    for i in range(df.shape[1]):
        s = df.iloc[:, i]
        if pd.api.types.is_float_dtype(s):
            out.append(_floats_as_text(s.to_numpy(dtype=float)))
        elif pd.api.types.is_integer_dtype(s) or pd.api.types.is_bool_dtype(s):
            out.append([None if v is None or v is pd.NA else str(v) for v in s.astype(object)])
        elif arrow and isinstance(s.dtype, pd.StringDtype) and s.dtype.storage == "pyarrow":
            out.append(pa.array(s))
        else:
            out.append(_objects_as_text(s.to_numpy(dtype=object)))
    return out


def _floats_as_text(values: np.ndarray) -> np.ndarray:
    """Per cell: NaN -> None, a whole number -> its digits ('3', not '3.0'), else repr() (shortest
    round-trip text). Whole numbers below 2**53 in magnitude are converted in bulk."""
    out = np.full(len(values), None, dtype=object)
    present = ~np.isnan(values)
    whole = present & (np.floor(values) == values) & (np.abs(values) < 2.0 ** 53)
    out[whole] = values[whole].astype(np.int64).astype(str).astype(object)
    rest = np.flatnonzero(present & ~whole)
    out[rest] = [str(int(v)) if float(v).is_integer() else repr(float(v)) for v in values[rest]]
    return out


def _objects_as_text(values: np.ndarray) -> np.ndarray | list:
    """Per cell: None and float NaN -> None, anything else str(). A column of text and None/NaN
    only (the usual) is taken as it is, without a call per cell."""
    missing = pd.isna(values)
    if (pd.api.types.infer_dtype(values[~missing], skipna=False) in ("string", "empty")
            and all(v is None or isinstance(v, float) for v in values[missing])):
        out = values.copy()
        out[missing] = None
        return out
    return [None if v is None or (isinstance(v, float) and v != v) else str(v) for v in values]


# ---- one dispatch by format ----------------------------------------------------------------------

FORMATS = {".csv": "csv", ".xlsx": "xlsx", ".dta": "dta", ".sav": "sav", ".parquet": "parquet"}
PARQUET_BATCH_ROWS = 200_000


def format_of(path: Path, label: str | None = None) -> str:
    """csv | xlsx | dta | sav | parquet, from the file's suffix; IngestError for anything else."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise IngestError(f"{label or path}: unsupported file type {suffix or '(none)'!r}; expected one of "
                          f"{', '.join(sorted(FORMATS))} (save an .xls as .xlsx)")
    return FORMATS[suffix]


def read_sheets(path: Path, find_header: FindHeader, label: str | None = None, *, limits: Limits | None = None,
                text_columns: TextColumns | None = None,
                parquet_columns: Callable[[list[str]], Sequence[int]] | None = None,
                piece_cells: int | None = None) -> Iterator[RawSheet]:
    """The sheets of one raw file, whichever its format: one per xlsx sheet with a header row, one
    for a CSV / .dta / .sav file, one per batch of PARQUET_BATCH_ROWS rows of a Parquet file (its
    first row is the header: source_row counts from 2; cells keep their Parquet types, and
    `parquet_columns(names)` may pick the positions to read). `text_columns` is passed to the xlsx
    reader (numbers stored in text-only columns). With `piece_cells`, a CSV / xlsx / .dta / .sav
    sheet comes in pieces of about that many cells (RawSheet.piece, .last), read as the file
    streams (an xlsx sheet is loaded as Arrow text, its pieces made Python objects one at a time);
    a file refused by a limit is refused before its last piece."""
    fmt = format_of(path, label)
    if fmt == "csv":
        yield from csv_pieces(path, find_header, label, limits=limits, piece_cells=piece_cells)
    elif fmt == "xlsx":
        yield from xlsx_pieces(path, find_header, label, limits=limits, text_columns=text_columns,
                               piece_cells=piece_cells)
    elif fmt == "dta":
        yield from dta_pieces(path, find_header, label, limits=limits, piece_cells=piece_cells)
    elif fmt == "sav":
        yield from sav_pieces(path, find_header, label, limits=limits, piece_cells=piece_cells)
    else:
        yield from read_parquet(path, label, columns=parquet_columns)


def read_parquet(path: Path, label: str | None = None, *,
                 columns: Callable[[list[str]], Sequence[int]] | None = None) -> Iterator[RawSheet]:
    """A raw Parquet export in batches (a national file is never held whole in pandas)."""
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except (OSError, ValueError) as exc:
        raise IngestError(f"{label or path}: not readable as Parquet ({' '.join(str(exc).split())[:200]}); "
                          f"expected an intact Parquet file") from None
    names = pf.schema_arrow.names
    wanted = [names[i] for i in sorted(columns(names))] if columns is not None else None
    first = 2
    for batch in pf.iter_batches(batch_size=PARQUET_BATCH_ROWS, columns=wanted):
        frame = batch.to_pandas().astype(object)
        yield RawSheet(data=frame, source_row=list(range(first, first + len(frame))), sheet=None, header_row=1)
        first += len(frame)
