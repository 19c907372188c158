"""The warehouse on disk (data/processed): immutable snapshots of Parquet partitions, one atomic
pointer to the current one, views in povmon.duckdb. The only module that knows the layout
(docs/data_contract.md §5):

    processed_dir/current -> snapshots/<id>                the committed state: a relative symlink
    processed_dir/snapshots/<id>/<table>/period=<YYYYQn>/data.parquet   a table partitioned by quarter
    processed_dir/snapshots/<id>/<table>/year=<YYYY>/data.parquet       population, by year
    processed_dir/snapshots/<id>/<table>/data.parquet      a table without partitions (regions, ingest_manifest)
    processed_dir/povmon.duckdb                            one view per table, reading through current/
    processed_dir/.staging/<stage>-<pid>-<n>/              a running transaction: new/ (the next
                                                           snapshot) and work/ (scratch, DuckDB spill)
    processed_dir/.writer.lock                             the writer lock; its text names the holder

- Reading: `scan(processed_dir, table, period=None)` is a `read_parquet(...)` expression (hive
  partitioning: `period` VARCHAR, `year` INTEGER come back as columns); `partitions`,
  `table_files`, `tables` list what is there. They read the current snapshot, or, given a
  snapshot folder (`snapshot(processed_dir)` pins one) or a folder without snapshots (a flat
  layout, as tests build by hand), that folder.
- Writing: every stage writes inside `with transaction(processed_dir, stage="risk") as tx:` —
  one writer at a time (an OS lock; a second run waits, then exits 2 naming the holder); leftovers
  of killed runs are removed first; `tx.write_table(...)` stages partitions inside processed_dir;
  on success the new snapshot (the current one's files hard-linked + this run's partitions) is
  switched in by one `os.replace` of the `current` link, the views are rebuilt and snapshots older
  than the last `keep` (config/warehouse.toml) removed. On an exception nothing changes; a kill at
  any instant leaves the previous snapshot or the new one.
- `write_table(con, query, root, table, period)` / `write_parquet` write one file atomically and
  deterministically (ORDER BY, one thread): inside a transaction, and for building flat folders.
  Table folders found directly under processed_dir (the old layout, or dropped in by hand) are
  imported into a snapshot by the next transaction, then removed.

The views hold absolute paths (DuckDB resolves a relative path against the reader's working
directory): after moving processed_dir run any stage, or
`python -c "from pipelines.warehouse import refresh_views; refresh_views('data/processed')"`.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import itertools
import json
import os
import re
import shlex
import shutil
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from pipelines import faults
from pipelines.periods import Period, is_period

DATABASE = "povmon.duckdb"
DATA_FILE = "data.parquet"
CURRENT = "current"
SNAPSHOTS = "snapshots"
STAGING = ".staging"
LOCK_FILE = ".writer.lock"
RESERVED = {CURRENT, SNAPSHOTS}
LOCK_WAIT_ENV = "POVMON_LOCK_WAIT"  # seconds; `povmon <stage> --wait` sets it
HIVE_TYPES = {"period": "VARCHAR", "year": "INTEGER"}  # partition column -> SQL type
# Row groups of DuckDB's default size: the writer buffers a whole row group before it flushes, and a
# million rows of a wide output (risk: 79 columns) do not fit beside the stage's tables under the
# [engine] memory_limit (risk's write at 1 M persons under 400 MB: 19 s with 1 000 000, 3.4 s with 100 000)
COPY_OPTIONS = "format parquet, compression zstd, row_group_size 122880"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SORTED = itertools.count()  # names of write_parquet's sorted tables
_SNAPSHOT_ID = re.compile(r"(\d{8})-[A-Za-z0-9_]+")
_GLOB_CHARS = set("*?[]{}")
# errors of the disk rather than of the data: reported as one line, the warehouse unchanged
DISK_ERRORS = {
    errno.ENOSPC: "the disk is full: free space (a run needs room for what it writes and for DuckDB's spill) "
                  "and run again",
    errno.EDQUOT: "the disk quota is used up: free space and run again",
    errno.EROFS: "the folder is on a read-only file system: mount it read-write or give another --processed",
    errno.EACCES: "check the folder's owner and permissions",
    errno.EPERM: "check the folder's owner and permissions",
    errno.EIO: "the disk reported an I/O error",
    errno.EFBIG: "a file grew past the file system's limit",
    errno.EXDEV: "a rename crossed file systems",
}


class WarehouseError(RuntimeError):
    """A warehouse problem reported as one line (locked, read-only, disk full, not a folder...)."""


class WarehouseBusy(WarehouseError):
    """Another process held the writer lock longer than we would wait."""


# ---- SQL text ------------------------------------------------------------------------------------

def sql_escape(text: object) -> str:
    """Body of a SQL string literal: single quotes doubled (for text spliced into a longer literal)."""
    return str(text).replace("'", "''")


def sql_literal(value: object) -> str:
    """A SQL string literal of a string or a path ('it''s'); `null` for None."""
    return "null" if value is None else f"'{sql_escape(value)}'"


# ---- paths ---------------------------------------------------------------------------------------

def partition_path(root: Path | str, table: str, period: object = None, *, key: str = "period") -> Path:
    """root/<table>/<key>=<period>/data.parquet, or root/<table>/data.parquet (root: a snapshot
    or a flat folder; readers of a warehouse use `stable_path` or `table_files`)."""
    if not _NAME.fullmatch(table) or not _NAME.fullmatch(key):
        raise ValueError(f"table and partition column must be plain names, got {table!r}, {key!r}")
    base = Path(root) / table
    if period is None:
        return base / DATA_FILE
    value = str(period)
    if not value or value.startswith(".") or "/" in value or "\\" in value or "=" in value:
        raise ValueError(f"{table}: {value!r} cannot be a partition value")
    return base / f"{key}={value}" / DATA_FILE


def _pointer(root: Path) -> Path:
    return root / CURRENT


def _has_pointer(root: Path) -> bool:
    return os.path.lexists(_pointer(root))


def snapshot(processed_dir: Path | str) -> Path:
    """The folder a reader reads, resolved: the current snapshot (pin it — it never changes, and
    lives until `keep` newer ones are committed), or processed_dir itself when it has no `current`
    (a snapshot folder already, or a flat layout built by hand)."""
    root = Path(processed_dir).resolve()
    pointer = _pointer(root)
    if not os.path.lexists(pointer):
        return root
    target = pointer.resolve()
    if not target.is_dir():
        raise WarehouseError(f"{pointer} points to {target}, which does not exist: the warehouse was damaged "
                             f"by hand; point it at the newest folder in {root / SNAPSHOTS} (ln -sfn)")
    return target


def stable_path(processed_dir: Path | str, table: str, period: object = None, *, key: str = "period") -> Path:
    """processed_dir/current/<table>/<key>=<period>/data.parquet: the path that always names the
    current partition (for messages, make targets and views); the plain path for a flat folder."""
    root = Path(processed_dir).resolve()
    return partition_path(_pointer(root) if _has_pointer(root) else root, table, period, key=key)


def _leaves(table_dir: Path) -> dict[str | None, list[Path]]:
    """{partition folder name ('period=2020Q1'), or None for files directly in the table folder:
    [its files]} — the unit a snapshot replaces. Hidden files (temp files) are not data."""
    out: dict[str | None, list[Path]] = {}
    if not table_dir.is_dir():
        return out
    for entry in sorted(table_dir.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_dir() and _NAME.fullmatch(entry.name.partition("=")[0]) and "=" in entry.name:
            files = [f for f in sorted(entry.iterdir()) if f.is_file() and not f.name.startswith(".")]
            if files:
                out[entry.name] = files
        elif entry.is_file():
            out.setdefault(None, []).append(entry)
    return out


def _layout(leaves: Iterable[str | None]) -> frozenset:
    """The partition columns of a set of leaves (None: not partitioned)."""
    return frozenset(leaf.partition("=")[0] if leaf else None for leaf in leaves)


def _partition_data(folder: Path) -> list[Path]:
    """The Parquet files of one partition folder: data.parquet, and beside it the files of a
    partition written in parts (ingest's county-scoped tables: `<part>.parquet`, one per county),
    sorted by name. Other files (measures.csv) and hidden temp files are not data."""
    if not folder.is_dir():
        return []
    return [f for f in sorted(folder.iterdir())
            if f.suffix == ".parquet" and not f.name.startswith(".") and f.is_file()]


def _partitions(table_dir: Path) -> tuple[str | None, dict[str, list[Path]]]:
    """(partition column, {value: [files]}) of a table directory; (None, {}) when not partitioned."""
    keys, files = set(), {}
    subs = sorted(table_dir.iterdir()) if table_dir.is_dir() else []
    for sub in subs:
        key, sep, value = sub.name.partition("=")
        data = _partition_data(sub) if sep and _NAME.fullmatch(key) else []
        if data:
            keys.add(key)
            files[value] = data
    if len(keys) > 1:
        raise ValueError(f"{table_dir}: partitioned by more than one column {sorted(keys)}")
    return (keys.pop() if keys else None), files


def _one_path(files: list[Path]) -> Path:
    """One path naming every file of a partition: its data.parquet, or `<folder>/*.parquet` for a
    partition written in parts (read_parquet and Spark expand the glob)."""
    if len(files) == 1 and files[0].name == DATA_FILE:
        return files[0]
    return files[0].parent / "*.parquet"


def _table_names(folder: Path) -> list[str]:
    """Table folders directly under `folder` (a snapshot or a flat layout) holding a data file."""
    if not folder.is_dir():
        return []
    return [d.name for d in sorted(folder.iterdir())
            if d.is_dir() and not d.is_symlink() and _NAME.fullmatch(d.name) and d.name not in RESERVED
            and _files_of(folder, d.name)]


def _files_of(root: Path, table: str) -> list[Path]:
    key, files = _partitions(root / table)
    if key is None:
        whole = root / table / DATA_FILE
        return [whole] if whole.is_file() else []
    return [f for parts in files.values() for f in parts]


# ---- reading -------------------------------------------------------------------------------------

def partitions(processed_dir: Path | str, table: str) -> dict[str, Path]:
    """{partition value: file} of a partitioned table, sorted by value; {} otherwise. A partition
    written in parts (one file per county) is named by the glob `<folder>/*.parquet`, which
    read_files reads whole; `table_files` lists the files themselves."""
    return {v: _one_path(f) for v, f in _partitions(snapshot(processed_dir) / table)[1].items()}


def table_files(processed_dir: Path | str, table: str, periods: Iterable[object] | None = None, *,
                upto: str | Period | None = None) -> list[Path]:
    """The table's Parquet files that exist: every partition, or those of `periods`, or (with
    `upto`) none of a quarter after it (partitions that are not quarters, like `reference` or a
    year, are kept); [<table>/data.parquet] for a table without partitions (when no periods asked)."""
    table_dir = snapshot(processed_dir) / table
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
    return [f for parts in files.values() for f in parts]


def tables(processed_dir: Path | str) -> list[str]:
    """Names of the tables of the current snapshot (or of a flat folder), sorted."""
    return _table_names(snapshot(processed_dir))


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


def _scan_at(root: Path, visible: Path, table: str) -> str | None:
    """read_parquet over every partition of `table` in snapshot `root`, naming the files under
    `visible` (root itself, or the stable processed_dir/current for views): a glob when the path
    allows one (later partitions show up too), else the list of files."""
    key, files = _partitions(root / table)
    if files and not _GLOB_CHARS & set(str(visible / table)):
        return _read_parquet(sql_literal(visible / table / f"{key}=*" / "*.parquet"), key)
    paths = [visible / f.relative_to(root) for f in _files_of(root, table)]
    return _read_parquet("[" + ", ".join(sql_literal(p) for p in paths) + "]", key) if paths else None


def scan(processed_dir: Path | str, table: str, period: object = None, *,
         upto: str | Period | None = None) -> str | None:
    """A read_parquet(...) expression over the table (every partition; the one of `period`; or
    those up to `upto`) of the current snapshot, or None when there is no such file. Partition
    columns come back as columns: `select * from {scan(...)}` of one period has its `period` column."""
    root = snapshot(processed_dir)
    if period is None and upto is None:
        return _scan_at(root, root, table)
    files = table_files(root, table, None if period is None else [period], upto=upto)
    return read_files(files) if files else None


# ---- writing one file ------------------------------------------------------------------------------

@contextmanager
def atomic_path(path: Path | str) -> Iterator[Path]:
    """Yield a temp path in `path`'s directory; on success it replaces `path` (os.replace, atomic on
    one filesystem), on failure it is removed and `path` keeps its old content."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)  # left by a killed run of a process with the same id
    try:
        faults.point("write")
        yield tmp
        faults.point("rename")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@contextmanager
