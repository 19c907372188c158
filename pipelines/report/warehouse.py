"""Read-only access to the warehouse (data/processed) for the report and the notebooks.

`open_warehouse(processed_dir, upto=period)` returns an in-memory DuckDB connection with one view
per table found under processed_dir — the same Parquet files the views in povmon.duckdb read
(`<table>/period=<p>/data.parquet`, or `<table>/data.parquet` for period-less tables), but without
taking the DuckDB file's lock, so a report or notebook never blocks a running stage. Partitions
after `upto` are left out: a report for 2020Q2 does not change when 2020Q3 lands.
"""

from __future__ import annotations

import csv
import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb

from pipelines.config import CONFIG_DIR, load_toml


@dataclass
class Warehouse:
    con: duckdb.DuckDBPyConnection
    tables: dict[str, list[Path]] = field(default_factory=dict)

    def has(self, *names: str) -> bool:
        return all(n in self.tables for n in names)

    @property
    def files(self) -> list[Path]:
        return sorted(p for paths in self.tables.values() for p in paths)

    def close(self) -> None:
        self.con.close()


def parse_period(period: str) -> tuple[int, int]:
    """'2020Q2' -> (2020, 2); ValueError otherwise."""
    if len(period) != 6 or period[4] != "Q" or period[5] not in "1234" or not period[:4].isdigit():
        raise ValueError(f"period must look like 2020Q2, got {period!r}")
    return int(period[:4]), int(period[5])


def shift_period(period: str, quarters: int) -> str:
    year, q = parse_period(period)
    n = year * 4 + (q - 1) + quarters
    return f"{n // 4}Q{n % 4 + 1}"


def period_end(period: str) -> date:
    year, q = parse_period(period)
    return {1: date(year, 3, 31), 2: date(year, 6, 30), 3: date(year, 9, 30), 4: date(year, 12, 31)}[q]


def _quote(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def table_files(processed_dir: Path, upto: str | None = None) -> dict[str, list[Path]]:
    """{table: [parquet files]} for every table directory under processed_dir."""
    found: dict[str, list[Path]] = {}
    for sub in sorted(p for p in Path(processed_dir).iterdir() if p.is_dir() and not p.name.startswith(".")):
        parts = sorted(sub.glob("period=*/data.parquet"))
        if upto is not None:
            parts = [p for p in parts if p.parent.name.removeprefix("period=") <= upto]
        if not parts and (sub / "data.parquet").exists():
            parts = [sub / "data.parquet"]
        if parts:
            found[sub.name] = parts
    return found


def open_warehouse(processed_dir: Path, upto: str | None = None) -> Warehouse:
    """In-memory DuckDB with a view per warehouse table (partitions up to `upto`), plus the helper
    tables the report SQL joins: region_names, labels (see `register_helpers`)."""
    processed_dir = Path(processed_dir).resolve()
    con = duckdb.connect()
    con.execute("set threads = 1")  # deterministic float sums -> rerun-identical outputs
    tables = table_files(processed_dir, upto) if processed_dir.is_dir() else {}
    for name, paths in tables.items():
        listed = ", ".join(_quote(p) for p in paths)
        con.execute(f'create or replace view "{name}" as select * from '
                    f"read_parquet([{listed}], union_by_name = true, hive_partitioning = false)")
    wh = Warehouse(con, tables)
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
    """(domain, code, label, sort_order): report.toml [labels.*] first, then the first label of
    each code in code_labels.toml (so 未脱贫 for poor), in file order."""
    rows, seen = [], set()
    report = load_toml("report", config_dir)["labels"]
    with open(config_dir / "code_labels.toml", "rb") as fh:
        codes = tomllib.load(fh)
    for source in (report, codes):
        for domain, mapping in source.items():
            if not isinstance(mapping, dict):
                continue
            for i, (code, label) in enumerate(mapping.items()):
                text = label[0] if isinstance(label, list) else label
                if (domain, code) not in seen and isinstance(text, str):
                    seen.add((domain, code))
                    rows.append((domain, code, text, i + 1))
    return rows


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
