"""Ingest wiring: raw exports -> typed canonical tables (Parquet + DuckDB views) in processed_dir.

discover raw files -> read each (readers.py, pandas only here, one file at a time; raw Parquet
straight into DuckDB) -> map headers (headers.py) -> raw_<source> tables -> the SQL models in sql/
(pipelines/graph.py; values as parameter tables, pipelines/params.py) -> Parquet per table and
partition, staged in a warehouse transaction (pipelines.warehouse: one writer at a time,
everything published at once by one pointer switch).

Ingest owns the tables in OUTPUTS and nothing else under processed_dir: other stages' tables and
data/processed/.gitkeep stay. A run replaces the partitions of the quarters it read (and the whole
of regions, population and the `reference` partitions, which come from config and
data/raw/reference, read every run); partitions of other quarters are kept.
"""

from __future__ import annotations

import dataclasses
import filecmp
import hashlib
import importlib.metadata
import itertools
import json
import os
import re
import shutil
import stat
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import duckdb

from pipelines import engines, idcard, keys, params, progress, warehouse
from pipelines.graph import Graph
from pipelines.ingest import headers as hdr
from pipelines.ingest import nodes, readers
from pipelines.ingest.readers import IngestError
from pipelines.periods import Period, is_period
from pipelines.policy import Policy, load_policy

SQL_DIR = Path(__file__).parent / "sql"
# every SQL model of the stage (pipelines/graph.py: inputs by ref(), key and materialization in
# each file's header); the wide row-level intermediates are views (materialising ~180 text
# columns per row is the dominant cost at 10M persons), the narrow decisions they join are tables
GRAPH = Graph(SQL_DIR)  # raw_cells and raw_file: the loader's, rendered per batch of one header layout
# alias sections; population = reference; rectification = returned 问题清单 sheets
SOURCES = ("registry", "pairing", "survey", "population", "rectification")
KIND_DIRS = {"registry": "registry", "pairing": "pairing", "survey": "survey", "reference": "population",
             "rectification": "rectification"}
# 项目账 (issue 16 part 3): data/raw/projects/<YYYYQn>/ holds the project list and its beneficiary
# households, as sheets of one workbook or as separate files: each sheet is read as the section
# whose headers it names most (SHEET_SECTIONS); project_beneficiaries has no folder of its own
SOURCES += ("projects", "project_beneficiaries")
KIND_DIRS |= {"projects": "projects", "project_beneficiaries": "project_beneficiaries"}
SHEET_SECTIONS = {"projects": ("projects", "project_beneficiaries")}
SHEET_ONLY = {"project_beneficiaries"}  # kinds found only as sheets of another kind's files
# the rectification tracker (issue 16 part 2): data/raw/tasks/<YYYYQn>/ holds the office's task list
# and its instructions (指令), as sheets of one workbook or separate files (read like the projects)
SOURCES += ("tasks", "instructions")
KIND_DIRS |= {"tasks": "tasks", "instructions": "instructions"}
SHEET_SECTIONS["tasks"] = ("tasks", "instructions")
SHEET_ONLY |= {"instructions"}

# department lists (issue 16 part 1): data/raw/departments/<folder>/<YYYYQn>/…, one alias section
# per folder (config/departments.toml [departments]); rows are typed and reason-coded by
# int_department_rows.sql into department_records (the crosscheck stage's input)
DEPARTMENTS_DIR = "departments"
DEPARTMENT_FOLDERS = ("medical", "civil", "disability", "education", "housing", "water", "police")
DEPARTMENT_SOURCES = tuple(f"dept_{d}" for d in DEPARTMENT_FOLDERS)
SOURCES += DEPARTMENT_SOURCES
KIND_DIRS.update({f"{DEPARTMENTS_DIR}/{d}": f"dept_{d}" for d in DEPARTMENT_FOLDERS})
# output tables: partition column and sort keys (the rest of the columns break ties)
OUTPUTS = {
    "persons": ("period", ["person_key"]),
    "households": ("period", ["household_key"]),
    "pairings": ("period", ["household_key", "cadre_id"]),
    "survey_households": ("period", ["survey_household_key"]),
    "population": ("year", ["village_code"]),
    "regions": (None, ["level", "code"]),
    "rectification": ("period", ["household_key", "criterion"]),
    "projects": ("period", ["project_key"]),
    "project_beneficiaries": ("period", ["project_key", "beneficiary_key"]),
    "department_records": ("period", ["department", "source_file", "sheet", "source_row"]),
    "quarantine": ("period", ["source_file", "sheet", "source_row", "reason"]),
    "findings": ("period", ["source_file", "sheet", "source_row", "reason", "column_name"]),
    "ingest_manifest": (None, ["source_file", "sheet"]),  # small, one row per file: not partitioned
}
OUTPUTS["tasks"] = ("period", ["task_no"])  # the rectification tracker (issue 16 part 2)
OUTPUTS["instructions"] = ("period", ["doc_no"])
OUTPUTS["person_ids"] = ("period", ["source_file", "person_key"])  # cross-county duplicates (below)
# County-scoped tables (issue 12 part 1): a quarter's partition holds one file per registry county
# (`<unit>.parquet`, unit_of) with the rows of that county's registry files, and data.parquet with
# every other row (other sources; always written, maybe empty). A re-ingest re-reads only the
# counties whose files changed (plan_units) and rewrites only their files; the rest are carried.
PARTED = ("persons", "households", "quarantine", "findings", "person_ids")
# what a county's partitions were built from: (period, unit, inputs) per registry county
UNITS_TABLE = "ingest_units"
# the registry models whose rows belong to the counties read; the models after them see every
# county's persons and households (this run's plus the carried files)
COUNTY_MODELS = ("persons", "households", "person_ids", "int_registry_findings", "int_registry_rows")
_COUNTY_FILE = re.compile(r"(\d{6})_")
REFERENCE = "reference"  # partition (and period) of rows from data/raw/reference files: no quarter
BATCH_ROWS = 2_000_000  # rows of one header layout held in memory before they are loaded
# … and, over every layout, at most the reader budget in bytes (scratch_settings: [engine]
# reader_share of memory_limit): the largest batch is loaded when the rows held pass it. Half of
# the budget is kept for the file being read: a sheet is read in pieces of at most that many bytes
# of cells (as Python objects, their frame and their Arrow table: CELL_BYTES a cell, measured on
# county exports), so a file of any size holds one piece in Python (Ingest._read_file)
CELL_BYTES = 200
MIN_PIECE_CELLS = 10_000


@dataclass(frozen=True)
class RawFile:
    """One raw export found under raw_dir."""

    path: Path
    rel: str  # path relative to raw_dir, '/'-separated: the source_file in every table
    source_kind: str  # registry | pairing | survey | reference
    period: str | None


IGNORED_PREFIXES = ("~$", ".")  # Office lock files (~$x.xlsx) and hidden files: never exports


def unreadable_reason(path: Path) -> str | None:
    """Why a raw entry cannot be read as an export file, or None: a dangling link, a link to a
    folder, a FIFO / socket / device, an empty or unopenable file. Never opens a non-regular file."""
    try:
        st = path.lstat()
        if stat.S_ISLNK(st.st_mode):
            try:
                st = path.stat()
            except FileNotFoundError:
                return f"dangling symbolic link (its target {os.readlink(path)!r} does not exist)"
            if stat.S_ISDIR(st.st_mode):
                return f"symbolic link to a folder ({os.readlink(path)!r}); expected a file (link data/raw/<kind> instead)"
    except OSError as exc:
        return f"cannot be examined ({exc.strerror})"
    if stat.S_ISDIR(st.st_mode):
        return None
    if not stat.S_ISREG(st.st_mode):
        kind = ("a FIFO (named pipe)" if stat.S_ISFIFO(st.st_mode) else "a socket" if stat.S_ISSOCK(st.st_mode)
                else "a device" if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode) else "not a regular file")
        return f"{kind}; expected a regular file"
    if st.st_size == 0:
        return "empty file (0 bytes); expected an export with a header row"
    try:
        with open(path, "rb"):
            pass
    except OSError as exc:
        return f"cannot be opened ({exc.strerror})"
    return None


def _walk(base: Path, raw_dir: Path) -> list[tuple[Path, str | None]]:
    """Every file under base that is meant to be read (hidden and lock files aside) with the reason
    it cannot be read (None: readable); folders descended without following links. A link to a
    folder is listed with its reason; a folder that cannot be listed is an IngestError."""
    found: list[tuple[Path, str | None]] = []

    def refuse(exc: OSError) -> None:
        where = Path(exc.filename).relative_to(raw_dir).as_posix() if exc.filename else str(base)
        raise IngestError(f"{where}: folder cannot be listed ({exc.strerror}); expected a readable folder of exports")

    for folder, dirs, files in os.walk(base, onerror=refuse, followlinks=False):
        here = Path(folder)
        for name in sorted(dirs + files):
            if name.startswith(IGNORED_PREFIXES):
                if name in dirs:
                    dirs.remove(name)
                continue
            path = here / name
            reason = unreadable_reason(path)
            if name in files or reason is not None:
                found.append((path, reason))
        dirs.sort()
    return found