def atomic_folder(target: Path | str) -> Iterator[Path]:
    """Yield an empty folder beside `target` (same file system); on success it replaces `target` as
    a whole (an atomic exchange where Linux supports it), on failure it is removed and `target`
    keeps its old content. For outputs outside the warehouse (the 明白卡 of a village)."""
    target = Path(target).absolute()
    target.parent.mkdir(parents=True, exist_ok=True)
    _tidy_beside(target)
    built = target.with_name(f".{target.name}.build-{os.getpid()}")
    built.mkdir()
    try:
        yield built
        faults.point("folder.publish")
        if not target.exists():
            os.rename(built, target)
        elif not _exchange(built, target):
            old = target.with_name(f".{target.name}.old-{os.getpid()}")
            os.rename(target, old)
            os.rename(built, target)
            built = old
    finally:
        shutil.rmtree(built, ignore_errors=True)


def write_parquet(con: duckdb.DuckDBPyConnection, query: str, path: Path | str, *,
                  order_by: str | Sequence[str], presorted: bool = False) -> int:
    """Write the rows of `query` (a SELECT, or a table/view name on `con`) to `path`: ORDER BY
    `order_by`, one thread (deterministic bytes), atomically (see atomic_path). Returns the rows.
    presorted: `query` names a table already in `order_by` order on a unique key (created by
    CREATE TABLE AS ... ORDER BY): copied as it is, the same bytes without a second sort."""
    order = order_by if isinstance(order_by, str) else ", ".join(order_by)
    if not isinstance(con, duckdb.DuckDBPyConnection):  # another engine (pipelines/engines.py) hands its rows over
        return con.write_parquet(query, Path(path), order_by=order)
    source = query if _NAME.fullmatch(query) else f"(\n{query}\n)"
    threads = con.execute("select current_setting('threads')").fetchone()[0]
    if presorted:
        if not _NAME.fullmatch(query):
            raise ValueError(f"write_parquet(presorted=True) takes a table name, got a query: {query[:60]!r}")
        con.execute("set threads = 1")
        try:
            with atomic_path(path) as tmp:
                return int(con.execute(f"copy {query} to {sql_literal(tmp)} ({COPY_OPTIONS})").fetchone()[0])
        finally:
            con.execute(f"set threads = {int(threads)}")
    # sorted into a table first, then copied in its (insertion) order: the same bytes as one
    # `copy (select ... order by)`, but the sort and the Parquet writer do not hold memory at the same
    # time (risk's write at 1 M persons under a 400 MB cap: 23 s in one statement, 7 s in two)
    sorted_rows = f"_povmon_sorted_{next(_SORTED)}"
    con.execute("set threads = 1")
    try:
        con.execute(f"create temp table {sorted_rows} as select * from {source} order by {order}")
        with atomic_path(path) as tmp:
            rows = con.execute(f"copy {sorted_rows} to {sql_literal(tmp)} ({COPY_OPTIONS})").fetchone()[0]
    finally:
        con.execute(f"drop table if exists {sorted_rows}")
        con.execute(f"set threads = {int(threads)}")
    return int(rows)


