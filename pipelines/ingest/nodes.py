"""Small pure steps of the ingest stage: label tables, column groups, frames for DuckDB."""

from __future__ import annotations

import ctypes
import functools
from collections.abc import Sequence

import pyarrow as pa

from pipelines.ingest.headers import Column, normalise

# registry columns that are not household fields although they sit in the household block
HOUSEHOLD_SIZE_FIELDS = ("household_size", "household_size_annual")
TRANSFER_ITEMS = (
    "family_planning_transfer", "dibao_transfer", "tekun_transfer",
    "pension_transfer", "eco_compensation_transfer", "other_transfer",
)
# identifying but not PII-flagged: never written to processed (contract §4)
IDENTIFYING = ("household_id", "person_id")


def code_label_rows(code_labels: dict) -> list[tuple[str, str, str]]:
    """(list_name, normalised label, code) for every label of every list in code_labels.toml."""
    rows = []
    for list_name, codes in code_labels.items():
        for code, labels in codes.items():
            for label in labels:
                rows.append((list_name, normalise(label), code))
    return sorted(set(rows))


def label_list_columns(policy) -> dict[str, list[str]]:
    """Columns of the one-row `param_label_lists` table: `<list>` -> every normalised label of each
    code list a header alias's kind names (code:, codes:, yes_no), and `<list>__<code>` -> the
    labels of one code of a multi-valued (codes:) list. Labels longest first, then by text."""
    rows = code_label_rows(policy.code_labels)
    kinds = {spec.kind for cols in policy.aliases.values() for spec in cols.values()}
    used = sorted({k.split(":", 1)[1] for k in kinds if k.startswith(("code:", "codes:"))} | {"yes_no"})
    multi = sorted({k.split(":", 1)[1] for k in kinds if k.startswith("codes:")})

    def ordered(labels) -> list[str]:
        return sorted(set(labels), key=lambda s: (-len(s), s))

    columns = {name: ordered(label for lst, label, _code in rows if lst == name) for name in used}
    for name in multi:
        for code in policy.code_labels[name]:
            columns[f"{name}__{code}"] = ordered(label for lst, label, c in rows if lst == name and c == code)
    return columns


def fullwidth_map() -> tuple[str, str]:
    """(from, to) for translate(): full-width ASCII and ideographic/control white space -> ASCII.
    _macros.sql clean() runs it only on cells its pattern finds one of these in (tests keep the two in step)."""
    src = "".join(chr(c) for c in range(0xFF01, 0xFF5F)) + "\u3000\t\n\r"
    dst = "".join(chr(c) for c in range(0x21, 0x7F)) + "    "
    return src, dst


# the parts of fullwidth_map that clean() translates separately (white space; full-width
# punctuation; digits and the signs after them; letters and the rest), in map order: the code
# point ranges clean()'s part patterns test, each part only where the cell holds one of its characters
FULLWIDTH_PARTS = ((0x3000, 0x3000), (0xFF01, 0xFF0F), (0xFF10, 0xFF20), (0xFF21, 0xFF5E))


def fullwidth_parts() -> list[tuple[str, str]]:
    """(from, to) per FULLWIDTH_PARTS range: the characters of fullwidth_map in that range (the
    white-space part also takes tab, newline and carriage return) and what they become. The parts
    are disjoint, together the whole map, and map to ASCII only, so translating a cell by the
    parts it holds gives the same text as translating it by the whole map."""
    source, target = fullwidth_map()
    parts = []
    for low, high in FULLWIDTH_PARTS:
        pairs = [(a, b) for a, b in zip(source, target)
                 if low <= ord(a) <= high or (low == 0x3000 and a in "\t\n\r")]
        parts.append(("".join(a for a, _b in pairs), "".join(b for _a, b in pairs)))
    return parts


def household_fields(registry: Sequence[Column]) -> list[str]:
    """Household-level registry columns: the household and income blocks, plus the size columns."""
    names = [c.name for c in registry]
    return [*HOUSEHOLD_SIZE_FIELDS, *names[names.index("household_type"):]]


def income_columns(registry: Sequence[Column]) -> list[str]:
    """The income block (wage_income … education_spending), yuan per year."""
    names = [c.name for c in registry]
    return names[names.index("wage_income"):]


def raw_kept(columns: Sequence[Column]) -> list[str]:
    """Columns whose raw text staging keeps beside the typed value (`<name>__raw`)."""
    return [c.name for c in columns
            if c.kind in ("int", "decimal", "yes_no") or c.kind.startswith(("code:", "codes:"))]


def quarantine_columns(columns: Sequence[Column]) -> list[dict]:
    """Columns a quarantined row may keep a cell of (in config order): not personal (pii), not
    户编号 / 人编号. Which cells are kept is decided by content in quarantine.sql."""
    return [dict(name=c.name, kind=c.kind) for c in columns if not c.pii and c.name not in IDENTIFYING]


