"""Compare two warehouses (processed_dir A and B) table by table, row by row.

    python benchmarks/compare_warehouses.py A B [--tables risk,transitions] [--tolerance 1e-9] [--examples 3]

For every table found under A or B (or those named): rows only in A, rows only in B, and cells
that differ in rows present in both. Rows are paired on a key found from the data: the shortest
run of leading non-float columns that is unique on both sides (when none is, duplicates are
paired in order of their remaining columns). Floating-point cells are equal within --tolerance
(absolute); every other cell (text, integers, dates, lists) must be equal, null equal to null.
A column or table on one side only, or a column whose type differs, is a difference too.
Prints one line per table (then a few examples of each difference) and exits 1 when anything
differs, 0 when the warehouses hold the same tables.

Used to check that a refactoring leaves every output table as it was (issue #10).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from pipelines import warehouse  # noqa: E402

FLOAT_TYPES = ("DOUBLE", "FLOAT", "REAL")


@dataclass
class TableDiff:
    table: str
    rows_a: int = 0
    rows_b: int = 0
    only_a: int = 0
    only_b: int = 0
    cells: dict[str, int] = field(default_factory=dict)  # column -> differing cells
    schema: list[str] = field(default_factory=list)  # columns or types on one side only
    key: list[str] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)

    @property
    def differs(self) -> bool:
        return bool(self.only_a or self.only_b or self.cells or self.schema)

    def line(self) -> str:
        cells = ", ".join(f"{c} {n}" for c, n in self.cells.items()) or "0"
        text = (f"{self.table:<28} rows A {self.rows_a:>8}  rows B {self.rows_b:>8}  only A {self.only_a:>6}  "
                f"only B {self.only_b:>6}  differing cells: {cells}")
        return text + (f"  schema: {'; '.join(self.schema)}" if self.schema else "")


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _columns(con: duckdb.DuckDBPyConnection, view: str) -> dict[str, str]:
    return {r[0]: r[1] for r in con.execute(f"describe {view}").fetchall()}


def _bind(con: duckdb.DuckDBPyConnection, name: str, root: Path, table: str) -> bool:
    source = warehouse.scan(root, table)
    if source is None:
        return False
    con.execute(f"create or replace temp view {name} as select * from {source}")
    return True


def _key(con: duckdb.DuckDBPyConnection, columns: list[str]) -> list[str]:
    """Shortest prefix of `columns` unique in both a and b; all of them when none is."""
    for n in range(1, len(columns) + 1):
        cols = ", ".join(_q(c) for c in columns[:n])
        dup = con.execute(f"select (select count(*) from (select {cols} from a group by all having count(*) > 1)) "
                          f"+ (select count(*) from (select {cols} from b group by all having count(*) > 1))").fetchone()[0]
        if dup == 0:
            return columns[:n]
    return list(columns)


def _numbered(side: str, key: list[str], rest: list[str]) -> str:
    """The side's rows with `_dup`: 1, 2, ... among rows sharing the key (ordered by the rest)."""
    part = ", ".join(_q(c) for c in key) or "1"
    order = ", ".join(_q(c) for c in rest) or "1"
    return f"(select *, row_number() over (partition by {part} order by {order}) as _dup from {side})"