def write_table(con: duckdb.DuckDBPyConnection, query: str, root: Path | str, table: str,
                period: object = None, *, order_by: str | Sequence[str], key: str = "period") -> int:
    """Write `query` (a SELECT or a table/view name) as the table's partition for `period` (or as
    the whole table when None) under `root`, a flat folder (stages use `Transaction.write_table`).
    Include the partition column in the query: files carry it as well as their directory name."""
    return write_parquet(con, query, partition_path(root, table, period, key=key), order_by=order_by)


# ---- errors of the disk ----------------------------------------------------------------------------

def disk_errno(exc: BaseException) -> int | None:
    """The errno of an OSError, or of a DuckDB error quoting one, when it is the disk's fault."""
    if isinstance(exc, OSError) and exc.errno in DISK_ERRORS:
        return exc.errno
    if isinstance(exc, duckdb.Error):
        text = str(exc)
        return next((code for code in DISK_ERRORS if os.strerror(code) in text), None)
    return None


def _disk_message(exc: BaseException, code: int) -> str:
    where = exc.filename if isinstance(exc, OSError) and exc.filename else None
    if where is None:
        found = re.search(r'file \\?"(.+?)\\?"', str(exc))
        where = found.group(1) if found else None
    return f"{os.strerror(code)}{f' at {where}' if where else ''}: {DISK_ERRORS[code]}"