def check_department_folders(raw_dir: Path) -> None:
    """data/raw/departments holds only the department folders of DEPARTMENT_FOLDERS: a file or
    folder there that is none of them is refused, naming it (its rows would otherwise be lost)."""
    base = raw_dir / DEPARTMENTS_DIR
    if not base.is_dir():
        return
    for entry in sorted(base.iterdir()):
        if entry.name.startswith(IGNORED_PREFIXES) or (entry.name in DEPARTMENT_FOLDERS and entry.is_dir()):
            continue
        raise IngestError(f"{DEPARTMENTS_DIR}/{entry.name}: not a known department folder; expected one of "
                          f"{', '.join(DEPARTMENT_FOLDERS)} (data/raw/{DEPARTMENTS_DIR}/<department>/<YYYYQn>/<file>, "
                          f"config/departments.toml [departments])")


def discover(raw_dir: Path, periods: list[str] | None) -> list[RawFile]:
    """raw/<kind>/<period>/… and raw/reference/… files, in path order (duplicates: earlier wins).

    Every file is accounted for: one that cannot be read (dangling link, link to a folder, FIFO,
    device, empty, unopenable) or is not an export format stops the run naming it. Hidden files
    and Office lock files (`.x`, `~$x.xlsx`) are ignored (docs/data_contract.md §1)."""
    found = []
    check_department_folders(raw_dir)
    for kind in KIND_DIRS:
        if kind in SHEET_ONLY:
            continue
        base = raw_dir / kind
        if not base.is_dir():
            continue
        for path, reason in _walk(base, raw_dir):
            rel = path.relative_to(raw_dir).as_posix()
            in_period = path.relative_to(base).parts[0]
            if kind != "reference" and periods and is_period(in_period) and in_period not in periods:
                continue  # a quarter this run does not read
            if path.suffix.lower() not in readers.FORMATS and not path.is_dir():  # never skip a county's file silently
                raise IngestError(f"{rel}: unsupported file type {path.suffix or '(none)'!r}; expected one of "
                                  f"{', '.join(sorted(readers.FORMATS))} (save an .xls as .xlsx), or move it out of "
                                  f"data/raw/{kind}")
            if reason is not None:
                raise IngestError(f"{rel}: {reason}")
            period = None
            if kind != "reference":
                period = path.relative_to(base).parts[0]
                if len(path.relative_to(base).parts) < 2 or not is_period(period):
                    raise IngestError(f"{rel}: expected data/raw/{kind}/<YYYYQn>/<file>, got folder {period!r}")
                if periods and period not in periods:
                    continue
            found.append(RawFile(path, rel, kind, period))
    if not any(f.source_kind == "registry" for f in found):
        wanted = f" for {', '.join(periods)}" if periods else ""
        raise IngestError(f"{raw_dir}: no registry export found{wanted}; expected "
                          f"data/raw/registry/<YYYYQn>/<county>….xlsx|csv|dta|sav|parquet (make synth writes a sample city)")
    return sorted(found, key=lambda f: f.rel)


def unit_of(rel: str) -> str:
    """The county unit of a registry file: `county-<code>` for data/raw/registry/<q>/<code>_…
    (the contract's naming), else the file on its own (`file-` + a hash of its path)."""
    found = _COUNTY_FILE.match(rel.rsplit("/", 1)[-1])
    return f"county-{found.group(1)}" if found else "file-" + hashlib.sha256(rel.encode()).hexdigest()[:16]


def part_name(unit: str) -> str:
    """The file of a county unit in each partition of the PARTED tables."""
    return f"{unit}.parquet"


def inputs_fingerprint(policy: Policy, key: str, context: dict) -> str:
    """What every county's rows depend on besides its own files: the configuration files, the
    rendering context, ingest's code (SQL and Python) and the pseudonymisation key. A change of
    any of them re-reads every county."""
    h = hashlib.sha256(keys.fingerprint(key).encode())
    h.update(json.dumps(context, sort_keys=True, default=str).encode())
    # the resolved policy (schema defaults, overrides), and the readers' and engine's versions: a
    # county read by another version may give other rows
    h.update(_resolved_policy(policy).encode())
    for library in INPUT_LIBRARIES:
        h.update(f"{library}=={_version(library)}".encode())
    config, code = Path(policy.config_dir), Path(__file__).parent
    found = [(config, p) for p in sorted([*config.rglob("*.toml"), *config.rglob("*.csv")])]
    found += [(code.parent, p) for p in sorted([*code.glob("*.py"), *code.glob("sql/*.sql"), *code.parent.glob("*.py"),
                                                 *code.parent.glob("policy/*.py")])]
    for root, path in found:  # named relative to their folder: a checkout moved elsewhere keeps its fingerprint
        h.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


# libraries whose version can change what a county's files are read as
INPUT_LIBRARIES = ("duckdb", "pyarrow", "pandas", "numpy", "openpyxl", "pyreadstat", "fastexcel", "python-calamine")


def _resolved_policy(policy: Policy) -> str:
    """The policy's values as loaded (files, schema defaults, overrides) as stable JSON; not where
    its folder is."""
    def plain(value: object) -> object:
        if hasattr(value, "model_dump"):
            return value.model_dump(mode="json")
        if dataclasses.is_dataclass(value):
            return dataclasses.asdict(value)
        return str(value)

    values = {f.name: getattr(policy, f.name) for f in dataclasses.fields(policy) if f.init and f.name != "config_dir"}
    return json.dumps(values, sort_keys=True, default=plain, ensure_ascii=False)


def _version(library: str) -> str:
    try:
        return importlib.metadata.version(library)
    except importlib.metadata.PackageNotFoundError:
        return "absent"


@dataclass
class Plan:
    """Which registry counties of the quarters read this run re-reads (issue 12 part 1)."""

    inputs: dict[tuple[str, str], str]  # (period, unit) -> hash of its files and the fingerprint
    rebuild: set[tuple[str, str]]  # read this run
    carried: set[tuple[str, str]]  # kept from the current snapshot (files and rows unchanged)
    gone: set[tuple[str, str]]  # in the current snapshot, without files now: their parts dropped

    def read(self, f: RawFile) -> bool:
        return f.source_kind != "registry" or (f.period, unit_of(f.rel)) in self.rebuild


def plan_units(files: list[RawFile], base: Path | None, fingerprint: str, *, full: bool = False) -> Plan:
    """Compare each county's registry files (path and SHA-256) with what the current snapshot's
    ingest_units says its partitions were built from: changed, new or (full) every county is
    re-read, the others carried."""
    members: dict[tuple[str, str], list[str]] = {}
    for f in files:
        if f.source_kind == "registry":
            members.setdefault((f.period, unit_of(f.rel)), []).append(f"{f.rel}\t{readers.file_digest(f.path)[0]}")
    inputs = {u: hashlib.sha256("\n".join([fingerprint, *sorted(m)]).encode()).hexdigest()
              for u, m in members.items()}
    periods = sorted({p for p, _u in inputs})
    before: dict[tuple[str, str], str] = {}
    source = warehouse.scan(base, UNITS_TABLE) if base is not None and periods else None
    if source is not None and all(warehouse.table_files(base, t, periods) for t in PARTED):
        with duckdb.connect() as con:
            read = ", ".join(warehouse.sql_literal(p) for p in periods)
            before = {(p, u): h for p, u, h in con.execute(
                f"select period, unit, inputs from {source} where period in ({read})").fetchall()}
    carried = set() if full else {u for u, h in inputs.items() if before.get(u) == h}
    return Plan(inputs, set(inputs) - carried, carried, set(before) - set(inputs))


def template_context(policy: Policy, columns: dict[str, list[hdr.Column]] | None = None) -> dict:
    """What the ingest models are rendered with: identifiers only (column names, code-list names
    and codes the policy checked, the ID's digit count), never values, which come as parameter
    tables (pipelines/params.py). The loader's layout (raw_cells, raw_file) defaults to the
    registry's columns in config order; the loader renders each batch with its own (nodes.layout)."""
    columns = columns or {src: hdr.columns_of(policy.aliases[src]) for src in SOURCES}
    reg = columns["registry"]
    t = policy.thresholds.ingest
    multi = sorted({c.kind.split(":", 1)[1] for cols in columns.values() for c in cols if c.kind.startswith("codes:")})
    return dict(
        columns={src: [dict(name=c.name, kind=c.kind, pii=c.pii) for c in cols] for src, cols in columns.items()},
        sources=[dict(name=src, all_columns=[c.name for c in columns[src]],
                      kept_columns=nodes.quarantine_columns(columns[src]),
                      personal_columns=nodes.personal_columns(columns[src]),
                      household_key=src in ("registry", "pairing", "rectification", "project_beneficiaries"),
                      kind=_kind_of(src), department=src in DEPARTMENT_SOURCES)
                 for src in SOURCES],
        household_fields=nodes.household_fields(reg),
        income_columns=nodes.income_columns(reg),
        income_may_be_negative=list(t.income_may_be_negative),
        income_denominator=t.income_denominator,
        transfer_items=list(nodes.TRANSFER_ITEMS),
        raw_kept=nodes.raw_kept([c for cols in columns.values() for c in cols]),
        multi_codes={lst: list(policy.code_labels[lst]) for lst in multi},
        gb11643_digits=len(idcard.WEIGHTS),
        **nodes.layout(reg, {c.name: i for i, c in enumerate(reg)}, len(reg)),
    )


