"""Read-only access to the warehouse (data/processed) for the report and the notebooks.

`open_warehouse(processed_dir, upto=period)` returns an in-memory DuckDB connection with one view
per table of the warehouse's current snapshot, pinned when it opens (a stage committing meanwhile
does not mix two states into one report) — the same Parquet files the views in povmon.duckdb read
(pipelines.warehouse: hive partitions, so `period` / `year` are columns), without opening the
DuckDB file, so a report or notebook never holds on to it. Quarter partitions after `upto` are
left out: a report for 2020Q2 does not change when 2020Q3 lands.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from pipelines import warehouse
from pipelines.config import CONFIG_DIR
from pipelines.policy import load_policy


@dataclass
class Warehouse:
    con: duckdb.DuckDBPyConnection
    tables: dict[str, list[Path]] = field(default_factory=dict)
    snapshot: Path | None = None  # the pinned snapshot folder every view reads

    def has(self, *names: str) -> bool:
        return all(n in self.tables for n in names)

    @property
    def files(self) -> list[Path]:
        return sorted(p for paths in self.tables.values() for p in paths)

    def close(self) -> None:
        self.con.close()


def table_files(processed_dir: Path, upto: str | None = None) -> dict[str, list[Path]]:
    """{table: [parquet files]} for every table of the current snapshot (partitions up to `upto`)."""
    snap = warehouse.snapshot(processed_dir)
    found = {name: warehouse.table_files(snap, name, upto=upto) for name in warehouse.tables(snap)}
    return {name: files for name, files in found.items() if files}


def open_warehouse(processed_dir: Path, upto: str | None = None) -> Warehouse:
    """In-memory DuckDB with a view per warehouse table (partitions up to `upto`), plus the helper
    tables the report SQL joins: region_names, labels (see `register_helpers`)."""
    snap = warehouse.snapshot(processed_dir)
    con = warehouse.connect()  # config/warehouse.toml [engine] limits
    con.execute("set threads = 1")  # deterministic float sums -> rerun-identical outputs
    tables = table_files(snap, upto)
    for name, paths in tables.items():
        con.execute(f'create or replace view "{name}" as select * from {warehouse.read_files(paths)}')
    wh = Warehouse(con, tables, snap)
    register_helpers(wh)
    return wh


# ---- helper tables: names and labels ----------------------------------------------------------

def _config_regions(config_dir: Path) -> list[tuple[str, str, str]]:
    rows = []
    for level, name in (("county", "counties.csv"), ("township", "townships.csv")):
        path = config_dir / "regions" / name
        if path.exists():
            with open(path, encoding="utf-8") as fh:
                rows += [(level, r["code"], r["name"]) for r in csv.DictReader(fh)]
    return rows


def label_rows(config_dir: Path = CONFIG_DIR) -> list[tuple[str, str, str, int]]:
    """(domain, code, label, sort_order) of the policy's one label set (pipelines/policy)."""
    return load_policy(config_dir).labels.rows()


def register_helpers(wh: Warehouse, config_dir: Path = CONFIG_DIR) -> None:
    """Temp tables region_names(level, code, name) and labels(domain, code, label, sort_order)."""
    con = wh.con
    con.execute("create or replace temp table region_names (level varchar, code varchar, name varchar)")
    if wh.has("regions"):
        con.execute("insert into region_names select distinct level, code, name from regions")
    con.executemany("insert into region_names select ?, ?, ? where not exists "
                    "(select 1 from region_names where level = ? and code = ?)",
                    [(lv, c, n, lv, c) for lv, c, n in _config_regions(config_dir)])
    con.execute("create or replace temp table labels (domain varchar, code varchar, label varchar, sort_order integer)")
    con.executemany("insert into labels values (?, ?, ?, ?)", label_rows(config_dir))


def region_name(wh: Warehouse, level: str, code: str) -> str:
    row = wh.con.execute("select name from region_names where level = ? and code = ?", [level, code]).fetchone()
    return row[0] if row else code