def _prepare(processed_dir: Path | str) -> Path:
    """processed_dir as an absolute path to an existing folder, or a WarehouseError saying why not."""
    root = Path(processed_dir).absolute()
    try:
        root.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as exc:
        raise WarehouseError(f"the warehouse {root} must be a folder, but {exc.filename or root} is a file") from exc
    except OSError as exc:
        code = disk_errno(exc)
        if code is None:
            raise
        raise WarehouseError(f"cannot create the warehouse {root}: {_disk_message(exc, code)}") from exc
    return root.resolve()


# ---- DuckDB connections ------------------------------------------------------------------------------

MEMORY_ENV = "POVMON_DUCKDB_MEMORY"  # one run's override of [engine] memory_limit
THREADS_ENV = "POVMON_DUCKDB_THREADS"  # … and of [engine] threads


def engine_settings(policy=None, spill: Path | None = None) -> dict[str, str]:
    """The DuckDB settings of config/warehouse.toml [engine] (environment overrides applied):
    memory_limit, threads (at most the machine's cores) and temp_directory ([engine]'s, else
    `spill`, else DuckDB's default)."""
    if policy is None:
        from pipelines.policy import load_policy

        policy = load_policy()
    engine = policy.warehouse.engine
    threads = int(os.environ.get(THREADS_ENV) or engine.threads)
    out = {"memory_limit": os.environ.get(MEMORY_ENV) or engine.memory_limit,
           "threads": str(max(1, min(os.cpu_count() or 1, threads)))}
    temp = Path(engine.temp_directory).expanduser() if engine.temp_directory else spill
    if temp is not None:
        out["temp_directory"] = str(temp)
    return out


def connect(policy=None, spill: Path | None = None, database: str = ":memory:") -> duckdb.DuckDBPyConnection:
    """The one way a stage opens DuckDB: a connection under the [engine] limits of
    config/warehouse.toml (memory_limit, threads, temp_directory; `spill` when it names none)."""
    con = duckdb.connect(database)
    for name, value in engine_settings(policy, spill).items():
        con.execute(f"set {name} = {sql_literal(value)}")
    return con


# ---- one writer at a time ---------------------------------------------------------------------------

_HELD: set[Path] = set()  # warehouses whose writer lock this process holds
_TX_NUMBERS = itertools.count(1)  # transactions of this process


def lock_wait_seconds() -> float:
    """How long a writer waits for the lock: $POVMON_LOCK_WAIT, else config/warehouse.toml."""
    from pipelines.config import load_toml

    env = os.environ.get(LOCK_WAIT_ENV)
    return float(env) if env else float(load_toml("warehouse")["lock"]["wait_seconds"])


def _holder(root: Path) -> str:
    """Who holds the lock, from the lock file's text: 'pid 123 (povmon ingest ..., since 12:00:01)'."""
    try:
        info = json.loads((root / LOCK_FILE).read_text(encoding="utf-8") or "{}")
        return f"pid {info['pid']} ({info['command']}, since {info['started']})"
    except (OSError, ValueError, KeyError, TypeError):
        return "another process (it has not said who it is yet)"


def _acquire(fd: int, root: Path, stage: str, wait: float) -> None:
    deadline = None
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        now = time.monotonic()
        if deadline is None:
            deadline = now + max(wait, 0.0)
            if wait > 0:
                print(f"povmon {stage}: waiting up to {wait:g} s for the warehouse {root}, in use by {_holder(root)}",
                      file=sys.stderr, flush=True)
        if now >= deadline:
            raise WarehouseBusy(f"the warehouse {root} is in use by {_holder(root)}; gave up after waiting {wait:g} s "
                                f"(--wait SECONDS, or [lock] wait_seconds in config/warehouse.toml)")
        time.sleep(min(0.1, deadline - now))