def _arrow_pool_release() -> None:
    """Hand back what Arrow's memory pool keeps of freed tables (mimalloc retains it otherwise)."""
    import pyarrow as pa

    pa.default_memory_pool().release_unused()


def _where(f: RawFile, sheet: str | None) -> str:
    """How messages name a file, or a sheet of it."""
    return f"{f.rel}, sheet '{sheet}'" if sheet is not None else f.rel


@dataclass
class ReadSheet:
    """One sheet of a file as read, before it is mapped and loaded (Ingest._read_file): its last
    piece's metadata and headers (no rows), and its cells as positional Arrow (nodes.positional_table)
    under the file_id it will be registered with: one table when it came in one piece, else the
    spooled pieces' Parquet files. A sheet that will not be loaded (header problems, a notes
    sheet) keeps no cells."""

    src: str
    found: dict[str, int] | None
    file_id: int | None
    sheet: readers.RawSheet | None = None
    table: object | None = None  # pyarrow.Table
    paths: list[Path] = field(default_factory=list)
    fills: list[tuple[int, list[str]]] = field(default_factory=list)
    rows: int = 0

    def add(self, piece: readers.RawSheet, text_at: set[int], folder: Callable[[], Path]) -> None:
        """One piece read: its rows as Arrow, kept (a sheet of one piece) or spooled into folder()."""
        self.sheet = piece.header_only()
        self.rows += len(piece.source_row)
        if self.found is None:
            return
        self.fills += piece.merged_fills
        numeric = {pos: rows for pos, rows in piece.numeric_cells.items() if pos in text_at}
        cells = piece.cells if piece.cells is not None else piece.data  # Arrow when the reader has it
        table = nodes.positional_table(cells, piece.source_row, self.file_id, numeric)
        if piece.piece == 0 and piece.last:
            self.table = table
            return
        import pyarrow.parquet as pq

        path = folder() / f"{self.file_id:07d}-{piece.piece:06d}.parquet"
        pq.write_table(table, path)
        self.paths.append(path)


