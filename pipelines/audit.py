"""`povmon audit-pii`: prove that no personal data left data/raw.

    audit(raw_dir, processed_dir, reports_dir, cards_dir) -> Report

1. The raw values (read_raw_values): members' names, ID numbers (whole and first 18 characters),
   phones, 户编号 and 人编号 from the registry exports; the head's name and ID and the 户编号 from the
   pairing exports; names and ID numbers from the department lists (data/raw/departments); and, as
   exceptions, the 帮扶责任人's names and phones and which names are heads'.
   Cells are found by header and, in a displaced (column-shifted) row, one cell over when the cell
   under the header does not have the shape of a name / phone; ID-shaped cells (15-22 characters
   of digits) count wherever they stand. They go into a DuckDB table, never printed.
2. Every output is cut into cells: each column of every Parquet file and of every table stored in
   a .duckdb file under processed/ (all columns cast to text, counted by distinct value), every
   view definition, every xlsx cell (streamed), every line of HTML/CSV/JSON/text pages under
   reports/, the cards folder and processed/.
3. Matching in SQL (config/audit.toml): each cell value's tokens — runs of digits (with windows of
   each raw identifier's length), runs of letters and digits, runs of Chinese characters — joined to
   the raw values. A hit names the file, table or sheet, column, what kind of value and how many
   cells: never the value.

Exceptions (documented, counted apart): a value that is a 帮扶责任人's name or phone (public-duty
contacts); in the print-time documents — 明白卡 (cards folder) and 问题清单 workbooks — the
household's names (head: head_name; members: printed) and its 户编号 (printed), read from data/raw
at print time (config/audit.toml [exceptions]). IDs, members' phones and 人编号 are never excused.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import html
import io
import os
import re
import shutil
import stat
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from pipelines import warehouse
from pipelines.policy import Policy, load_policy

CJK = "\u4e00-\u9fff\u3400-\u4dbf\U00020000-\U0002a6df\u00b7"  # CJK unified (+ ext A, B) and ·
PERSONAL = ("name", "id", "phone", "household_id", "person_id")
KIND_LABELS = {"name": "姓名 name", "id": "证件号码 ID number", "phone": "联系电话 phone",
               "household_id": "户编号 household number", "person_id": "人编号 person number"}
# canonical column -> kind of raw value (header_aliases.toml); flags: head = the head's name, cadre
REGISTRY = {"name": "name", "id_number": "id", "head_id_number": "id", "phone": "phone",
            "household_id": "household_id", "person_id": "person_id"}
PAIRING = {"head_name": "head", "head_id_number": "id", "household_id": "household_id",
           "cadre_name": "cadre", "cadre_phone": "cadre"}
# department lists (data/raw/departments/<dept>/, header_aliases.toml [dept_*]): names and ID numbers
DEPARTMENT = {"name": "name", "head_name": "name", "id_number": "id"}


def _kinds(source: str) -> dict[str, str]:
    return REGISTRY if source == "registry" else PAIRING if source == "pairing" else DEPARTMENT
_JSON_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
_TOKEN = re.compile(f"[0-9]+(?:[ -][0-9]+)+|[0-9A-Za-z]+|[{CJK}]+")  # what MATCH_SQL cuts values into
BATCH = 200_000  # cells gathered before a DuckDB insert
PENDING_ROWS = 2_000_000  # (place, column, distinct value) rows matched together


class AuditError(ValueError):
    """Nothing to audit against (no raw registry export) or an unreadable raw file."""


# ---- 1. raw values ----------------------------------------------------------------------------------

@dataclass
class RawValues:
    """Raw personal values: one row per (value, kind); kind is one of PERSONAL, 'head' or 'cadre'."""

    table: pa.Table
    files: int = 0

    def values(self, kinds: Iterable[str]) -> set[str]:
        wanted = set(kinds)
        return {v for v, k in zip(self.table["value"].to_pylist(), self.table["kind"].to_pylist()) if k in wanted}

    def counts(self) -> dict[str, int]:
        return dict(sorted(Counter(self.table["kind"].to_pylist()).items()))


class Shapes:
    """Regular expressions of what a name, a phone and an ID number look like (config/audit.toml)."""

    def __init__(self, cfg: dict):
        lo, hi = cfg["name_chars"]
        self.name = re.compile(f"[{CJK}]{{{lo},{hi}}}")
        self.id = re.compile(r"[0-9]{15,22}|[0-9]{14,21}X")
        self.min_phone = int(cfg["min_phone_digits"])
        self.min_ident = int(cfg["min_identifier_chars"])

    def names(self, s: pd.Series) -> pd.Series:
        s = _squeezed(s)
        return s[_fullmatch(self.name, s)]

    def phones(self, s: pd.Series) -> pd.Series:
        s = s.dropna().astype(str).str.replace(r"^\s*\+?86", "", regex=True).str.replace(r"[\s\-()（）]", "", regex=True)
        return s[s.str.fullmatch(r"\d+") & (s.str.len() >= self.min_phone) & (s.str.len() <= 12)]

    def ids(self, s: pd.Series) -> pd.Series:
        s = _squeezed(s, upper=True)
        s = s[_fullmatch(self.id, s)]
        return pd.concat([s, s[s.str.len() > 18].str[:18]])

    def identifiers(self, s: pd.Series) -> pd.Series:
        """户编号 / 人编号: upper-case runs of letters and digits long enough to be told from numbers."""
        s = s.dropna().astype(str).str.upper().str.findall(r"[0-9A-Z]+").explode().dropna()
        return s[s.str.len() >= self.min_ident]


def _squeezed(s: pd.Series, upper: bool = False) -> pd.Series:
    """Non-missing cells as text without whitespace (upper-cased): what
    `.dropna().astype(str).str.replace(r"\\s+", "", regex=True)` gives — str.split() and re's \\s
    both take str.isspace() as whitespace — without a regular expression per cell."""
    s = s.dropna()
    text = ["".join(str(v).split()) for v in s.tolist()]
    return pd.Series([v.upper() for v in text] if upper else text, index=s.index, dtype=object)


def _fullmatch(pattern: re.Pattern, s: pd.Series) -> np.ndarray:
    """Which cells of a text Series the pattern matches whole (Series.str.fullmatch, one loop)."""
    match = pattern.fullmatch
    return np.fromiter((match(v) is not None for v in s.tolist()), dtype=bool, count=len(s))


def settings(policy: Policy) -> dict:
    """config/audit.toml as the policy checked it (a plain dict: what Shapes and Auditor read)."""
    return policy.audit.model_dump()


def _frames(path: Path, source: str, rel: str, policy: Policy) -> Iterator[pd.DataFrame]:
    """A raw file's sheets as frames with headers as written (ingest's one reader, read_sheets);
    a raw Parquet export (national size) in batches of the columns the audit reads."""
    from pipelines.ingest import headers as hdr
    from pipelines.ingest import readers

    finder = hdr.policy_header_finder(policy, hdr.columns_of(policy.aliases[source]))
    try:
        for sheet in readers.read_sheets(path, finder, rel, limits=readers.Limits.from_policy(policy),
                                         parquet_columns=lambda names: _parquet_columns(names, source, policy)):
            yield sheet.data
    except readers.IngestError as exc:
        raise AuditError(str(exc)) from exc


def _parquet_columns(names: list[str], source: str, policy: Policy) -> set[int]:
    """Positions of a raw Parquet export the audit reads: the personal columns, their neighbours
    (kept adjacent, for displaced rows) and 与户主关系."""
    pos = _positions(names, source, policy)
    kinds = _kinds(source)
    keep = {pos["relation"]} if "relation" in pos else set()
    for column in kinds:
        if column in pos:
            keep |= {p for p in (pos[column] - 1, pos[column], pos[column] + 1) if 0 <= p < len(names)}
    return keep


def _positions(columns: list[str], source: str, policy: Policy) -> dict[str, int]:
    """Canonical column -> position of its header (first wins, as in ingest)."""
    from pipelines.ingest import headers as hdr

    lookup = hdr.alias_lookup(hdr.columns_of(policy.aliases[source]))
    found: dict[str, int] = {}
    for pos, header in enumerate(columns):
        name = lookup.get(hdr.normalise(header))
        if name is not None and name not in found:
            found[name] = pos
    return found


def _filled(s: pd.Series) -> pd.Series:
    return s.notna() & (s.astype(str).str.strip() != "")


def _neighbours(frame: pd.DataFrame, pos: int, rows: pd.Series, fits) -> pd.Series:
    """Cells one left and one right of `pos` in the given rows that have the shape `fits` wants."""
    out = [fits(frame.iloc[:, other][rows]) for other in (pos - 1, pos + 1) if 0 <= other < frame.shape[1]]
    return pd.concat(out) if out else pd.Series(dtype=object)


def frame_values(frame: pd.DataFrame, source: str, shapes: Shapes, region_prefixes: tuple[str, ...] = (),
                 scan_ids: bool = True, policy: Policy | None = None) -> list[pd.DataFrame]:
    """(value, kind) frames of one raw sheet: personal cells by header and, in a displaced row (its
    name or ID cell of the wrong shape), the neighbouring cells that have the shape of one."""
    policy = policy or load_policy()
    frame = frame.reset_index(drop=True)
    pos = _positions([str(c) for c in frame.columns], source, policy)
    kinds = _kinds(source)
    out = []

    def add(values: pd.Series, kind: str) -> None:
        if len(values):
            out.append(pd.DataFrame({"value": values.astype(str).to_numpy(), "kind": kind}))

    labels = _code_labels(policy)

    def names(s: pd.Series) -> pd.Series:  # a code label (居民身份证, 户主) next to 姓名 is no name
        found = shapes.names(s)
        return found[~found.isin(labels)]

    fitted: dict = {}

    def whole(fits, at: int) -> pd.Series:  # a shape over a whole column, worked out once per sheet
        if (fits, at) not in fitted:
            fitted[fits, at] = fits(frame.iloc[:, at])
        return fitted[fits, at]

    def misfits(at: int, fits) -> np.ndarray:
        return ~frame.index.isin(whole(fits, at).index)

    displaced = pd.Series(False, index=frame.index)
    if "name" in pos:
        displaced |= misfits(pos["name"], shapes.names) & _filled(frame.iloc[:, pos["name"]])
    if "id_number" in pos:
        displaced |= misfits(pos["id_number"], shapes.ids) & _filled(frame.iloc[:, pos["id_number"]])

    def identifiers(s: pd.Series) -> pd.Series:  # a village code next to 户编号 is no identifier
        found = shapes.identifiers(s)
        return found[~found.str.fullmatch(r"\d{12}") | ~found.str[:6].isin(region_prefixes)]

    for column, kind in kinds.items():
        if column not in pos:
            continue
        cells = frame.iloc[:, pos[column]]
        if kind in ("name", "head") or column == "cadre_name":
            add(whole(shapes.names, pos[column]), kind)
            if kind == "name":
                add(_neighbours(frame, pos[column], misfits(pos[column], shapes.names), names), "name")
        elif kind == "phone" or column == "cadre_phone":
            add(whole(shapes.phones, pos[column]), kind)
            if kind == "phone":
                add(_neighbours(frame, pos[column], misfits(pos[column], shapes.phones), shapes.phones),
                    "phone")
        elif kind == "id":
            add(whole(shapes.ids, pos[column]), "id")
        else:  # 户编号 / 人编号: in a displaced row the cells are guesses (GUESS: see read_raw_values)
            add(shapes.identifiers(cells[~displaced]), kind)
            add(shapes.identifiers(cells[displaced]), kind + GUESS)
            if source == "registry":
                add(_neighbours(frame, pos[column], displaced, identifiers), kind + GUESS)
    if source == "registry" and "relation" in pos and "name" in pos:
        from pipelines.ingest.headers import normalise

        heads = {normalise(v) for v in policy.code_labels["relation"]["head"]}
        is_head = frame.iloc[:, pos["relation"]].map(lambda v: v is not None and v == v and normalise(v) in heads)
        add(shapes.names(frame.iloc[:, pos["name"]][is_head.astype(bool) & ~displaced]), "head")
    if scan_ids:  # an ID number wherever it stands (displaced row, wrong column)
        add(shapes.ids(_id_shaped_cells(frame, shapes)), "id")
    return out


def _code_labels(policy: Policy) -> frozenset[str]:
    """Every label of every code list (config/code_labels.toml), normalised."""
    from pipelines.ingest.nodes import code_label_rows

    return frozenset(label for _list, label, _code in code_label_rows(policy.code_labels))


def _id_shaped_cells(frame: pd.DataFrame, shapes: Shapes) -> pd.Series:
    """Every cell of the sheet that has an ID number's shape (DuckDB over the cells as text)."""
    table = pa.table({f"c{i}": _text_array(frame.iloc[:, i]) for i in range(frame.shape[1])})
    if not table.num_columns or not table.num_rows:
        return pd.Series(dtype=object)
    with warehouse.connect() as con:
        con.register("sheet", table)
        return _id_shaped(con, "sheet", shapes)