def compare_table(con: duckdb.DuckDBPyConnection, table: str, tolerance: float, examples: int) -> TableDiff:
    """Compare the views a and b (one table each) on `con`."""
    d = TableDiff(table)
    d.rows_a, d.rows_b = (con.execute(f"select count(*) from {v}").fetchone()[0] for v in ("a", "b"))
    cols_a, cols_b = _columns(con, "a"), _columns(con, "b")
    d.schema += [f"column {c} only in A" for c in cols_a if c not in cols_b]
    d.schema += [f"column {c} only in B" for c in cols_b if c not in cols_a]
    common = [c for c in cols_a if c in cols_b]
    d.schema += [f"column {c} is {cols_a[c]} in A, {cols_b[c]} in B" for c in common if cols_a[c] != cols_b[c]]
    is_float = {c: cols_a[c] in FLOAT_TYPES or cols_b[c] in FLOAT_TYPES for c in common}
    plain = [c for c in common if not is_float[c] and not _nested(cols_a[c]) and not _nested(cols_b[c])]
    d.key = _key(con, plain)
    rest = [c for c in common if c not in d.key]
    alias = {c: f"c{i}" for i, c in enumerate(common)}
    on = " and ".join([f"a.{_q(c)} is not distinct from b.{_q(c)}" for c in d.key] + ["a._dup = b._dup"])
    picked = ", ".join([f"a.{_q(c)} as a_{alias[c]}, b.{_q(c)} as b_{alias[c]}" for c in common])
    con.execute(f"create or replace temp table joined as select {picked}, a._dup is not null as in_a, "
                f"b._dup is not null as in_b from {_numbered('a', d.key, rest)} as a "
                f"full outer join {_numbered('b', d.key, rest)} as b on {on}")
    differs = {c: _differs(f"a_{alias[c]}", f"b_{alias[c]}", is_float[c], tolerance) for c in rest}
    counts = ", ".join(["count(*) filter (where not in_b)", "count(*) filter (where not in_a)"]
                       + [f"count(*) filter (where in_a and in_b and {differs[c]})" for c in rest])
    got = con.execute(f"select {counts} from joined").fetchone()
    d.only_a, d.only_b = got[0], got[1]
    d.cells = {c: n for c, n in zip(rest, got[2:]) if n}

    def key_of(side: str) -> str:
        return " || ', ' || ".join(f"'{c}=' || coalesce(cast({side}_{alias[c]} as varchar), 'null')"
                                   for c in d.key) or "''"

    for side, where in (("a", "not in_b"), ("b", "not in_a")):
        for (k,) in con.execute(f"select {key_of(side)} from joined where {where} limit {examples}").fetchall():
            d.examples.append(f"  only in {side.upper()}: {k}")
    for c in d.cells:
        for k, va, vb in con.execute(f"select {key_of('a')}, a_{alias[c]}, b_{alias[c]} from joined "
                                     f"where in_a and in_b and {differs[c]} limit {examples}").fetchall():
            d.examples.append(f"  {c} at {k}: A {va!r} | B {vb!r}")
    return d


def _nested(sql_type: str) -> bool:
    return "[]" in sql_type or sql_type.startswith(("STRUCT", "MAP", "UNION"))


def _differs(a: str, b: str, is_float: bool, tolerance: float) -> str:
    """SQL: the two cells differ (floats: by more than the tolerance; null only equals null)."""
    if is_float:
        return f"not (({a} is null and {b} is null) or coalesce(abs({a} - {b}) <= {float(tolerance)!r}, false))"
    return f"{a} is distinct from {b}"


def compare(a: Path, b: Path, tables: list[str] | None = None, tolerance: float = 1e-9,
            examples: int = 3) -> list[TableDiff]:
    names = tables or sorted(set(warehouse.tables(a)) | set(warehouse.tables(b)))
    out = []
    con = duckdb.connect()
    try:
        for table in names:
            has_a, has_b = _bind(con, "a", a, table), _bind(con, "b", b, table)
            if not (has_a and has_b):
                diff = TableDiff(table, schema=[f"table only in {'A' if has_a else 'B' if has_b else 'neither'}"])
                out.append(diff)
                continue
            out.append(compare_table(con, table, tolerance, examples))
    finally:
        con.close()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("a", type=Path, help="warehouse A (a processed_dir)")
    parser.add_argument("b", type=Path, help="warehouse B")
    parser.add_argument("--tables", help="comma-separated tables (default: every table under A or B)")
    parser.add_argument("--tolerance", type=float, default=1e-9, help="absolute tolerance for floats")
    parser.add_argument("--examples", type=int, default=3, help="examples printed per kind of difference")
    args = parser.parse_args(argv)
    for root in (args.a, args.b):
        if not root.is_dir():
            print(f"{root}: not a directory", file=sys.stderr)
            return 2
    tables = [t.strip() for t in args.tables.split(",") if t.strip()] if args.tables else None
    diffs = compare(args.a, args.b, tables, args.tolerance, args.examples)
    for d in diffs:
        print(d.line())
        for e in d.examples:
            print(e)
    differing = [d.table for d in diffs if d.differs]
    print(f"{len(diffs)} tables compared; " + (f"{len(differing)} differ: {', '.join(differing)}" if differing
                                               else "all identical"))
    return 1 if differing else 0


if __name__ == "__main__":
    sys.exit(main())
