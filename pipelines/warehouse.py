"""The warehouse on disk (data/processed): Parquet per table and partition, views in povmon.duckdb.

Every stage reads and writes through these functions, so the layout is decided in one place
(docs/data_contract.md §5):

    processed_dir/<table>/period=<YYYYQn>/data.parquet   a table partitioned by quarter
    processed_dir/<table>/year=<YYYY>/data.parquet       population, partitioned by year
    processed_dir/<table>/data.parquet                   a table without partitions (regions, ingest_manifest)
    processed_dir/povmon.duckdb                          one view per table directory

- Reading: `scan(processed_dir, table, period=None)` is a `read_parquet(...)` expression with hive
  partitioning, so the partition column (`period` VARCHAR, `year` INTEGER) is a column whether or
  not the file itself carries it. Writers put it in the file too (files are self-describing).
- Writing: `write_table(con, query, processed_dir, table, period, order_by=...)` writes a temp file
  in the same directory and `os.replace`s it (readers see the old file or the new one, never half;
  a failed write leaves the old file), ordered and on one thread (same rows, same bytes).
- Views: after writing, a stage calls `refresh_views(processed_dir)`, which rebuilds povmon.duckdb
  from the table directories it finds (a stage need not know the others) in a temp file and
  `os.replace`s it (no stage waits on a lock; an open reader keeps the old file).

The views hold absolute paths: DuckDB resolves a relative path against the reader's working
directory, not against the database file. After moving processed_dir, rebuild them:
`python -c "from pipelines.warehouse import refresh_views; refresh_views('data/processed')"`.
"""

from __future__ import annotations

import fcntl
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import duckdb

from pipelines.periods import Period, is_period

DATABASE = "povmon.duckdb"
DATA_FILE = "data.parquet"
HIVE_TYPES = {"period": "VARCHAR", "year": "INTEGER"}  # partition column -> SQL type
COPY_OPTIONS = "format parquet, compression zstd, row_group_size 1000000"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_GLOB_CHARS = set("*?[]{}")


# ---- SQL text ------------------------------------------------------------------------------------

def sql_escape(text: object) -> str:
    """Body of a SQL string literal: single quotes doubled (for text spliced into a longer literal)."""
    return str(text).replace("'", "''")


def sql_literal(value: object) -> str:
    """A SQL string literal of a string or a path ('it''s'); `null` for None."""
    return "null" if value is None else f"'{sql_escape(value)}'"


# ---- paths ---------------------------------------------------------------------------------------

def partition_path(processed_dir: Path | str, table: str, period: object = None, *, key: str = "period") -> Path:
    """processed_dir/<table>/<key>=<period>/data.parquet, or processed_dir/<table>/data.parquet."""
    if not _NAME.fullmatch(table) or not _NAME.fullmatch(key):
        raise ValueError(f"table and partition column must be plain names, got {table!r}, {key!r}")
    base = Path(processed_dir) / table
    if period is None:
        return base / DATA_FILE
    value = str(period)
    if not value or value.startswith(".") or "/" in value or "\\" in value or "=" in value:
        raise ValueError(f"{table}: {value!r} cannot be a partition value")
    return base / f"{key}={value}" / DATA_FILE


def _partitions(table_dir: Path) -> tuple[str | None, dict[str, Path]]:
    """(partition column, {value: file}) of a table directory; (None, {}) when not partitioned."""
    keys, files = set(), {}
    subs = sorted(table_dir.iterdir()) if table_dir.is_dir() else []
    for sub in subs:
        key, sep, value = sub.name.partition("=")
        if sep and _NAME.fullmatch(key) and (sub / DATA_FILE).is_file():
            keys.add(key)
            files[value] = sub / DATA_FILE
    if len(keys) > 1:
        raise ValueError(f"{table_dir}: partitioned by more than one column {sorted(keys)}")
    return (keys.pop() if keys else None), files


def partitions(processed_dir: Path | str, table: str) -> dict[str, Path]:
    """{partition value: file} of a partitioned table, sorted by value; {} otherwise."""
    return _partitions(Path(processed_dir) / table)[1]


def table_files(processed_dir: Path | str, table: str, periods: Iterable[object] | None = None, *,
                upto: str | Period | None = None) -> list[Path]:
    """The table's Parquet files that exist: every partition, or those of `periods`, or (with
    `upto`) none of a quarter after it (partitions that are not quarters, like `reference` or a
    year, are kept); [<table>/data.parquet] for a table without partitions (when no periods asked)."""
    table_dir = Path(processed_dir) / table
    key, files = _partitions(table_dir)
    if key is None:
        whole = table_dir / DATA_FILE
        return [whole] if periods is None and whole.is_file() else []
    if periods is not None:
        wanted = {str(p) for p in periods}
        files = {v: f for v, f in files.items() if v in wanted}
    if upto is not None:
        last = Period.parse(upto)
        files = {v: f for v, f in files.items() if not is_period(v) or Period.parse(v) <= last}
    return list(files.values())