def _open_lock(root: Path) -> int:
    try:
        return os.open(root / LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        code = disk_errno(exc)
        if code is None:
            raise
        raise WarehouseError(f"cannot write to the warehouse {root}: {_disk_message(exc, code)}") from exc


def _same_file(fd: int, path: Path) -> bool:
    try:
        there = os.stat(path)
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (mine.st_dev, mine.st_ino) == (there.st_dev, there.st_ino)


@contextmanager
def writer_lock(processed_dir: Path | str, stage: str, wait: float | None = None) -> Iterator[Path]:
    """Hold processed_dir's writer lock (fcntl.flock on .writer.lock, released by the OS when the
    process dies, however it dies); the lock file says who holds it. Yields the resolved folder."""
    wait = lock_wait_seconds() if wait is None else wait
    while True:
        root = _prepare(processed_dir)
        if root in _HELD:
            raise WarehouseError(f"{stage}: this process already writes to the warehouse {root} (nested transaction)")
        fd = _open_lock(root)
        try:
            _acquire(fd, root, stage, wait)
        except BaseException:
            os.close(fd)
            raise
        if _same_file(fd, root / LOCK_FILE):
            break
        os.close(fd)  # a failed first run removed the file we locked: lock the one there now
    try:
        program = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else stage
        command = shlex.join(["povmon" if program == "cli.py" else program, *sys.argv[1:]])
        holder = {"pid": os.getpid(), "stage": stage, "command": command,
                  "started": datetime.now().isoformat(timespec="seconds")}
        with suppress(OSError):  # the lock holds whether or not the note can be written
            os.ftruncate(fd, 0)
            os.pwrite(fd, (json.dumps(holder, ensure_ascii=False) + "\n").encode(), 0)
        _HELD.add(root)
        try:
            yield root
        finally:
            _HELD.discard(root)
            with suppress(OSError):
                os.ftruncate(fd, 0)
    finally:
        os.close(fd)  # releases the lock


# ---- transactions -----------------------------------------------------------------------------------

@dataclass
class _Folder:
    built: Path  # where the run builds the replacement
    target: Path  # the folder it replaces as a whole at commit
    old: Path | None = None  # where the previous content went once published
    how: str = ""  # "", exchanged, moved, new


class Transaction:
    """One stage run's changes to the warehouse, staged in processed_dir/.staging/<stage>-<pid>-<n>/.

    Stage partitions with `write_table` / `path`; `delete` a partition or `replace_table` to drop
    what the current snapshot has; `folder(target)` builds a folder outside the warehouse (the
    问题清单 workbooks) that replaces `target` as a whole just before the pointer switch. A staged
    partition folder replaces the current one whole (data.parquet and any file beside it);
    everything not staged, deleted or replaced is carried over (hard links). A table whose staged
    partition column differs from the current one's is replaced whole."""

    def __init__(self, root: Path, stage: str):
        self.root, self.stage = root, stage
        self.base = snapshot(root) if _has_pointer(root) else None
        self.dir = root / STAGING / f"{stage}-{os.getpid()}-{next(_TX_NUMBERS)}"  # unique: DuckDB caches by path
        self.new, self.work = self.dir / "new", self.dir / "work"
        faults.point("staging.create")
        self.new.mkdir(parents=True)
        self.work.mkdir()
        self._deleted: set[tuple[str, str | None]] = set()
        self._replaced: set[str] = set()
        self._in_parts: set[str] = set()  # tables whose partitions are written in parts (merge_parts)
        self._deleted_parts: set[tuple[str, str, str]] = set()  # (table, leaf, file name)
        self._folders: list[_Folder] = []
        self.committed = False
        self.snapshot: Path | None = None  # after commit: the snapshot now current
        self.views: list[str] = []  # after commit: the views in povmon.duckdb
        self.copied = 0  # files copied because the file system refused a hard link

    # ---- staging ------------------------------------------------------------------------------
    def path(self, table: str, period: object = None, *, key: str = "period", name: str = DATA_FILE) -> Path:
        """The staged file `name` of the table's partition (folder created): write it yourself."""
        out = partition_path(self.new, table, period, key=key)
        if name != DATA_FILE:
            if not name or name.startswith(".") or "/" in name or "\\" in name:
                raise ValueError(f"{table}: {name!r} cannot be a file name in a partition")
            out = out.with_name(name)
        out.parent.mkdir(parents=True, exist_ok=True)
        return out

    def write_table(self, con: duckdb.DuckDBPyConnection, query: str, table: str, period: object = None, *,
                    order_by: str | Sequence[str], key: str = "period", presorted: bool = False) -> int:
        """Stage `query` as the table's partition for `period` (whole table when None); see write_parquet."""
        return write_parquet(con, query, self.path(table, period, key=key), order_by=order_by, presorted=presorted)

    def delete(self, table: str, period: object = None, *, key: str = "period") -> None:
        """Leave the current snapshot's partition (or, with None, the files directly in the table
        folder) out of the new snapshot; what this run staged for it is dropped too."""
        staged = partition_path(self.new, table, period, key=key)
        if period is not None and staged.parent.is_dir():
            shutil.rmtree(staged.parent)
        elif period is None:
            staged.unlink(missing_ok=True)
        leaf = None if period is None else staged.parent.name
        self._deleted.add((table, leaf))

    def merge_parts(self, table: str) -> None:
        """The table's partitions are written in parts (`path(..., name=...)`, one file per county):
        a staged partition folder replaces only the files it stages; the current partition's other
        files are carried over (hard links) unless `delete_part` drops them."""
        partition_path(self.new, table)  # validates the name
        self._in_parts.add(table)

    def delete_part(self, table: str, period: object, name: str, *, key: str = "period") -> None:
        """Leave one file of the current snapshot's partition out of the new snapshot (merge_parts)."""
        leaf = partition_path(self.new, table, period, key=key).parent.name
        self._deleted_parts.add((table, leaf, name))

    def replace_table(self, table: str) -> None:
        """The new snapshot holds only what this run stages for `table` (nothing if nothing)."""
        partition_path(self.new, table)  # validates the name
        self._replaced.add(table)

    def partitions(self, table: str) -> list[str]:
        """Partition values the table will have after commit: staged or carried over."""
        leaves = set(_leaves(self.new / table)) | set(self._carried(table))
        return sorted(leaf.partition("=")[2] for leaf in leaves if leaf is not None)

    def connect(self, policy=None) -> duckdb.DuckDBPyConnection:
        """An in-memory DuckDB connection with the [engine] limits (connect()) that spills inside
        this transaction's work folder unless [engine] temp_directory names another; inside
        `engines.use("spark")`, a Spark connection working in that folder (pipelines/engines.py)."""
        from pipelines import engines

        if engines.current() != "duckdb":
            return engines.connect(self.work)
        return connect(policy, spill=self.work / "spill")

    def folder(self, target: Path | str) -> Path:
        """An empty folder beside `target` (same file system) to build its replacement in."""
        target = Path(target).absolute()
        target.parent.mkdir(parents=True, exist_ok=True)
        _tidy_beside(target)
        built = target.with_name(f".{target.name}.build-{os.getpid()}")
        built.mkdir()
        self._folders.append(_Folder(built, target))
        return built

    def stable_path(self, table: str, period: object = None, *, key: str = "period") -> Path:
        return stable_path(self.root, table, period, key=key)

    # ---- commit ---------------------------------------------------------------------------------
    def _carried(self, table: str) -> dict[str | None, list[Path]]:
        """The current snapshot's leaves of `table` that the new snapshot keeps."""
        if self.base is None or table in self._replaced:
            return {}
        base, staged = _leaves(self.base / table), _leaves(self.new / table)
        if staged and _layout(staged) != _layout(base):
            return {}
        out = {}
        for leaf, files in base.items():
            if (table, leaf) in self._deleted or (leaf in staged and table not in self._in_parts):
                continue
            names = {f.name for f in staged.get(leaf, [])}
            kept = [f for f in files if f.name not in names and (table, leaf, f.name) not in self._deleted_parts]
            if kept:
                out[leaf] = kept
        return out

    def _changed(self) -> bool:
        return bool(any(self.new.iterdir()) or self._folders or (self.base is not None and (
            any(t in self._replaced for t in _table_names(self.base))
            or any(leaf in _leaves(self.base / t) for t, leaf in self._deleted)
            or any((self.base / t / leaf / name).is_file() for t, leaf, name in self._deleted_parts))))

    def _commit(self) -> None:
        if not self._changed():
            self.snapshot = self.base
            return
        for table in _table_names(self.base) if self.base else []:
            for leaf, files in self._carried(table).items():
                folder = self.new / table / leaf if leaf else self.new / table
                folder.mkdir(parents=True, exist_ok=True)
                for f in files:
                    faults.point("link")
                    self.copied += _link_or_copy(f, folder / f.name)
        if self.copied:
            print(f"povmon {self.stage}: the file system refused hard links; {self.copied} unchanged files were "
                  f"copied into the new snapshot (it takes their space again)", file=sys.stderr)
        _fsync_tree(self.new)
        _ensure_pointer(self.root)
        sid = f"{_next_seq(self.root):08d}-{self.stage}"
        target = self.root / SNAPSHOTS / sid
        faults.point("snapshot.rename")
        os.rename(self.new, target)
        _fsync_dir(target.parent)
        try:
            self._publish_folders()
            _switch_pointer(self.root, sid)
        except BaseException:
            if _current_id(self.root) == sid:  # switched, then failed (syncing the folder): committed
                self.committed, self.snapshot = True, target
                self._finish_folders()
            else:
                self._unpublish_folders()
                shutil.rmtree(target, ignore_errors=True)
            raise
        self.committed, self.snapshot = True, target
        self._finish_folders()
        try:
            self.views = _write_views(self.root)
        except Exception as exc:
            code = disk_errno(exc)
            why = _disk_message(exc, code) if code is not None else f"{type(exc).__name__}: {exc}"
            raise WarehouseError(f"{self.stage}: committed snapshot {sid}, but {self.root / DATABASE} could not be "
                                 f"rebuilt ({why}); the next run rebuilds it") from exc
        _collect_garbage(self.root)

    # ---- folders outside the warehouse (replaced whole, just before the pointer switch) ---------
    def _publish_folders(self) -> None:
        for f in self._folders:
            faults.point("folder.publish")
            if not f.target.exists():
                os.rename(f.built, f.target)
                f.how = "new"
            elif _exchange(f.built, f.target):  # atomic: target is never missing
                f.old, f.how = f.built, "exchanged"
            else:
                f.old = f.target.with_name(f".{f.target.name}.old-{os.getpid()}")
                os.rename(f.target, f.old)
                os.rename(f.built, f.target)
                f.how = "moved"

    def _unpublish_folders(self) -> None:
        for f in reversed(self._folders):
            with suppress(OSError):
                if f.how == "new":
                    os.rename(f.target, f.built)
                elif f.how == "exchanged":
                    _exchange(f.built, f.target)
                elif f.how == "moved":
                    os.rename(f.target, f.built)
                    os.rename(f.old, f.target)
            f.how = ""

    def _finish_folders(self) -> None:
        for f in self._folders:
            if f.old is not None:
                shutil.rmtree(f.old, ignore_errors=True)

    def _close(self) -> None:
        """Remove the staging folder and unpublished folders (after commit or failure)."""
        if not self.committed:
            self._unpublish_folders()
        for f in self._folders:
            shutil.rmtree(f.built, ignore_errors=True)
        with suppress(OSError):  # best effort: the next run removes what is left
            faults.point("staging.remove")
            shutil.rmtree(self.dir)


@contextmanager
def transaction(processed_dir: Path | str, stage: str, *, wait: float | None = None) -> Iterator[Transaction]:
    """Take processed_dir's writer lock (waiting up to `wait` s, default config), remove what
    killed runs left, and yield a Transaction; when the block ends without an exception, commit it
    (new snapshot, pointer switch, views, old snapshots removed). On an exception nothing changes;
    a disk error (full, read-only, permissions) becomes a one-line WarehouseError."""
    if not _NAME.fullmatch(stage):
        raise ValueError(f"stage must be a plain name, got {stage!r}")
    with writer_lock(processed_dir, stage, wait) as root:
        tx = None
        try:
            _recover(root)
            tx = Transaction(root, stage)
            yield tx
            tx._commit()
        except Exception as exc:
            code = disk_errno(exc)
            if code is None or isinstance(exc, WarehouseError):
                raise
            state = "" if tx is None or not tx.committed else " (after its commit)"
            unchanged = "" if tx is not None and tx.committed else f"; the warehouse {root} is unchanged"
            raise WarehouseError(f"{stage}{state}: {_disk_message(exc, code)}{unchanged}") from exc
        finally:
            if tx is not None:
                tx._close()
            if tx is None or not tx.committed:
                _remove_if_unused(root)


def _remove_if_unused(root: Path) -> None:
    """After a run that committed nothing into a warehouse that never had a commit: the lock file
    and staging folder it made go, and the folder too when nothing else is in it (a failed first
    run leaves no trace). Lockers check that the file they locked is still there."""
    if _has_pointer(root) or (root / SNAPSHOTS).exists() or _table_names(root):
        return
    shutil.rmtree(root / STAGING, ignore_errors=True)
    (root / LOCK_FILE).unlink(missing_ok=True)
    with suppress(OSError):
        root.rmdir()


# ---- the pointer and the snapshots ------------------------------------------------------------------

def _seq(name: str) -> int | None:
    found = _SNAPSHOT_ID.fullmatch(name)
    return int(found.group(1)) if found else None


def _next_seq(root: Path) -> int:
    folder = root / SNAPSHOTS
    seqs = [_seq(d.name.removeprefix(".gc-")) for d in folder.iterdir()] if folder.is_dir() else []
    return max((s for s in seqs if s is not None), default=0) + 1


def _current_id(root: Path) -> str | None:
    """The snapshot id `current` names, read from the link itself."""
    try:
        return Path(os.readlink(_pointer(root))).name
    except OSError:
        return None


def _switch_pointer(root: Path, sid: str) -> None:
    """current -> snapshots/<sid>: a new link beside it, renamed over it (atomic)."""
    tmp = root / f".{CURRENT}.{os.getpid()}.tmp"
    tmp.unlink(missing_ok=True)
    faults.point("pointer.link")
    os.symlink(f"{SNAPSHOTS}/{sid}", tmp)
    faults.point("pointer.switch")
    os.replace(tmp, _pointer(root))
    _fsync_dir(root)
    faults.point("pointer.switched")


def _ensure_pointer(root: Path) -> None:
    """Before the first commit: current -> an empty snapshot, so that a snapshot folder newer than
    the pointer is always one a killed run did not commit."""
    if _has_pointer(root):
        return
    (root / SNAPSHOTS / "00000000-empty").mkdir(parents=True, exist_ok=True)
    _switch_pointer(root, "00000000-empty")


def _collect_garbage(root: Path) -> list[str]:
    """Remove committed snapshots older than the last `keep` (renamed first: never half a snapshot)."""
    from pipelines.config import load_toml

    keep = max(1, int(load_toml("warehouse")["snapshots"]["keep"]))
    current = snapshot(root).name
    folder = root / SNAPSHOTS
    ids = sorted((d.name for d in folder.iterdir() if _seq(d.name) is not None), key=_seq)
    removed = []
    for sid in ids[:-keep]:
        if sid == current:
            continue
        with suppress(OSError):  # what is left is removed by the next run
            faults.point("gc.rename")
            os.rename(folder / sid, folder / f".gc-{sid}")
            faults.point("gc.remove")
            shutil.rmtree(folder / f".gc-{sid}")
            removed.append(sid)
    return removed


def _link_or_copy(src: Path, dst: Path) -> int:
    """Hard-link src to dst (0), or copy it when the file system refuses links (1)."""
    try:
        os.link(src, dst)
        return 0
    except OSError as exc:
        if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP, errno.EOPNOTSUPP):
            raise
    shutil.copy2(src, dst)
    return 1


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(folder: Path) -> None:
    """The new files and every folder of a new snapshot on disk before the pointer names it (a
    power cut after the switch must not find empty files). Hard-linked files were synced by the
    commit that wrote them."""
    for dirpath, _dirs, files in os.walk(folder):
        for name in files:
            fd = os.open(os.path.join(dirpath, name), os.O_RDONLY)
            try:
                if os.fstat(fd).st_nlink == 1:
                    os.fsync(fd)
            finally:
                os.close(fd)
        _fsync_dir(Path(dirpath))


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    fn.argtypes = (ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint)
    at_fdcwd, rename_exchange = -100, 2
    if fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(a))