def personal_columns(columns: Sequence[Column]) -> list[str]:
    """Columns whose cells never leave data/raw: PII-flagged ones and 户编号 / 人编号."""
    return [c.name for c in columns if c.pii or c.name in IDENTIFYING]


TYPED_KINDS = ("region_code", "id_number", "int", "decimal", "date", "yes_no")


def layout(columns: Sequence[Column], found: dict[str, int], ncols: int) -> dict:
    """What raw_cells.sql / raw_file.sql are rendered with for one header layout: `mapped` canonical
    columns (name, pos, kind) in position order, the `typed` ones (they tell a displaced row apart),
    the `text_only` ones (IDs, 户编号, phones) and the layout's width `ncols`."""
    by_name = {c.name: c for c in columns}
    mapped = [dict(name=n, pos=p, kind=by_name[n].kind) for n, p in sorted(found.items(), key=lambda kv: kv[1])]
    return dict(
        mapped=mapped,
        typed=[c for c in mapped if c["kind"] in TYPED_KINDS or c["kind"].startswith("code:")],
        text_only=[c for c in mapped if by_name[c["name"]].text_only],
        ncols=ncols,
    )


def numeric_marker(positions: Sequence[int]) -> str | None:
    """',3,8,': the positions of a row's cells stored as numbers, as raw_file.sql reads them."""
    return "," + ",".join(str(p) for p in positions) + "," if positions else None


def numeric_markers(numeric: dict[int, list[int] | None], height: int) -> list[str | None]:
    """Per data row, numeric_marker of its cells stored as numbers (None for a whole column)."""
    per_row: list[list[int]] = [[] for _ in range(height)]
    for pos in sorted(numeric):
        rows = numeric[pos]
        for r in range(height) if rows is None else rows:
            per_row[r].append(pos)
    return [numeric_marker(p) for p in per_row]


def text_array(column) -> pa.Array:
    """A column of cells as Arrow text: None and NaN -> null, anything else str(). A column of
    str and None only (every CSV, xlsx and Stata/SPSS reader's) converts without a per-cell call."""
    try:
        return pa.array(column, pa.string(), from_pandas=True)
    except (pa.ArrowTypeError, pa.ArrowInvalid):  # a cell that is not text: numbers from Parquet
        return pa.array([None if v is None or v != v else str(v) for v in column.tolist()], pa.string())


def positional_table(data, source_row: Sequence[int], file_id: int,
                     numeric: dict[int, list[int] | None] | None = None) -> pa.Table:
    """A sheet's cells (a DataFrame, or a reader's Arrow text columns: RawSheet.cells) as an Arrow
    table of text columns c0…c<n-1> plus source_row, file_id and numeric_at (positions of the row's
    cells that were stored as numbers, see numeric_marker)."""
    if isinstance(data, pa.Table):
        arrays = {f"c{i}": col.cast(pa.string()) for i, col in enumerate(data.columns)}
    else:
        arrays = {f"c{i}": text_array(data.iloc[:, i]) for i in range(data.shape[1])}
    arrays["source_row"] = pa.array(list(source_row), pa.int64())
    arrays["file_id"] = pa.array([file_id] * len(source_row), pa.int32())
    markers = numeric_markers(numeric, len(source_row)) if numeric else [None] * len(source_row)
    arrays["numeric_at"] = pa.array(markers, pa.string())
    return pa.table(arrays)


def merged_fill_rows(fills: Sequence[tuple[int, list[str]]]) -> list[tuple[int, str, str]]:
    """(source_row, first header, all headers joined) per row that got merged-cell values."""
    return [(row, headers[0], ", ".join(dict.fromkeys(headers))) for row, headers in fills]


MEMORY_UNITS = {"b": 1, "bytes": 1, "kb": 1000, "mb": 1000**2, "gb": 1000**3, "tb": 1000**4,
                "kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40}


def memory_bytes(text: str) -> int:
    """A DuckDB memory size ('4GB', '953.6 MiB', '1.5 GiB', '512MB') in bytes."""
    number = text.strip()
    digits = len(number) - len(number.lstrip("0123456789."))
    value, unit = float(number[:digits]), number[digits:].strip().lower()
    if unit not in MEMORY_UNITS:
        raise ValueError(f"memory size {text!r}: unknown unit {unit!r}; expected one of {', '.join(MEMORY_UNITS)}")
    return int(value * MEMORY_UNITS[unit])


def release_memory() -> None:
    """Hand the heap freed by a file's reader back to the system (glibc malloc_trim), so that
    memory Python has freed is not still counted while DuckDB loads the next batch. A no-op where
    the C library has no malloc_trim."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim():
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None