class Ingest:
    """One ingest run: a DuckDB work database (in memory, spilling inside the warehouse transaction)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, policy: Policy | None = None, spool: Path | None = None,
                 batch_bytes: int | None = None, piece_cells: int | None = None):
        self.con = con
        # spool: a work folder where each flushed batch of raw rows is written as its own Parquet
        # file (per source, quarter and header layout) instead of inserted into an in-memory
        # raw_<source> table; raw_<source> is then a view over those files (close_spool). None
        # (ingest --check): the rows stay in the tables.
        self.spool = spool
        self.spooled: dict[str, list[Path]] = {}
        self.policy = policy or load_policy()
        self.columns = {src: hdr.columns_of(self.policy.aliases[src]) for src in SOURCES}
        self.limits = readers.Limits.from_policy(self.policy)
        self.text_finders = {src: hdr.text_column_finder(cols) for src, cols in self.columns.items()}
        self.finders = {src: hdr.policy_header_finder(self.policy, cols) for src, cols in self.columns.items()}
        self.context = template_context(self.policy, self.columns)
        self.file_id = 0
        self.batches: dict[tuple, dict] = {}
        # bytes of read rows held in Python before the largest batch is loaded (scratch_settings)
        self.batch_bytes = batch_bytes or reader_budget(self.policy)
        self.held = 0
        # half the budget for the file being read: cells per piece (CELL_BYTES each), unless given
        self.piece_bytes = self.batch_bytes // 2
        self.piece_cells = piece_cells or max(MIN_PIECE_CELLS, self.piece_bytes // CELL_BYTES)
        self.pieces: Path | None = None  # where pieces are spooled (_piece_dir)
        self._pieces_tmp: tempfile.TemporaryDirectory | None = None
        # every problem that refuses the run (header problems, unreadable files), collected over
        # the whole raw folder so that one run (or --check) lists them all
        self.problems: list[str] = []
        self.parts_written: list[str] = []  # files of the PARTED tables this run staged (table/period=…/name)
        self.carried_sources: set[str] = set()  # registry files of carried counties (not read this run)
        self.run_tables: dict[str, str] = {}  # output table -> the relation holding this run's rows
        self.sheets: list[dict] = []  # per file and sheet read: what its headers mapped to (check_table)
        self.notes: list[str] = []  # sheets not read as data (run-summary lines)

    # ---- setup ---------------------------------------------------------------------------------
    def create_inputs(self, key: str) -> None:
        """The parameter tables every model needs, the run's key, and the empty raw tables."""
        con = self.con
        params.bind(con, self.policy, GRAPH.sources(GRAPH.models))
        ipad, opad = keys.pads(key)  # the key reaches SQL only as HMAC's padded keys (sql/_macros.sql)
        con.execute("create table ingest_params as select ?::blob as key_ipad, ?::blob as key_opad, "
                    "? as key_fingerprint", [ipad, opad, keys.fingerprint(key)])
        meta = ("period varchar, period_end date, source_kind varchar, source_file varchar, file_id integer, "
                "file_order integer, sheet varchar, source_row bigint, is_blank_row boolean, shift_fails integer, "
                "shift_fixed_right integer, shift_fixed_left integer, is_shifted boolean, damaged_column varchar, "
                "damaged_detail varchar")
        for src, cols in self.columns.items():
            con.execute(f"create table raw_{src} ({meta}, {', '.join(f'{c.name} varchar' for c in cols)})")
        # the valid IDs of the counties a re-ingest does not read (person_ids rows; empty in a full run)
        con.execute("create table ext_person_ids (period varchar, source_file varchar, person_key varchar, rows bigint)")
        con.execute("create table raw_files (file_id integer, source_file varchar, source_kind varchar, "
                    "period varchar, sha256 varchar, bytes bigint, encoding varchar, sheet varchar, header_row integer, "
                    "period_end date, file_order integer, missing_columns varchar, unmapped_headers varchar)")
        con.execute("create table raw_headers (file_id integer, column_key varchar, header varchar, pos integer)")
        con.execute("create table raw_unmapped_headers (file_id integer, header varchar, column_letters varchar)")
        con.execute("create table raw_merged_fills (file_id integer, source_row bigint, first_header varchar, headers varchar)")

    # ---- loading raw files ---------------------------------------------------------------------
    # Files are read one at a time (pandas at the edge), then batched by header layout: one SQL
    # statement per layout (a county's format across periods), because planning the per-layout
    # SQL (cleaning + column-shift test over ~90 columns) costs far more than running it.
    def load_file(self, f: RawFile, file_order: int) -> None:
        """Read one raw file; its sheets join the batch of their header layout."""
        src = KIND_DIRS[f.source_kind]
        if f.source_kind in SHEET_SECTIONS:
            self._load_sections(f, file_order, SHEET_SECTIONS[f.source_kind])
            return
        parquet = readers.format_of(f.path, f.rel) == "parquet"
        size = f.path.stat().st_size
        if not parquet and size > self.limits.max_file_bytes:
            raise IngestError(f"{f.rel}: {size >> 20} MB, over the limit max_file_mb = {self.limits.max_file_bytes >> 20} "
                              f"({readers.LIMITS_HINT}); split the file or raise the limit if it is genuine")
        digest, size = readers.file_digest(f.path)
        if parquet:  # DuckDB reads raw Parquet itself (no pandas): only its schema is read here
            self._load_parquet(f, file_order, src, digest, size)
            return
        data_sheets = 0
        for sheet in self._read_file(f, self.finders[src], self.text_finders[src], lambda _headers: src):
            data_sheets += self._load_sheet(f, file_order, src, digest, size, sheet)
        if not data_sheets:
            raise IngestError(f"{f.rel}: no sheet holds the export (every sheet with known headers names too few "
                              f"required columns); expected a sheet with the columns of config/header_aliases.toml [{src}]")

    def _load_sections(self, f: RawFile, file_order: int, sections: tuple[str, ...]) -> None:
        """A file whose sheets may be any of `sections` (a project list and its beneficiaries): each
        sheet is read as the section whose aliases its headers match most (ties: the first), and
        recorded under that section's kind. Parquet is not offered for these lists."""
        if readers.format_of(f.path, f.rel) == "parquet":
            raise IngestError(f"{f.rel}: a Parquet file under data/raw/{f.source_kind}; expected xlsx, csv, dta or sav")
        size = f.path.stat().st_size
        if size > self.limits.max_file_bytes:
            raise IngestError(f"{f.rel}: {size >> 20} MB, over the limit max_file_mb = {self.limits.max_file_bytes >> 20} "
                              f"({readers.LIMITS_HINT})")
        digest, size = readers.file_digest(f.path)
        finders = [self.finders[s] for s in sections]
        texts = [self.text_finders[s] for s in sections]
        lookups = {s: hdr.alias_lookup(self.columns[s]) for s in sections}

        def find_header(rows):
            found = [i for i in (fn(rows) for fn in finders) if i is not None]
            return min(found) if found else None

        def text_columns(header):
            return set().union(*(fn(header) for fn in texts))

        def source_of(headers):
            return max(sections, key=lambda s: (hdr.count_matches(headers, lookups[s]), -sections.index(s)))

        data_sheets = 0
        for sheet in self._read_file(f, find_header, text_columns, source_of):
            data_sheets += self._load_sheet(replace(f, source_kind=_kind_of(sheet.src)), file_order, sheet.src, digest,
                                            size, sheet)
        if not data_sheets:
            raise IngestError(f"{f.rel}: no sheet holds a list (every sheet with known headers names too few "
                              f"required columns); expected a sheet with the columns of config/header_aliases.toml "
                              f"[{'] or ['.join(sections)}]")

    def _load_parquet(self, f: RawFile, file_order: int, src: str, digest: str, size: int) -> None:
        headers, numeric = self._parquet_schema(f)
        found = self._map(f, None, src, headers, f.rel)
        if found is None:
            return
        file_id = self._register_file(f, file_order, digest, size, None, None, 1, found, headers)
        numeric_at = nodes.numeric_marker(sorted(p for p in numeric if p in self._text_positions(src, found)))
        self._batch(src, headers, found, ("parquet", file_id, f.path, numeric_at), 0)

    def _read_file(self, f: RawFile, find_header, text_columns, source_of) -> list[ReadSheet]:
        """Every sheet of one file, read to its end before any is mapped or loaded (a file refused
        halfway loads nothing). A sheet is read in pieces of piece_cells cells: one piece is held
        as its Arrow table, a sheet of several pieces is spooled to Parquet piece by piece (one
        piece in Python at a time), every piece under the file_id the sheet will be registered
        with. `source_of(headers)`: the alias section a sheet is read as."""
        read: list[ReadSheet] = []
        file_id = self.file_id
        pieces = readers.read_sheets(f.path, find_header, f.rel, limits=self.limits, text_columns=text_columns,
                                     piece_cells=self.piece_cells)
        try:
            for piece in pieces:
                if piece.piece == 0:
                    headers = piece.headers
                    src = source_of(headers)
                    found, problems, note = self._mapping(piece.sheet, src, headers, _where(f, piece.sheet),
                                                          piece.first_column)
                    loads = not problems and not note
                    file_id += loads
                    read.append(ReadSheet(src, found if loads else None, file_id if loads else None))
                read[-1].add(piece, self._text_positions(read[-1].src, read[-1].found or {}), lambda: self._piece_dir)
        except BaseException:  # refused halfway: its spooled pieces go
            for sheet in read:
                for path in sheet.paths:
                    path.unlink(missing_ok=True)
            raise
        return read

    @property
    def _piece_dir(self) -> Path:
        """Where the pieces of sheets read in pieces are spooled until their batch is loaded."""
        if self.pieces is None:
            if self.spool is not None:
                self.pieces = self.spool / "pieces"
                self.pieces.mkdir(parents=True, exist_ok=True)
            else:  # ingest --check: no transaction work folder
                self._pieces_tmp = tempfile.TemporaryDirectory(prefix="povmon-pieces-")
                self.pieces = Path(self._pieces_tmp.name)
        return self.pieces

    def _drop_pieces(self) -> None:
        """The spooled pieces, once every batch is loaded."""
        if self.pieces is not None:
            shutil.rmtree(self.pieces, ignore_errors=True)
            if self._pieces_tmp is not None:
                self._pieces_tmp.cleanup()
            self.pieces = self._pieces_tmp = None

    def _load_sheet(self, f: RawFile, file_order: int, src: str, digest: str, size: int, read: ReadSheet) -> bool:
        """Map and batch one sheet; False when it is not a data sheet (a code list or notes), True
        otherwise (batched, or refused: its problems collected)."""
        sheet = read.sheet
        where = _where(f, sheet.sheet)
        headers = sheet.headers
        found = self._map(f, sheet.sheet, src, headers, where, sheet.first_column)
        if found is None:
            return "note" not in self.sheets[-1]
        file_id = self._register_file(f, file_order, digest, size, sheet.encoding, sheet.sheet,
                                      sheet.header_row, found, headers, sheet.first_column)
        assert file_id == read.file_id, "a sheet registered under another file_id than its pieces were read with"
        if read.fills:
            rows = nodes.merged_fill_rows(read.fills)
            self.con.execute("insert into raw_merged_fills select ?, unnest(?), unnest(?), unnest(?)",
                             [file_id, *(list(col) for col in zip(*rows))])
        if read.table is not None:
            self._batch(src, headers, found, ("arrow", file_id, read.table, None), read.rows, read.table.nbytes)
        else:  # spooled: DuckDB reads the pieces when the batch is loaded (nothing held here)
            self._batch(src, headers, found, ("pieces", file_id, read.paths, None), read.rows)
        return True

    def _mapping(self, sheet: str | None, src: str, headers: list[str], where: str, first_column: int = 0
                 ) -> tuple[dict[str, int], list[str], bool]:
        """(canonical columns found, problems, whether the sheet is a code list or notes sheet
        beside the data: its headers name too few required columns). Records nothing; the sheet
        is loaded when there are neither problems nor a note."""
        found, problems = hdr.find_columns(headers, self.columns[src], where, first_column)
        required = [c.name for c in self.columns[src] if c.required]
        note = sheet is not None and 2 * sum(1 for n in required if n in found) < len(required)
        return found, problems, note

    def _map(self, f: RawFile, sheet: str | None, src: str, headers: list[str], where: str, first_column: int = 0
             ) -> dict[str, int] | None:
        """The sheet's canonical columns, recorded for check_table; None (sheet not loaded, its
        problems collected) when a required column is missing or a column has two headers."""
        found, problems, note = self._mapping(sheet, src, headers, where, first_column)
        if note:
            # a code list or notes sheet beside the data (its headers name a few known columns):
            # not read, and said so (a file with no data sheet at all is refused below)
            required = [c.name for c in self.columns[src] if c.required]
            self.notes.append(f"{where}: headers name {sum(1 for n in required if n in found)} of the "
                              f"{len(required)} required columns; not read as data (a code list or notes sheet)")
            self.sheets.append(dict(source_file=f.rel, sheet=sheet, mapped=len(found), unmapped=[],
                                    problems=[], note="not data: a code list or notes sheet"))
            return None
        positions = set(found.values())
        self.sheets.append(dict(source_file=f.rel, sheet=sheet, mapped=len(found), problems=problems,
                                unmapped=[h for i, h in enumerate(headers) if i not in positions
                                          and not h.startswith("_extra_")]))
        self.problems += problems
        return None if problems else found

    def record_problem(self, f: RawFile, problem: str) -> None:
        """A file that could not be read at all (its sheets never reached the header mapping)."""
        self.problems.append(problem)
        self.sheets.append(dict(source_file=f.rel, sheet=None, mapped=0, problems=[problem], unmapped=[]))

    def _text_positions(self, src: str, found: dict[str, int]) -> set[int]:
        """Positions of the file's columns that must be stored as text (header_aliases text_only)."""
        text_only = {c.name for c in self.columns[src] if c.text_only}
        return {pos for name, pos in found.items() if name in text_only}

    def _parquet_schema(self, f: RawFile) -> tuple[list[str], set[int]]:
        """Leaf column names of a raw Parquet file and the positions of its numeric columns."""
        try:
            schema = self.con.execute(
                "select name, type, converted_type from parquet_schema(?) where num_children is null",
                [str(f.path)]).fetchall()
        except duckdb.Error as exc:
            raise IngestError(f"{f.rel}: not readable as Parquet ({' '.join(str(exc).split())[:200]}); "
                              f"expected an intact Parquet file") from None
        numeric = {i for i, (_name, ptype, converted) in enumerate(schema)
                   if ptype in ("INT32", "INT64", "INT96", "FLOAT", "DOUBLE") or converted == "DECIMAL"}
        return [r[0] for r in schema], numeric

    def _batch(self, src, headers, found, item, rows, nbytes: int = 0) -> None:
        """Add a sheet (an Arrow table of nbytes) or a raw Parquet file to its layout's batch; load
        the batch at BATCH_ROWS rows, and the largest batches while the rows held pass batch_bytes
        less the share kept for the piece being read (piece_bytes)."""
        key = (src, tuple(headers))
        batch = self.batches.setdefault(key, dict(found=found, items=[], rows=0, bytes=0))
        batch["items"].append(item)
        batch["rows"] += rows
        batch["bytes"] += nbytes
        self.held += nbytes
        if batch["rows"] >= BATCH_ROWS:
            self._flush(key)
        while self.held > self.batch_bytes - self.piece_bytes:  # the rest is the next file's piece
            self._flush(max(self.batches, key=lambda k: self.batches[k]["bytes"]))

    def flush_all(self) -> None:
        for key in list(self.batches):
            self._flush(key)

    def _flush(self, key) -> None:
        """One statement for every batched sheet of a layout: clean cells (raw_cells.sql), then
        raw_file.sql into raw_<source>."""
        src, headers = key
        batch = self.batches.pop(key)
        self.held -= batch["bytes"]
        con = self.con
        arrow = self._bind_batch(batch["items"], headers)
        context = dict(self.context, **nodes.layout(self.columns[src], batch["found"], len(headers)))
        con.execute(f"create or replace temp table src_file as {GRAPH.render('raw_cells', context)}")
        sql = GRAPH.render("raw_file", context)
        # the shift test is a long sum of CASE terms: common-subexpression search on it costs
        # seconds of planning and saves nothing at run time
        con.execute("set disabled_optimizers = 'common_subexpressions'")
        rows = (f"select f.period, f.period_end, f.source_kind, f.source_file, f.file_order, f.sheet, r.* "
                f"from ({sql}) as r inner join raw_files as f on f.file_id = r.file_id")
        try:
            if self.spool is None:
                con.execute(f"insert into raw_{src} by name {rows}")
            else:  # this batch's rows, in raw_<source>'s columns, as one Parquet file of the spool
                target = self.spool / f"raw_{src}" / f"{len(self.spooled.get(src, [])):05d}.parquet"
                target.parent.mkdir(parents=True, exist_ok=True)
                con.execute(f"copy (select * from raw_{src} union all by name {rows}) to "
                            f"{warehouse.sql_literal(target)} (format parquet, compression zstd)")
                self.spooled.setdefault(src, []).append(target)
        finally:
            con.execute("reset disabled_optimizers")
            con.execute("drop table src_file")
            con.execute("drop view src_union")
            if arrow:
                con.unregister("src_arrow")
        for kind, _fid, paths, _num in batch["items"]:
            if kind == "pieces":  # loaded: a sheet's spooled pieces are not kept until the run ends
                for path in paths:
                    path.unlink(missing_ok=True)

    def _bind_batch(self, items: list[tuple], headers: tuple[str, ...]) -> bool:
        """View src_union over a batch's cells (c0 … c<n-1> as text, source_row, file_id,
        numeric_at): the sheets read by pandas as one Arrow table, raw Parquet files read by
        DuckDB directly (their paths and header names are the one text written into this SQL).
        Returns whether an Arrow table was registered."""
        arrow = [t for kind, _fid, t, _num in items if kind == "arrow"]
        parquet = [(fid, path, num) for kind, fid, path, num in items if kind == "parquet"]
        pieces = [p for kind, _fid, paths, _num in items if kind == "pieces" for p in paths]
        selects = []
        if arrow:
            import pyarrow as pa

            self.con.register("src_arrow", pa.concat_tables(arrow))
            selects.append("select * from src_arrow")
        if pieces:  # sheets read in pieces (Ingest._read_file): positional Arrow spooled as Parquet;
            # a CSV's earlier pieces may lack its later `_extra_` columns (NULL, as padding gives)
            files = ", ".join(warehouse.sql_literal(p) for p in pieces)
            cols = ", ".join(f"c{i}" for i in range(len(headers)))
            selects.append(f"select {cols}, source_row, file_id, numeric_at "
                           f"from read_parquet([{files}], union_by_name = true)")
        if parquet:
            self.con.execute("create or replace temp table src_paths (file_id integer, path varchar, numeric_at varchar)")
            self.con.executemany("insert into src_paths values (?, ?, ?)",
                                 [(fid, str(p), num) for fid, p, num in parquet])
            files = ", ".join(warehouse.sql_literal(p) for _fid, p, _num in parquet)
            cols = ", ".join(f'cast(r."{h.replace(chr(34), chr(34) * 2)}" as varchar) as c{i}'
                             for i, h in enumerate(headers))
            selects.append(f"select {cols}, r.file_row_number + 2 as source_row, p.file_id, p.numeric_at "
                           f"from read_parquet([{files}], file_row_number = true, filename = true) as r "
                           f"inner join src_paths as p on p.path = r.filename")
        self.con.execute(f"create or replace temp view src_union as {' union all '.join(selects)}")
        return bool(arrow)

    def _register_file(self, f, file_order, digest, size, encoding, sheet, header_row, found, headers,
                       first_column: int = 0) -> int:
        self.file_id += 1
        end = Period.parse(f.period).end_date if f.period else None
        # optional columns a file lacks load as NULL: the manifest names them, and the headers
        # that matched no alias, so a county's new spelling is seen and added to the alias table
        missing = ", ".join(c.name for c in self.columns[KIND_DIRS[f.source_kind]] if c.name not in found)
        positions = set(found.values())
        unmapped = ", ".join(h for i, h in enumerate(headers) if i not in positions)
        self.con.execute("insert into raw_files values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         [self.file_id, f.rel, f.source_kind, f.period, digest, size, encoding, sheet, header_row,
                          end, file_order, missing or None, unmapped or None])
        self.con.execute("insert into raw_headers select ?, unnest(?), unnest(?), unnest(?)",
                         [self.file_id, list(found), [headers[pos] for pos in found.values()], list(found.values())])
        unmapped: dict[str, list[str]] = {}
        for i, h in enumerate(headers):
            if i not in positions and not h.startswith("_extra_"):  # _extra_: a column with no header
                unmapped.setdefault(h, []).append(readers.column_letter(first_column + i))
        if unmapped:
            self.con.execute("insert into raw_unmapped_headers select ?, unnest(?), unnest(?)",
                             [self.file_id, list(unmapped), [", ".join(v) for v in unmapped.values()]])
        return self.file_id

    def load_all(self, files: list[RawFile]) -> None:
        """Read every file; a file that cannot be read or a sheet whose headers are refused is
        collected (self.problems) and the others are still read, so one pass finds every problem."""
        for order, f in enumerate(progress.each(files, "ingest")):  # a live line on a terminal only
            try:
                self.load_file(f, order)
            except IngestError as exc:
                self.record_problem(f, str(exc))
            nodes.release_memory()  # the reader's frames are gone: their heap back before the next file
            _arrow_pool_release()
        self.flush_all()
        self._drop_pieces()
        self.close_spool()

    def close_spool(self) -> None:
        """raw_<source> becomes a view over the source's spooled Parquet files (its empty table
        keeps the columns and types when a source has none)."""
        for src, paths in self.spooled.items():
            self.con.execute(f"alter table raw_{src} rename to raw_{src}__columns")
            files = ", ".join(warehouse.sql_literal(p) for p in paths)
            self.con.execute(f"create view raw_{src} as select * from raw_{src}__columns "
                             f"union all by name select * from read_parquet([{files}])")
        self.spooled = {}

    def refuse_if_problems(self) -> None:
        """One IngestError listing every collected problem (file, sheet, column, found, expected)."""
        if self.problems:
            raise IngestError(refusal(self.problems, "problem"))

    # ---- models and outputs --------------------------------------------------------------------
    def run_models(self, carried: dict[str, list[Path]] | None = None) -> None:
        """Every model the output tables need, in graph order (pipelines/graph.py). `carried`: the
        current snapshot's files of the persons and households of counties this run does not read;
        the models after the county models (project beneficiaries, findings) see them too, while
        this run's own rows stay in <table>__run (what write_outputs writes)."""
        if not carried:
            GRAPH.run(self.con, list(OUTPUTS), context=self.context, temp=False)
            return
        made = GRAPH.run(self.con, COUNTY_MODELS, context=self.context, temp=False)
        for table in ("persons", "households"):
            self.con.execute(f"alter table {table} rename to {table}__run")
            extra = (f" union all by name select * from {warehouse.read_files(carried[table])}"
                     if carried.get(table) else "")
            self.con.execute(f"create table {table} as select * from {table}__run{extra}")
            self.run_tables[table] = f"{table}__run"
        GRAPH.run(self.con, list(OUTPUTS), context=self.context, temp=False, built=made)

    def bind_external(self, files: list[Path]) -> None:
        """ext_person_ids: the carried counties' rows of person_ids (their files in the snapshot)."""
        if files:
            self.con.execute("insert into ext_person_ids select period, source_file, person_key, rows "
                             f"from {warehouse.read_files(files)}")

    def affected_units(self, base: Path, plan: Plan) -> set[tuple[str, str]]:
        """Carried counties whose cross-county duplicate decisions differ between the current
        snapshot's person_ids and this run's (its counties' new IDs beside the carried ones): for
        each of a county's IDs, how many rows of other counties carry it before its file (path
        order) and in all. Such a county must be re-read: its rows (duplicate_person, the kept
        row's flag and finding) change although its files did not."""
        periods = sorted({p for p, _u in plan.carried})
        old = warehouse.table_files(base, "person_ids", periods)
        con = self.con
        con.execute("create or replace temp table ids_old as select period, source_file, person_key, rows from "
                    + (warehouse.read_files(old) if old else "ext_person_ids where false"))
        con.execute("create or replace temp table ids_new as select period, source_file, person_key, rows "
                    "from person_ids union all select * from ext_person_ids")
        files = [r[0] for r in con.execute("select source_file from ids_old union select source_file from ids_new")
                 .fetchall()]
        con.execute("create or replace temp table ids_units (source_file varchar, unit varchar)")
        if files:
            con.executemany("insert into ids_units values (?, ?)", [(f, unit_of(f)) for f in files])

        def info(ids: str) -> str:
            return (f"select a.period, u.unit, a.source_file, a.person_key, "
                    f"sum(case when b.source_file < a.source_file then b.rows else 0 end) as earlier, "
                    f"sum(b.rows) as total from {ids} as a "
                    f"inner join ids_units as u on u.source_file = a.source_file "
                    f"inner join {ids} as b on b.period = a.period and b.person_key = a.person_key "
                    f"inner join ids_units as v on v.source_file = b.source_file and v.unit <> u.unit "
                    f"group by all")

        changed = con.execute(f"select distinct period, unit from (({info('ids_old')}) except ({info('ids_new')}) "
                              f"union all (({info('ids_new')}) except ({info('ids_old')})))").fetchall()
        return {(p, u) for p, u in changed if (p, u) in plan.carried}

    def shared_households(self, base: Path | None, plan: Plan) -> set[tuple[str, str]]:
        """Carried counties holding a 户编号 (household_key) that a county read this run holds now
        or held in the current snapshot. Households are reconciled across files
        (int_households_reconciled: by period and household_key, whatever the county), and 户编号
        are opaque strings (domain.md), so such a county's households and findings can change
        although its files did not: it is re-read."""
        carried = _unit_files(base, "persons", plan.carried)
        if not carried:
            return set()
        before = _unit_files(base, "persons", plan.rebuild)
        keys_read = "select period, household_key from " + self.run_tables.get("persons", "persons")
        if before:
            keys_read += f" union select period, household_key from {warehouse.read_files(before)}"
        units = {f"period={p}/{part_name(u)}": (p, u) for p, u in plan.carried}
        listed = ", ".join(warehouse.sql_literal(str(f)) for f in carried)
        found = self.con.execute(
            f"select distinct c.filename from read_parquet([{listed}], filename = true) as c "
            f"inner join ({keys_read}) as k on k.period = c.period and k.household_key = c.household_key").fetchall()
        return {units[f"{Path(f).parent.name}/{Path(f).name}"] for (f,) in found}

    def write_outputs(self, tx: warehouse.Transaction, periods: list[str], plan: Plan | None = None) -> list[str]:
        """Stage every output table in the transaction, one Parquet per partition (stable bytes:
        one thread, full ORDER BY), every period read getting one (maybe empty). What this run did
        not read is kept from the current snapshot: partitions (the transaction carries them over)
        or, in the unpartitioned manifest, rows of the other quarters and of carried counties'
        files. Rows of reference files get period `reference`. The PARTED tables are written one
        file per county read (write_parts)."""
        plan = plan or Plan({}, set(), set(), set())
        carried_files = sorted(self.carried_sources)
        registry = [r[0] for r in self.con.execute(
            "select distinct source_file from raw_files where source_kind = 'registry' order by 1").fetchall()]
        _values_table(self.con, "file_parts", ("source_file", "part"), [(f, part_name(unit_of(f))) for f in registry])
        for table, (part, keys) in OUTPUTS.items():
            source = self.run_tables.get(table, table)
            columns = [r[0] for r in self.con.execute(f"describe {source}").fetchall()]
            order = [f"{c} nulls first" for c in [*keys, *(c for c in columns if c not in keys and c != part)]]
            rows = (f"select * replace (coalesce(period, {warehouse.sql_literal(REFERENCE)}) as period) from {source}"
                    if "period" in columns else f"select * from {source}")
            if part is None:
                if "period" in columns:
                    rows = _with_previous_rows(rows, tx.base, table, periods, columns, carried_files)
                tx.write_table(self.con, rows, table, order_by=order)
                continue
            if table in PARTED:
                self.write_parts(tx, table, rows, order, periods, plan)
                continue
            _drop_rebuilt(tx, table, part, {*periods, REFERENCE})
            values = {r[0] for r in self.con.execute(f"select distinct {part} from ({rows})").fetchall()}
            for value in sorted(values | (set(periods) if part == "period" else set()), key=str):
                tx.write_table(self.con, f"select * from ({rows}) where {part} = {warehouse.sql_literal(value)}",
                               table, value, key=part, order_by=order)
            if not tx.partitions(table):  # no rows at all: one empty file keeps the columns
                tx.write_table(self.con, f"select * from {table} where false", table, order_by=order)
        self.write_units(tx, periods, plan)
        return [*OUTPUTS, UNITS_TABLE]

    def write_parts(self, tx: warehouse.Transaction, table: str, rows: str, order: list[str], periods: list[str],
                    plan: Plan) -> None:
        """One file per registry county read (part_name) and data.parquet (every other row, maybe
        empty) in each quarter's partition. A quarter with carried counties keeps their files
        (merge_parts); a county read without rows, or gone, loses its file; a staged file equal
        byte for byte to the current one is dropped so that the current file (same inode) is kept."""
        tx.merge_parts(table)
        kept = {p for p, _u in plan.carried}
        _drop_rebuilt(tx, table, "period", {*periods, REFERENCE} - kept)
        for p, u in plan.gone:
            if p in kept:
                tx.delete_part(table, p, part_name(u))
        con = self.con
        rest = warehouse.sql_literal(warehouse.DATA_FILE)
        # each row's file name, looked up once: every file below then reads its rows by two plain
        # column filters instead of a semi-join over the whole table per file
        con.execute(f"create or replace temp table parts__rows as select r.*, coalesce(u.part, {rest}) as part__ "
                    f"from ({rows}) as r left join file_parts as u on u.source_file = r.source_file")
        try:
            self._write_part_files(tx, table, order, periods, plan, kept)
        finally:
            con.execute("drop table if exists parts__rows")

    def _write_part_files(self, tx: warehouse.Transaction, table: str, order: list[str], periods: list[str],
                          plan: Plan, kept: set[str]) -> None:
        """write_parts' files, from parts__rows (the table's rows, each with its file name part__)."""
        con = self.con
        found = set(con.execute("select distinct period, part__ from parts__rows").fetchall())
        columns = ", ".join('"' + r[0].replace('"', '""') + '"'
                            for r in con.execute("describe parts__rows").fetchall() if r[0] != "part__")
        read = {(p, part_name(u)) for p, u in plan.rebuild}
        for value, name in sorted(found | read | {(p, warehouse.DATA_FILE) for p in periods}):
            if (value, name) not in found and name != warehouse.DATA_FILE:
                if value in kept:  # a county read whose rows are all elsewhere: no file
                    tx.delete_part(table, value, name)
                continue
            path = tx.path(table, value, name=name)
            warehouse.write_parquet(con, f"select {columns} from parts__rows where period = "
                                    f"{warehouse.sql_literal(value)} and part__ = {warehouse.sql_literal(name)}",
                                    path, order_by=order)
            self.parts_written.append(f"{table}/period={value}/{name}")
            old = tx.base / path.relative_to(tx.new) if tx.base is not None and value in kept else None
            if old is not None and old.is_file() and filecmp.cmp(old, path, shallow=False):
                path.unlink()  # carried instead: same bytes, same file
                self.parts_written.pop()

    def write_units(self, tx: warehouse.Transaction, periods: list[str], plan: Plan) -> None:
        """ingest_units: per quarter read, each registry county's inputs hash (plan_units)."""
        con = self.con
        _values_table(con, "units__now", ("period", "unit", "inputs"), sorted((*k, h) for k, h in plan.inputs.items()))
        _drop_rebuilt(tx, UNITS_TABLE, "period", {*periods, REFERENCE})
        for value in periods:
            tx.write_table(con, f"select * from units__now where period = {warehouse.sql_literal(value)}",
                           UNITS_TABLE, value, order_by=["unit", "inputs"])

    def summary(self) -> dict:
        con = self.con
        counts = {t: con.execute(f"select count(*) from {t}").fetchone()[0] for t in OUTPUTS}
        reasons = dict(con.execute("select reason, count(*) from findings group by 1 order by 1").fetchall())
        quarantined = dict(con.execute("select reason, count(*) from quarantine group by 1 order by 1").fetchall())
        files = con.execute("select count(distinct source_file), sum(rows_read), sum(rows_loaded), "
                            "sum(rows_quarantined) from ingest_manifest").fetchone()
        periods = [r[0] for r in con.execute("select distinct period from raw_files where period is not null "
                                             "order by 1").fetchall()]
        return dict(rows=counts, quarantined=quarantined, findings=reasons, periods=periods,
                    files=dict(count=files[0], rows_read=int(files[1] or 0), rows_loaded=int(files[2] or 0),
                               rows_quarantined=int(files[3] or 0)),
                    warnings=self.notes + self.damage_warnings() + self.column_warnings())

    def quarantine_failures(self) -> list[str]:
        """One line per file (sheet) with more than [ingest] max_quarantined_share of its rows
        quarantined (blank and totals rows aside), naming its top reasons: such a file is refused. Any share below 1 refuses
        a file with every row quarantined; 1.0 switches the refusal off."""
        share = self.policy.thresholds.ingest.max_quarantined_share
        rows = self.con.execute(
            "with q as (select source_file, sheet, reason, count(*) as n from quarantine group by all), "
            "blank as (select source_file, sheet, sum(n) as n from q where reason in ('blank_row', 'total_row') group by all), "
            "top as (select source_file, sheet, string_agg(reason || ' ' || cast(n as varchar), ', ' "
            "order by n desc, reason) as reasons from q where reason not in ('blank_row', 'total_row') group by all) "
            "select m.source_file, m.sheet, m.rows_read - coalesce(b.n, 0) as rows, "
            "m.rows_quarantined - coalesce(b.n, 0) as bad, t.reasons from ingest_manifest as m "
            "left join blank as b on b.source_file = m.source_file and b.sheet is not distinct from m.sheet "
            "left join top as t on t.source_file = m.source_file and t.sheet is not distinct from m.sheet "
            "where m.rows_read - coalesce(b.n, 0) > 0 order by all").fetchall()
        out = []
        for file, sheet, n, bad, reasons in rows:
            if bad > share * n:
                where = f"{file}, sheet {sheet!r}" if sheet is not None else file
                out.append(f"{where}: {bad} of {n} rows (blank and totals rows aside) quarantined (expected at most "
                           f"{share:.0%}: thresholds.toml [ingest] max_quarantined_share); top reasons: {reasons}")
        return out

    def column_warnings(self) -> list[str]:
        """Run-summary lines: a header that maps to no column (its cells are not loaded), and a
        mapped column whose cells are blank in every non-blank row of a file (it loads as NULL)."""
        con = self.con
        out = []
        for file, sheet, header, letters in con.execute(
                "select f.source_file, f.sheet, u.header, u.column_letters from raw_unmapped_headers as u "
                "inner join raw_files as f using (file_id) order by all").fetchall():
            where = f"{file}, sheet {sheet!r}" if sheet is not None else file
            out.append(f"{where}, column {letters} '{header}': header matches no alias in "
                       f"config/header_aliases.toml; its cells are not loaded")
        rows_of = {"registry": "int_registry_rows", "pairing": "int_pairing_rows", "survey": "int_survey_rows",
                   "population": "int_population_rows"}
        for src, cols in self.columns.items():
            names = [c.name for c in cols]
            # yes/no columns as loaded (a tick-box file's blanks are 否), the others as written
            yes_no = {c.name for c in cols if c.kind == "yes_no" and not c.pii} if src in rows_of else set()
            counts = ", ".join(f'count("{n}") as "{n}"' for n in names if n not in yes_no)
            loaded = ", ".join(f'count("{n}") as "{n}"' for n in sorted(yes_no))
            filled: dict[int, dict[str, int]] = {}
            for row in con.execute(f"select file_id, {counts} from raw_{src} where not is_blank_row "
                                   f"group by file_id").fetchall():
                filled[row[0]] = dict(zip([n for n in names if n not in yes_no], row[1:]))
            if loaded:
                for row in con.execute(f"select file_id, {loaded} from {rows_of[src]} where reason is null "
                                       f"group by file_id").fetchall():
                    filled.setdefault(row[0], {}).update(zip(sorted(yes_no), row[1:]))
            for file_id, key, header, file, sheet in con.execute(
                    "select h.file_id, h.column_key, h.header, f.source_file, f.sheet from raw_headers as h "
                    f"inner join raw_files as f using (file_id) where f.source_kind = '{_kind_of(src)}' "
                    "order by f.source_file, f.sheet nulls first, h.pos").fetchall():
                if filled.get(file_id, {}).get(key, 1) == 0:
                    where = f"{file}, sheet {sheet!r}" if sheet is not None else file
                    out.append(f"{where}, column '{header}' ({key}): blank in every row; loads as NULL")
        return out

    def damage_warnings(self) -> list[str]:
        """One line per file, sheet and column with IDs a spreadsheet damaged (no values: they are personal)."""
        rows = self.con.execute(
            "select source_file, sheet, column_name, count(*), min(source_row), max(source_row) from quarantine "
            "where reason = 'id_damaged_by_spreadsheet' group by all order by all").fetchall()
        out = []
        for file, sheet, column, n, first, last in rows:
            where = f"{file}, sheet {sheet!r}" if sheet is not None else file
            cells = "1 cell" if n == 1 else f"{n} cells"
            at = f"row {first}" if first == last else f"rows {first}–{last}"
            out.append(f"{where}, column {column}: {cells} stored as or shaped like numbers ({at}) quarantined as "
                       f"id_damaged_by_spreadsheet; re-export the column as text")
        return out