def _tidy_beside(target: Path) -> None:
    """Leftovers of a killed run beside a published folder: a folder moved aside comes back when
    the target is missing (the run was not committed); build folders go."""
    olds = sorted(target.parent.glob(f".{target.name}.old-*"))
    if olds and not target.exists():
        os.rename(olds.pop(), target)
    for leftover in [*olds, *target.parent.glob(f".{target.name}.build-*")]:
        shutil.rmtree(leftover, ignore_errors=True)


# ---- recovery ------------------------------------------------------------------------------------

def recover(processed_dir: Path | str) -> list[str]:
    """Take the writer lock and tidy what killed runs left (every transaction does this first);
    returns what was done, one line each."""
    with writer_lock(processed_dir, "recover") as root:
        return _recover(root)


def _remove(path: Path, done: list[str], why: str) -> None:
    faults.point("recover.remove")
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)
    done.append(f"removed {path} ({why})")


def _recover(root: Path) -> list[str]:
    """Remove leftovers (lock held): staging folders, temp files, snapshots never committed, half
    removed old snapshots, the old layout's build folders beside root, a stale WAL; import table
    folders found directly under root; rebuild the views when they are not right."""
    done: list[str] = []
    pointer = _pointer(root)
    if os.path.lexists(pointer) and not pointer.is_symlink():
        raise WarehouseError(f"{pointer} is a folder, not a link: the warehouse was copied without keeping "
                             f"symbolic links; copy it again with `cp -a` (or shutil.copytree(..., symlinks=True))")
    current = _seq(snapshot(root).name) if os.path.lexists(pointer) else None
    for leftover in sorted((root / STAGING).glob("*")):
        _remove(leftover, done, "a killed run's staging folder")
    for leftover in sorted(root.glob(".*")):
        if ".tmp" in leftover.name:
            _remove(leftover, done, "a killed run's temp file")
    for folder in sorted((root / SNAPSHOTS).glob("*")) if (root / SNAPSHOTS).is_dir() else []:
        if folder.name.startswith(".gc-"):
            _remove(folder, done, "an old snapshot half removed")
        elif current is None:
            if any(p.is_file() for p in folder.rglob("*")):
                raise WarehouseError(f"{pointer} is missing but {folder} holds data: restore the pointer with "
                                     f"`ln -s {SNAPSHOTS}/<newest> {pointer}`")
            _remove(folder, done, "an empty snapshot never committed")
        elif (_seq(folder.name) or 0) > current:
            _remove(folder, done, "a snapshot a killed run did not commit")
    for leftover in _old_layout_leftovers(root):
        _remove(leftover, done, "the old layout's build folder, work folder or lock")
    wal = root / f"{DATABASE}.wal"
    if wal.exists():
        _remove(wal, done, f"a stale write-ahead log: {DATABASE} only holds views, rebuilt from the snapshot")
    if _table_names(root):
        done.append(f"imported {', '.join(_import_flat(root))} into a snapshot")
    if not _views_ok(root):
        _write_views(root)
        done.append(f"rebuilt {root / DATABASE}")
    return done