def _text_array(cells: pd.Series) -> pa.Array:
    """A column as Arrow text: missing cells null, the others str(v) (a column of text converts
    without a Python loop; anything else, e.g. numbers, cell by cell)."""
    if isinstance(cells.dtype, pd.StringDtype) or pd.api.types.infer_dtype(cells, skipna=True) in ("string", "empty"):
        return pa.array(cells, type=pa.string(), from_pandas=True)
    return pa.array([None if v is None or v != v else str(v) for v in cells.tolist()], pa.string())


MIN_ID_CHARS = 15  # the shortest text Shapes.id matches ([0-9]{15,22}|[0-9]{14,21}X)


def _id_shaped(con: duckdb.DuckDBPyConnection, source: str, shapes: Shapes) -> pd.Series:
    rows = con.execute(
        f"select distinct v from (select upper(regexp_replace(v, '\\s+', '', 'g')) as v "
        f"from (unpivot (select columns(*)::varchar from {source}) on columns(*) into name k value v) "
        f"where strlen(v) >= {MIN_ID_CHARS}) "  # shorter cells cannot hold an ID (bytes >= characters)
        "where regexp_full_match(v, ?)", [shapes.id.pattern]).fetchall()
    return pd.Series([r[0] for r in rows], dtype=object)


# A displaced row's 户编号 stands under 人编号 and its 人编号 one cell on, so the identifiers of such a
# row are guesses of either kind (kind + GUESS). A guess is dropped for a value that a row read by
# its header calls a 户编号 or 人编号 (the household's other members give its 户编号): otherwise the
# household's 户编号, taken as a 人编号 too, would be a hit where 户编号 are printed (问题清单). A
# value known only from guesses keeps every kind guessed.
GUESS = "?"
RESOLVE_GUESSES_SQL = f"""
select distinct value, replace(kind, '{GUESS}', '') as kind
from raw_all as r
where not kind like '%{GUESS}'
   or not exists (select 1 from raw_all as k where k.value = r.value and k.kind in ('household_id', 'person_id'))
order by kind, value
"""