def _kind_of(src: str) -> str:
    """The source_kind of raw files of an alias section (population comes from `reference`)."""
    return next(kind for kind, section in KIND_DIRS.items() if section == src)


def refusal(problems: list[str], what: str) -> str:
    """One line: how many problems, then each (file, sheet, column, found, expected) after ' | '."""
    files = len({p.split(":", 1)[0].split(", sheet")[0] for p in problems})
    n = len(problems)
    return (f"ingest refused: {n} {what}{'s' if n != 1 else ''} in {files} file{'s' if files != 1 else ''} "
            f"(povmon ingest --check lists every file): " + " | ".join(problems))


def _with_previous_rows(rows: str, previous: Path | None, table: str, periods: list[str], columns: list[str],
                        files: list[str] = ()) -> str:
    """`rows` plus the previous snapshot's rows of an unpartitioned table from quarters this run
    did not read, and of `files` (carried counties' registry files), in this run's columns (a
    column the old file lacks is NULL)."""
    source = warehouse.scan(previous, table) if previous is not None else None
    if source is None:
        return rows
    read = ", ".join(warehouse.sql_literal(p) for p in [*periods, REFERENCE])
    kept = (" or source_file in (" + ", ".join(warehouse.sql_literal(f) for f in files) + ")") if files else ""
    return (f"select {', '.join(columns)} from ({rows}\nunion all by name\nselect * from {source} "
            f"where (regexp_full_match(period, '[0-9]{{4}}Q[1-4]') and period not in ({read})){kept})")