def _old_layout_leftovers(root: Path) -> list[Path]:
    """What killed runs of the old layout left: .<processed>.build-<pid>/ and validate's
    .validate-<random>/ beside root (only folders holding nothing but its work database), the old
    view lock."""
    build = re.compile(re.escape(f".{root.name}.build-") + r"\d+")
    found = [p for p in root.parent.glob(f".{root.name}.build-*") if p.is_dir() and build.fullmatch(p.name)]
    found += [p for p in root.parent.glob(".validate-*") if p.is_dir() and not p.is_symlink()
              and all(c.name.startswith("validate.duckdb") for c in p.iterdir())]
    old_lock = root / ".povmon.duckdb.lock"
    return found + ([old_lock] if old_lock.is_file() else [])


def _import_flat(root: Path) -> list[str]:
    """Table folders directly under root (the old layout, or dropped in by hand) become part of a
    new snapshot, partition by partition over the current one, then are removed."""
    names = _table_names(root)
    tx = Transaction(root, "import")
    try:
        for name in names:
            for leaf, files in _leaves(root / name).items():
                folder = tx.new / name / leaf if leaf else tx.new / name
                folder.mkdir(parents=True, exist_ok=True)
                for f in files:
                    faults.point("link")
                    tx.copied += _link_or_copy(f, folder / f.name)
        tx._commit()
        for name in names:  # a kill here: the next run imports the same files again, harmlessly
            faults.point("import.remove")
            os.rename(root / name, tx.dir / f"flat-{name}")
    finally:
        tx._close()
    return names