SPILL_PREFIX = "povmon-audit-spill-"  # + pid: ReadAhead.close() removes a stopped side process's


def spill_folders(pid: int) -> list[Path]:
    """The spill folders process `pid` made (raw_spill_folder) and has not removed."""
    return sorted(Path(tempfile.gettempdir()).glob(f"{SPILL_PREFIX}{pid}-*"))


@contextlib.contextmanager
def raw_spill_folder():
    """A private folder (0700) in the system's temporary folder for DuckDB to spill the raw values
    to — never DuckDB's default `.tmp` in the working directory — removed afterwards; a process
    stopped meanwhile leaves it to whoever stopped it (spill_folders)."""
    folder = Path(tempfile.mkdtemp(prefix=f"{SPILL_PREFIX}{os.getpid()}-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def read_raw_values(raw_dir: Path, cfg: dict | None = None, policy: Policy | None = None) -> RawValues:
    """Every registry, pairing and department export under raw_dir -> RawValues (distinct value, kind);
    gathered file by file into DuckDB (a national export is never held whole in pandas), spilling
    to a private folder (raw_spill_folder) unless [engine] temp_directory names one."""
    policy = policy or load_policy()
    cfg = cfg or settings(policy)
    shapes = Shapes(cfg)
    raw_dir = Path(raw_dir)
    prefixes = tuple(r.code for r in policy.regions if r.level == "county")
    files = 0
    with raw_spill_folder() as spill, warehouse.connect(policy, spill=spill) as con:
        con.execute("create table raw_all (value varchar, kind varchar)")

        def insert(parts: list[pd.DataFrame]) -> None:
            if parts:
                con.register("part", pd.concat(parts, ignore_index=True))
                con.execute("insert into raw_all select distinct value, kind from part")
                con.unregister("part")

        folders = {"registry": "registry", "pairing": "pairing",
                   **{spec.aliases: f"departments/{d}" for d, spec in policy.departments.departments.items()}}
        for source, folder in folders.items():
            base = raw_dir / folder
            paths = sorted(p for p in base.rglob("*") if p.is_file() and not p.name.startswith((".", "~$"))) \
                if base.is_dir() else []
            for path in paths:
                files += 1
                parquet = path.suffix.lower() == ".parquet"
                for frame in _frames(path, source, path.relative_to(raw_dir).as_posix(), policy):
                    insert(frame_values(frame, source, shapes, prefixes, scan_ids=not parquet, policy=policy))
                if parquet:  # IDs anywhere in the file, straight from Parquet
                    ids = shapes.ids(_id_shaped(con, f"read_parquet({warehouse.sql_literal(path)})", shapes))
                    insert([pd.DataFrame({"value": ids.to_numpy(), "kind": "id"})])
        if not any(p.is_file() for p in (raw_dir / "registry").rglob("*")):
            raise AuditError(f"{raw_dir}: no registry export to audit against (expected data/raw/registry/<YYYYQn>/…)")
        table = con.sql(RESOLVE_GUESSES_SQL).to_arrow_table()
    return RawValues(table, files)


# ---- 2 and 3. cells and matching ------------------------------------------------------------------------

@dataclass
class Hit:
    """Personal values from data/raw found in one place: never the values themselves."""

    location: str
    column: str
    kinds: list[str]
    cells: int
    values: int

    def line(self) -> str:
        kinds = ", ".join(KIND_LABELS.get(k, k) for k in self.kinds)
        column = f" | column {self.column}" if self.column else ""
        return f"{self.location}{column} | {kinds} | {self.cells} cells, {self.values} distinct values"


@dataclass
class Report:
    hits: list[Hit] = field(default_factory=list)
    excused: Counter = field(default_factory=Counter)
    scanned: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)
    libraries: Counter = field(default_factory=Counter)  # <script> blocks of vendored library code not read
    raw: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.hits

    def summary(self) -> dict:
        return {"ok": self.ok, "hits": len(self.hits), "hit_cells": sum(h.cells for h in self.hits),
                "scanned": dict(self.scanned), "excused_cells": dict(self.excused),
                "skipped_files": dict(self.skipped), "library_scripts_skipped": dict(self.libraries),
                "raw_values": self.raw}


MATCH_SQL = """
with

vals as (
    -- only a value holding a long enough run can hold a token equal to a raw value: a run of
    -- letters and digits as long as the shortest such raw value, digits grouped by a space or a
    -- dash, or a run of Chinese characters as long as the shortest raw name (see Auditor.__init__)
    select distinct value from pending
    where value is not null
      and (regexp_matches(upper(value), '[0-9A-Z]{{{min_alnum}}}') or regexp_matches(value, '[0-9][ -][0-9]')
           or regexp_matches(value, '[{cjk}]{{{min_cjk}}}'))
),

tokens as materialized (
    select value, unnest(list_distinct(
        regexp_extract_all(upper(value), '[0-9A-Z]+')
        || regexp_extract_all(upper(value), '[0-9]+X?')
        -- digits grouped by spaces or dashes (a phone written 139-1234-5678), joined
        || list_transform(regexp_extract_all(value, '[0-9]+(?:[ -][0-9]+)+'), lambda g: replace(replace(g, '-', ''), ' ', ''))
        || regexp_extract_all(value, '[{cjk}]+'))) as tok
    from vals
),

windows as (
    -- an identifier inside a longer run of digits
    select t.value, unnest(list_transform(range(1, length(t.tok) - l.len + 2),
                                          lambda i: substr(t.tok, i, l.len))) as tok
    from tokens as t
    inner join raw_lengths as l on length(t.tok) > l.len
    where regexp_full_match(t.tok, '[0-9]+X?')
),

found as (
    select distinct c.value, r.value as raw_value, r.kinds, r.head, r.cadre
    from (select * from tokens union all select * from windows) as c
    inner join raw_index as r on r.value = c.tok
),

per_value as (
    select
        c.seq,
        c.column_name,
        c.value,
        c.n,
        f.raw_value,
        f.kinds,
        case when {cadre_ok} and f.cadre then 'cadre_contact'
             when c.print_ok and f.head then 'head_name'
             -- a 户编号 of an ID number's shape (16-18 digits) is found among the ID-shaped cells too
             when c.print_ok and list_has_all({print_kinds}, list_filter(f.kinds, lambda k: k <> 'id'
                 or not (list_contains(f.kinds, 'household_id') and list_contains({print_kinds}, 'household_id'))))
                 then 'printed'
             else 'hit' end as outcome
    from pending as c
    inner join found as f on f.value = c.value
),

cell_counts as (
    -- a cell matching several raw values counts once per outcome
    select seq, column_name, outcome, sum(n) as cells
    from (select distinct seq, column_name, value, n, outcome from per_value)
    group by seq, column_name, outcome
),

value_counts as (
    select seq, column_name, outcome, list_sort(list_distinct(flatten(list(kinds)))) as kinds,
           count(distinct raw_value) as n_values
    from per_value
    group by seq, column_name, outcome
)

select v.seq, v.column_name, v.outcome, v.kinds, c.cells, v.n_values
from value_counts as v
inner join cell_counts as c on c.seq = v.seq and c.column_name = v.column_name and c.outcome = v.outcome
order by v.seq, v.column_name, v.outcome
"""


class Auditor:
    """One audit: the raw values in an in-memory DuckDB database, outputs matched against them.

    Each scanned place (a file, a table, a sheet's cells) adds its cells, counted by distinct value,
    to `pending`; the matching runs over many places at once (when PENDING_ROWS accumulate, and
    before `report` is read), so a value that appears in many places (a key in every table and
    quarter, the same library text on every page) is cut into tokens once per batch, not per place."""

    def __init__(self, raw: RawValues, cfg: dict):
        self.cfg = cfg
        self._report = Report(raw=raw.counts())
        self.tmp = tempfile.TemporaryDirectory(prefix="povmon-audit-")
        self.con = warehouse.connect(spill=Path(self.tmp.name))  # [engine] limits; spills in its own folder
        self.con.execute("set enable_progress_bar = false")
        self.con.register("raw_arrow", raw.table)
        personal = ", ".join(f"'{k}'" for k in PERSONAL)
        self.con.execute(f"""
            create table raw_index as
            select value, list_sort(list_distinct(list(kind) filter (where kind in ({personal})))) as kinds,
                   bool_or(kind = 'head') as head, bool_or(kind = 'cadre') as cadre
            from raw_arrow group by value
            having count(*) filter (where kind in ({personal})) > 0""")
        self.con.execute("create table raw_lengths as select distinct length(value) as len from raw_index "
                         "where regexp_full_match(value, '[0-9]+X?')")
        self.con.unregister("raw_arrow")
        # the shortest raw value of letters and digits, and of Chinese characters: a cell without a
        # run that long cannot hold a token equal to one (MATCH_SQL's prefilter; 1000 = none such)
        self.min_alnum, self.min_cjk = self.con.execute(f"""
            select least(coalesce(min(length(value)) filter (where regexp_full_match(value, '[0-9A-Z]+')), 1000), 1000),
                   least(coalesce(min(length(value)) filter (where regexp_full_match(value, '[{CJK}]+')), 1000), 1000)
            from raw_index""").fetchone()
        self.cadre_ok = bool(cfg["exceptions"]["cadre_contacts"])
        kinds = [k for k in cfg["exceptions"]["print_kinds"] if k in PERSONAL]
        self.print_kinds = "[" + ", ".join(f"'{k}'" for k in kinds) + "]::varchar[]"
        self.con.execute("create table pending (seq integer, print_ok boolean, column_name varchar, value varchar, "
                         "n bigint)")
        self.places: list[str] = []  # seq -> location
        self.pending_rows = 0

    @property
    def report(self) -> Report:
        """The audit's findings so far (every place scanned is matched first)."""
        self.flush()
        return self._report

    def close(self) -> None:
        self.con.close()
        self.tmp.cleanup()

    # -- matching
    def _place(self, location: str) -> int:
        self.places.append(location)
        return len(self.places) - 1

    def _added(self, rows: int) -> None:
        self.pending_rows += rows
        if self.pending_rows >= PENDING_ROWS:
            self.flush()

    def flush(self) -> None:
        """Match every pending cell against the raw values; hits in the order places were scanned."""
        if not self.pending_rows and not self.places:
            return
        sql = MATCH_SQL.format(cjk=CJK, cadre_ok=str(self.cadre_ok).lower(), print_kinds=self.print_kinds,
                               min_alnum=self.min_alnum, min_cjk=self.min_cjk)
        for seq, column, outcome, kinds, cells, n_values in self.con.execute(sql).fetchall():
            if outcome == "hit":
                self._report.hits.append(Hit(self.places[seq], column or "", list(kinds), int(cells), int(n_values)))
            else:
                self._report.excused[outcome] += int(cells)
        self._report.scanned["cells"] += self.con.execute("select coalesce(sum(n), 0) from pending").fetchone()[0]
        self.con.execute("delete from pending")
        self.places.clear()
        self.pending_rows = 0

    def scan_query(self, location: str, query: str, print_ok: bool = False) -> None:
        """Every column of a query's result, as text, counted by distinct value."""
        seq = self._place(location)
        columns = self.con.execute(f"describe {query}").fetchall()
        if not columns:
            return
        rows = self.con.execute(f"""
            insert into pending
            select {seq}, {str(print_ok).lower()}, column_name, value, count(*) as n
            from (unpivot (select columns(*)::varchar from ({query})) on columns(*)
                  into name column_name value value)
            group by all""").fetchone()[0]
        self._added(rows)

    def scan_cells(self, location: str, cells: Iterable[tuple[str, str]], print_ok: bool = False) -> None:
        """(column, text) pairs of a document, loaded in batches (a workbook is never held whole)."""
        seq = self._place(location)
        self.con.execute("create or replace temp table cells_raw (column_name varchar, value varchar)")
        batch: list[tuple[str, str]] = []

        def flush():
            if batch:
                cols = list(zip(*batch))
                self.con.register("batch_arrow", pa.table({"column_name": pa.array(cols[0], pa.string()),
                                                           "value": pa.array(cols[1], pa.string())}))
                self.con.execute("insert into cells_raw select * from batch_arrow")
                self.con.unregister("batch_arrow")
                batch.clear()

        for column, text in cells:
            if text:
                batch.append((column, text))
                if len(batch) >= BATCH:
                    flush()
        flush()
        rows = self.con.execute(f"insert into pending select {seq}, {str(print_ok).lower()}, column_name, value, "
                                "count(*) from cells_raw group by all").fetchone()[0]
        self.con.execute("drop table cells_raw")
        self._added(rows)

    # -- files
    def scan_file(self, path: Path, location: str, print_ok: bool) -> None:
        suffix = path.suffix.lower()
        if suffix == ".parquet":
            self.scan_query(location, f"select * from read_parquet({warehouse.sql_literal(path)})", print_ok)
            self._report.scanned["parquet"] += 1
        elif suffix == ".duckdb":
            self.scan_database(path, location, print_ok)
        elif suffix in self.cfg["workbook_suffixes"]:
            self.scan_cells(location, workbook_cells(path), print_ok)
            self._report.scanned["workbooks"] += 1
        elif suffix in self.cfg["text_suffixes"]:
            self.scan_cells(location, text_cells(path, self._report.libraries), print_ok)
            self._report.scanned["pages and text files"] += 1
        else:
            self._report.skipped[suffix or path.name] += 1

    def scan_database(self, path: Path, location: str, print_ok: bool) -> None:
        """Tables stored in a DuckDB file (stages keep none: views only) and every view's SQL."""
        alias = "audited"
        self.con.execute(f"attach {warehouse.sql_literal(path)} as {alias} (read_only)")
        try:
            rows = self.con.execute("select table_name, table_type from information_schema.tables "
                                    f"where table_catalog = '{alias}' order by 1").fetchall()
            for name, kind in rows:
                if kind == "BASE TABLE":
                    self.scan_query(f"{location}: table {name}", f'select * from {alias}."{name}"', print_ok)
            views = self.con.execute("select view_name, sql from duckdb_views() "
                                     f"where database_name = '{alias}' and not internal order by 1").fetchall()
            self.scan_cells(f"{location}: view definitions", ((name, sql) for name, sql in views), print_ok)
        finally:
            self.con.execute(f"detach {alias}")
        self._report.scanned["duckdb files"] += 1

    def scan_dir(self, root: Path, label: str, print_ok_all: bool = False) -> None:
        if not root.is_dir():
            return
        folders = set(self.cfg["exceptions"]["print_folders"])
        for path in _distinct_files(root):
            rel = path.relative_to(root)
            print_ok = print_ok_all or bool(folders & set(rel.parts[:-1]))
            self.scan_file(path, f"{label}/{rel.as_posix()}", print_ok)


def _distinct_files(root: Path) -> list[Path]:
    """Every file under root once: symbolic links not followed (processed/current names a snapshot
    folder that is scanned anyway) and a file hard-linked into several snapshots read once."""
    seen, out = set(), []
    for dirpath, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            path = Path(dirpath) / name
            st = path.lstat()
            if stat.S_ISREG(st.st_mode) and (st.st_dev, st.st_ino) not in seen:
                seen.add((st.st_dev, st.st_ino))
                out.append(path)
    return out


def _unescape(text: str) -> str:
    """Text as a reader sees it: HTML entities and JSON \\uXXXX escapes decoded (Plotly writes them)."""
    text = html.unescape(text)
    if "\\u" not in text:
        return text
    text = _JSON_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    # escaped surrogate pairs (characters beyond the BMP) joined; a lone one becomes U+FFFD
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


@functools.cache
def vendored_scripts() -> dict[str, str]:
    """Library code the report embeds verbatim in its pages (name -> text): plotly.js, ~4.6 MB on
    every summary.html, as the installed plotly package ships it. Such a block is code, not data:
    a page's <script> block byte-identical to it holds nothing from data/raw and is not cut into
    tokens (counted in Report.libraries); a block that differs in one byte is read like any text."""
    from plotly.offline import get_plotlyjs

    return {"plotly.js": get_plotlyjs()}


def _without_vendored(text: str, skipped: Counter | None) -> str:
    """The page with each <script> block whose whole content is a vendored library left out."""
    for name, code in vendored_scripts().items():
        start = 0
        while (at := text.find(code, start)) >= 0:
            end = at + len(code)
            opened = text.rfind("<script", 0, at)
            if opened >= 0 and text.find(">", opened, at) == at - 1 and "</" not in text[opened:at] \
                    and text.startswith("</script>", end):
                text = text[:at] + text[end:]
                if skipped is not None:
                    skipped[name] += 1
                start = at
            else:
                start = at + 1
    return text


def text_cells(path: Path, skipped: Counter | None = None) -> Iterator[tuple[str, str]]:
    """Tokens of a text file's lines, decoded (CSV: cells with their column header). In an HTML
    page, a <script> block that is exactly a vendored library (vendored_scripts) is left out."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("gb18030", errors="replace")
    if path.suffix.lower() in (".html", ".htm"):
        text = _without_vendored(text, skipped)
    if path.suffix.lower() in (".csv", ".tsv"):
        reader = csv.reader(io.StringIO(text, newline=""), delimiter="," if path.suffix.lower() == ".csv" else "\t")
        header: list[str] = []
        for i, row in enumerate(reader):
            if i == 0:
                header = row
            for j, cell in enumerate(row):
                yield (header[j] if i and j < len(header) else f"column {j + 1}"), cell
        return
    # pages can hold megabytes on one line (Plotly's library): cut into the tokens the matching
    # uses anyway (runs of letters and digits, runs of Chinese characters), one cell each
    for line in text.splitlines():
        for token in _TOKEN.findall(_unescape(line)):
            yield "", token


def workbook_cells(path: Path) -> Iterator[tuple[str, str]]:
    """Every cell of every sheet, streamed (openpyxl read-only), as (sheet!column, text)."""
    from openpyxl import load_workbook
    from openpyxl.utils import get_column_letter

    wb = load_workbook(path, read_only=True, data_only=False)
    try:
        for ws in wb.worksheets:
            for row in ws.iter_rows(values_only=True):
                for j, value in enumerate(row):
                    if value is not None:
                        yield f"sheet {ws.title}!{get_column_letter(j + 1)}", str(value)
    finally:
        wb.close()


def audit(raw_dir: Path, processed_dir: Path, reports_dir: Path | None = None, cards_dir: Path | None = None,
          cfg: dict | None = None, policy: Policy | None = None, raw_values: RawValues | None = None) -> Report:
    """Scan processed_dir, reports_dir and cards_dir against the personal values of raw_dir (read
    here, unless `raw_values` already holds what read_raw_values(raw_dir) returns)."""
    policy = policy or load_policy()
    cfg = cfg or settings(policy)
    raw = raw_values if raw_values is not None else read_raw_values(raw_dir, cfg, policy)
    auditor = Auditor(raw, cfg)
    try:
        auditor.scan_dir(Path(processed_dir), "processed")
        if reports_dir is not None:
            auditor.scan_dir(Path(reports_dir), "reports")
        if cards_dir is not None:
            auditor.scan_dir(Path(cards_dir), "cards", print_ok_all=True)
        return auditor.report
    finally:
        auditor.close()