def _values_table(con, name: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Table `name` of text columns holding `rows` (a VALUES list: any engine)."""
    cols = ", ".join(columns)
    if rows:
        values = ", ".join("(" + ", ".join(warehouse.sql_literal(v) for v in r) + ")" for r in rows)
        query = f"select * from (values {values}) as t({cols})"
    else:
        query = "select " + ", ".join(f"cast(null as varchar) as {c}" for c in columns) + " where false"
    con.execute(f"create or replace table {name} as {query}")


def _unit_files(base: Path | None, table: str, units: set[tuple[str, str]]) -> list[Path]:
    """The current snapshot's files of `table` (a PARTED one) for these (period, county unit)s."""
    names = {(f"period={p}", part_name(u)) for p, u in units}
    if base is None or not names:
        return []
    periods = sorted({p for p, _u in units})
    return [f for f in warehouse.table_files(base, table, periods) if (f.parent.name, f.name) in names]


def _carried_parts(base: Path | None, plan: Plan) -> dict[str, list[Path]]:
    """{PARTED table: the current snapshot's files of the counties the plan carries}."""
    return {t: _unit_files(base, t, plan.carried) for t in PARTED}


def _drop_rebuilt(tx: warehouse.Transaction, table: str, part: str, read: set[str]) -> None:
    """Leave out of the new snapshot the current partitions this run rebuilds: the quarters it
    read, `reference`, anything that is not a quarter, and every partition of a table not
    partitioned by quarter (population). A run with --periods, or a quarter no longer under
    data/raw, keeps the other quarters."""
    if part != "period" or tx.base is None:
        tx.replace_table(table)
        return
    for value in warehouse.partitions(tx.base, table):
        if not is_period(value) or value in read:
            tx.delete(table, value)


# Ingest's DuckDB database is scratch (in memory; nothing in it is kept): an automatic checkpoint
# of it only compresses every table made so far, and one fell in the `households` model at
# 100 000 households (7.3 of its 8.2 s: DuckDB's profile, storage.checkpoint_latency). Beyond
# [engine] memory_limit the tables still spill to the temp directory.
SCRATCH_SETTINGS = {"preserve_insertion_order": "false", "checkpoint_threshold": "'1TB'"}


def scratch_settings(con: duckdb.DuckDBPyConnection, policy: Policy | None = None) -> int:
    """Settings of ingest's scratch database (row order is set by each output's ORDER BY), and
    its share of memory: the readers' rows held in Python get reader_budget (returned, bytes),
    DuckDB the rest of the configured memory_limit, so both together stay under it. DuckDB keeps
    that limit for the whole run: after the load the readers' share is the headroom for what
    DuckDB's limit does not count (run)."""
    for name, value in SCRATCH_SETTINGS.items():
        con.execute(f"set {name} = {value}")
    policy = policy or load_policy()
    limit = memory_limit(policy)
    budget = reader_budget(policy, limit)
    con.execute(f"set memory_limit = '{limit - budget}B'")
    return budget


def memory_limit(policy: Policy) -> int:
    """config/warehouse.toml [engine] memory_limit in bytes ($POVMON_DUCKDB_MEMORY applied). A
    size DuckDB takes in another form ('80%', 'none', '-1') is resolved by DuckDB, and no more
    than the machine's memory is counted; one DuckDB refuses is an error naming the setting."""
    text = warehouse.engine_settings(policy)["memory_limit"]
    try:
        return nodes.memory_bytes(text)
    except ValueError:
        pass
    probe = duckdb.connect()
    try:
        probe.execute(f"set memory_limit = {warehouse.sql_literal(text)}")
        resolved = probe.execute("select current_setting('memory_limit')").fetchone()[0]
    except duckdb.Error as exc:
        raise IngestError(f"memory_limit {text!r} ($POVMON_DUCKDB_MEMORY or config/warehouse.toml [engine]): "
                          f"expected a size such as 4GB or 80% ({str(exc).splitlines()[0]})") from exc
    finally:
        probe.close()
    machine = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    try:
        return min(nodes.memory_bytes(resolved), machine)
    except ValueError:  # beyond the units counted ('16383.9 PiB': no limit)
        return machine


def reader_budget(policy: Policy, limit: int | None = None) -> int:
    """Bytes of read rows ingest may hold in Python: [engine] reader_share of memory_limit (`limit`
    when the caller has it already)."""
    return int((memory_limit(policy) if limit is None else limit) * policy.warehouse.engine.reader_share)


def run(raw_dir: Path, processed_dir: Path, periods: list[str] | None = None, policy: Policy | None = None, *,
        full: bool = False) -> dict:
    """Ingest every raw file under raw_dir into processed_dir; returns a JSON-able summary. A
    registry county whose files are unchanged since the current snapshot is not read again
    (plan_units) unless `full`."""
    started = time.perf_counter()
    policy = policy or load_policy()
    periods = [str(Period.parse(p)) for p in periods] if periods else None
    raw_dir, processed_dir = Path(raw_dir).resolve(), Path(processed_dir).resolve()
    files = discover(raw_dir, periods)  # a bad raw layout stops here: nothing locked or created
    key = keys.resolve_key(raw_dir, [(f.path, f.rel) for f in files])
    with warehouse.transaction(processed_dir, stage="ingest") as tx:
        keys.check_warehouse_key(keys.recorded_fingerprints(processed_dir), key)
        # a county whose registry files are as the current snapshot's partitions were built from
        # is not read again (plan_units); on Spark every county is read
        fingerprint = inputs_fingerprint(policy, key, template_context(policy))
        plan = plan_units(files, tx.base, fingerprint, full=full or engines.current() != "duckdb")
        for attempt in itertools.count():
            # in memory under config/warehouse.toml [engine]; spills inside the transaction's work folder.
            # The readers and the loader run on DuckDB on any engine (pipelines/engines.py)
            with engines.use("duckdb"):
                con = tx.connect(policy)
            try:
                budget = scratch_settings(con, policy)
                ingest = Ingest(con, policy, spool=tx.work / f"raw-{attempt}", batch_bytes=budget)
                ingest.create_inputs(key)
                carried = _carried_parts(tx.base, plan)
                ingest.bind_external(carried["person_ids"])
                ingest.carried_sources = {f.rel for f in files if f.source_kind == "registry" and not plan.read(f)}
                timings = {}
                mark = time.perf_counter()
                ingest.load_all([f for f in files if plan.read(f)])
                # every read row is loaded; the models and writes keep DuckDB's limit at memory_limit
                # less the readers' share (scratch_settings): that share is the headroom for the memory
                # DuckDB does not count against its limit (allocator caches, the Parquet writer's
                # buffers) beside the interpreter's, so the process stays under the cap
                ingest.refuse_if_problems()
                ingest.con = con = engines.handover(con, tx.work)  # --engine spark: the models run on Spark
                timings["load"], mark = round(time.perf_counter() - mark, 2), time.perf_counter()
                ingest.run_models(carried if plan.carried else None)
                affected = (ingest.affected_units(tx.base, plan) | ingest.shared_households(tx.base, plan)
                            if plan.carried else set())
                if affected:  # a county's duplicates or households change with another's files: read it too
                    plan = replace(plan, rebuild=plan.rebuild | affected, carried=plan.carried - affected)
                    continue
                failures = ingest.quarantine_failures()
                if failures:
                    raise IngestError(refusal(failures, "file over the quarantine limit"))
                timings["models"], mark = round(time.perf_counter() - mark, 2), time.perf_counter()
                read = sorted({f.period for f in files if f.period} | set(periods or ()))
                ingest.write_outputs(tx, read, plan)
                timings["write"] = round(time.perf_counter() - mark, 2)
                summary = ingest.summary()
                summary["timings"] = timings
                summary["counties"] = dict(read=sorted(f"{p}/{u}" for p, u in plan.rebuild),
                                           kept=len(plan.carried), parts_written=len(ingest.parts_written))
                break
            finally:
                con.close()
    summary["seconds"] = round(time.perf_counter() - started, 2)
    summary["processed_dir"] = str(processed_dir)
    summary["snapshot"] = tx.snapshot.name if tx.snapshot else None
    return summary


# ---- povmon ingest --check ----------------------------------------------------------------------

CHECK_COLUMNS = ("file", "sheet", "mapped", "unmapped headers", "refused (columns)", "unknown code labels",
                 "would load", "would quarantine")


def check(raw_dir: Path, periods: list[str] | None = None, policy: Policy | None = None) -> dict:
    """What a run would do with every file under raw_dir, writing nothing: per file and sheet the
    mapped columns, unmapped headers, header problems (missing required columns with the closest
    unmapped header, duplicate headers, unreadable files), code labels not in code_labels.toml and
    the rows it would load and quarantine (every row is read: the counts are exact), plus the files
    a run would refuse for quarantining too much. Runs in an in-memory database; the
    pseudonymisation key is the demo key, as nothing it makes leaves memory."""
    from pipelines import config

    policy = policy or load_policy()
    periods = [str(Period.parse(p)) for p in periods] if periods else None
    raw_dir = Path(raw_dir).resolve()
    files = discover(raw_dir, periods)
    con = warehouse.connect(policy)
    budget = scratch_settings(con, policy)
    try:
        ingest = Ingest(con, policy, batch_bytes=budget)
        ingest.create_inputs(config.DEMO_KEY)
        ingest.load_all(files)
        ingest.run_models()
        counts = {(f, s): (loaded, quarantined) for f, s, loaded, quarantined in con.execute(
            "select source_file, sheet, rows_loaded, rows_quarantined from ingest_manifest").fetchall()}
        labels: dict[tuple, list[str]] = {}
        for f, s, column, values in con.execute(
                "select source_file, sheet, column_name, string_agg(distinct coalesce(raw_value, '(not shown)'), '、' "
                "order by coalesce(raw_value, '(not shown)')) from findings where reason = 'unknown_code_label' "
                "group by all order by all").fetchall():
            labels.setdefault((f, s), []).append(f"{column}: {values}")
        rows = []
        for sh in ingest.sheets:
            loaded, quarantined = counts.get((sh["source_file"], sh["sheet"]), (None, None))
            rows.append(dict(zip(CHECK_COLUMNS, (
                sh["source_file"], sh["sheet"] or "", sh["mapped"], "、".join(sh["unmapped"]),
                " | ".join(p.split(": ", 1)[1] if ": " in p else p for p in sh["problems"])
                or (f"({sh['note']})" if "note" in sh else ""),
                "; ".join(labels.get((sh["source_file"], sh["sheet"]), [])),
                "" if loaded is None else loaded, "" if quarantined is None else quarantined))))
        return dict(rows=rows, problems=list(ingest.problems), quarantine_failures=ingest.quarantine_failures(),
                    warnings=ingest.column_warnings())
    finally:
        con.close()


def check_report(result: dict) -> str:
    """The --check table (Markdown) and what a real run would do."""
    def cell(v) -> str:
        return str(v).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(CHECK_COLUMNS) + " |", "|" + "---|" * len(CHECK_COLUMNS)]
    lines += ["| " + " | ".join(cell(r[c]) for c in CHECK_COLUMNS) + " |" for r in result["rows"]]
    refused = result["problems"] + result["quarantine_failures"]
    if refused:
        lines.append(f"\nA run would be refused (exit 2) for these {len(refused)} problem(s):")
        lines += [f"- {p}" for p in refused]
    else:
        files = len({r["file"] for r in result["rows"]})
        lines.append(f"\nA run would load these {files} file(s); nothing was written.")
    return "\n".join(lines)