# ---- the views --------------------------------------------------------------------------------------

def _visible_root(root: Path) -> Path:
    return _pointer(root) if _has_pointer(root) else root


def _views_ok(root: Path) -> bool:
    """povmon.duckdb opens, has no WAL, and has one view per table reading through current/."""
    db, names = root / DATABASE, tables(root)
    if not db.exists():
        return not names
    if (root / f"{DATABASE}.wal").exists():
        return False
    try:
        with duckdb.connect(str(db), read_only=True) as con:
            views = con.execute("select view_name, sql from duckdb_views() where not internal").fetchall()
    except duckdb.Error:
        return False
    visible = sql_escape(_visible_root(root))
    return sorted(v[0] for v in views) == names and all(visible in (v[1] or "") for v in views)


def _write_views(root: Path) -> list[str]:
    """Rebuild root/povmon.duckdb (temp file, os.replace): one view per table of the current
    snapshot, reading through the stable path root/current/<table>/..."""
    snap, visible = snapshot(root), _visible_root(root)
    names = _table_names(snap)
    with atomic_path(root / DATABASE) as tmp:
        wal = tmp.with_name(tmp.name + ".wal")
        try:
            with duckdb.connect(str(tmp)) as con:
                for name in names:
                    try:
                        con.execute(f'create view "{name}" as select * from {_scan_at(snap, visible, name)}')
                    except duckdb.Error as exc:
                        raise RuntimeError(f"views: table {name} under {visible}: {exc}") from exc
        finally:
            wal.unlink(missing_ok=True)
    (root / f"{DATABASE}.wal").unlink(missing_ok=True)  # belonged to the file just replaced
    return names


def refresh_views(processed_dir: Path | str) -> list[str]:
    """Rebuild processed_dir/povmon.duckdb with one view per table (absolute paths through
    current/), in a temp file replaced into place, under the writer lock. Returns the view names.

    A connection already open on the old file keeps reading it; in the same Python process DuckDB
    hands new connections that open instance until every connection to it is closed."""
    root = Path(processed_dir).resolve()
    if root in _HELD:
        return _write_views(root)
    with writer_lock(root, "views") as locked:
        return _write_views(locked)