def tables(processed_dir: Path | str) -> list[str]:
    """Names of the table directories under processed_dir that hold Parquet data, sorted."""
    root = Path(processed_dir)
    if not root.is_dir():
        return []
    return [d.name for d in sorted(root.iterdir())
            if d.is_dir() and _NAME.fullmatch(d.name) and table_files(root, d.name)]


# ---- reading ---------------------------------------------------------------------------------------

def _read_parquet(source: str, key: str | None) -> str:
    if key is None:
        return f"read_parquet({source}, union_by_name = true, hive_partitioning = false)"
    types = f", hive_types = {{'{key}': {HIVE_TYPES[key]}}}" if key in HIVE_TYPES else ""
    return f"read_parquet({source}, union_by_name = true, hive_partitioning = true{types})"


def read_files(files: Sequence[Path | str]) -> str:
    """read_parquet([...]) over the given files of one table (absolute paths, hive-aware)."""
    paths = [Path(f).resolve() for f in files]
    if not paths:
        raise ValueError("read_files: no files to read")
    keys = {p.parent.name.partition("=")[0] if "=" in p.parent.name else None for p in paths}
    if len(keys) != 1:
        raise ValueError(f"read_files: files mix partition layouts {sorted(map(str, keys))}")
    return _read_parquet("[" + ", ".join(sql_literal(p) for p in paths) + "]", keys.pop())


def scan(processed_dir: Path | str, table: str, period: object = None, *,
         upto: str | Period | None = None) -> str | None:
    """A read_parquet(...) expression over the table (every partition; the one of `period`; or
    those up to `upto`), or None when there is no such file. Partition columns come back as
    columns: `select * from {scan(...)}` of one period has its `period` column."""
    root = Path(processed_dir).resolve()
    if period is None and upto is None:
        key, files = _partitions(root / table)
        if files and not _GLOB_CHARS & set(str(root / table)):  # a glob: later partitions show up too
            return _read_parquet(sql_literal(root / table / f"{key}=*" / DATA_FILE), key)
    files = table_files(root, table, None if period is None else [period], upto=upto)
    return read_files(files) if files else None


# ---- writing ---------------------------------------------------------------------------------------

@contextmanager
def atomic_path(path: Path | str) -> Iterator[Path]:
    """Yield a temp path in `path`'s directory; on success it replaces `path` (os.replace, atomic on
    one filesystem), on failure it is removed and `path` keeps its old content."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)  # left by a killed run of a process with the same id
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_parquet(con: duckdb.DuckDBPyConnection, query: str, path: Path | str, *,
                  order_by: str | Sequence[str]) -> int:
    """Write the rows of `query` (a SELECT, or a table/view name on `con`) to `path`: ORDER BY
    `order_by`, one thread (deterministic bytes), atomically (see atomic_path). Returns the rows."""
    order = order_by if isinstance(order_by, str) else ", ".join(order_by)
    source = query if _NAME.fullmatch(query) else f"(\n{query}\n)"
    threads = con.execute("select current_setting('threads')").fetchone()[0]
    con.execute("set threads = 1")
    try:
        with atomic_path(path) as tmp:
            rows = con.execute(f"copy (select * from {source} order by {order}) "
                               f"to {sql_literal(tmp)} ({COPY_OPTIONS})").fetchone()[0]
    finally:
        con.execute(f"set threads = {int(threads)}")
    return int(rows)


def write_table(con: duckdb.DuckDBPyConnection, query: str, processed_dir: Path | str, table: str,
                period: object = None, *, order_by: str | Sequence[str], key: str = "period") -> int:
    """Write `query` (a SELECT or a table/view name) as the table's partition for `period` (or as
    the whole table when None), atomically and deterministically. Returns the rows written.
    Include the partition column in the query: files carry it as well as their directory name."""
    return write_parquet(con, query, partition_path(processed_dir, table, period, key=key), order_by=order_by)


# ---- the views ---------------------------------------------------------------------------------------

@contextmanager
def _locked(processed_dir: Path) -> Iterator[None]:
    """Serialise view rebuilds (two stages finishing together both see each other's tables)."""
    with open(processed_dir / f".{DATABASE}.lock", "a+b") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def refresh_views(processed_dir: Path | str) -> list[str]:
    """Rebuild processed_dir/povmon.duckdb with one view per table directory found (absolute
    paths), in a temp file replaced into place. Returns the view names.

    A connection already open on the old file keeps reading it; in the same Python process DuckDB
    hands new connections that open instance until every connection to it is closed."""
    root = Path(processed_dir).resolve()
    root.mkdir(parents=True, exist_ok=True)
    with _locked(root):
        names = tables(root)
        with atomic_path(root / DATABASE) as tmp:
            wal = tmp.with_name(tmp.name + ".wal")
            try:
                with duckdb.connect(str(tmp)) as con:
                    for name in names:
                        try:
                            con.execute(f'create view "{name}" as select * from {scan(root, name)}')
                        except duckdb.Error as exc:
                            raise RuntimeError(f"refresh_views: table {name} under {root}: {exc}") from exc
            finally:
                wal.unlink(missing_ok=True)
    return names
