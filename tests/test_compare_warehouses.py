"""benchmarks/compare_warehouses.py: rows only in A / only in B / differing cells, per table."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import duckdb
import pytest

from pipelines import warehouse

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "compare_warehouses.py"
spec = importlib.util.spec_from_file_location("compare_warehouses", SCRIPT)
cw = sys.modules.setdefault("compare_warehouses", importlib.util.module_from_spec(spec))
spec.loader.exec_module(cw)

ROWS = """select * from (values
    ('2020Q2', 'h1', 'high', 4000.0::double, ['a', 'b']),
    ('2020Q2', 'h2', 'none', 0.1::double + 0.2::double, []),
    ('2020Q2', 'h3', 'low', null, ['c'])
) as t(period, household_key, risk_level, income, reasons)"""


def _warehouse(root: Path, tables: dict[str, str]) -> Path:
    with duckdb.connect() as con:
        for table, sql in tables.items():
            warehouse.write_table(con, sql, root, table, "2020Q2", order_by="1")
    return root


@pytest.fixture
def a(tmp_path) -> Path:
    dup = "select * from (values ('x', 1), ('x', 1), ('y', 2)) as t(k, n)"
    return _warehouse(tmp_path / "a", {"risk": ROWS, "pairs": dup, "gone": "select 1 as n"})


def test_identical_warehouses_within_the_float_tolerance(a, tmp_path, capsys):
    dup = "select * from (values ('x', 1), ('y', 2), ('x', 1)) as t(k, n)"
    b = _warehouse(tmp_path / "b", {"risk": ROWS.replace("0.1::double + 0.2::double", "0.3::double"), "pairs": dup, "gone": "select 1 as n"})
    assert 0.1 + 0.2 != 0.3  # the float cells differ, by less than the tolerance
    assert cw.main([str(a), str(b)]) == 0
    assert "3 tables compared; all identical" in capsys.readouterr().out


def test_each_kind_of_difference_is_counted(a, tmp_path, capsys):
    risk = ROWS.replace("'h1', 'high', 4000.0::double", "'h1', 'medium', 4000.000001::double").replace(
        "('2020Q2', 'h3', 'low', null, ['c'])", "('2020Q2', 'h4', 'low', null, ['c'])")
    dup = "select * from (values ('x', 1), ('y', 2)) as t(k, n)"  # one of the two identical rows gone
    b = _warehouse(tmp_path / "b", {"risk": risk, "pairs": dup, "new": "select 1 as n"})
    diffs = {d.table: d for d in cw.compare(a, b)}
    r = diffs["risk"]
    assert r.key == ["period", "household_key"]
    assert (r.rows_a, r.rows_b, r.only_a, r.only_b) == (3, 3, 1, 1)
    assert r.cells == {"risk_level": 1, "income": 1}
    assert "  risk_level at period=2020Q2, household_key=h1: A 'high' | B 'medium'" in r.examples
    assert (diffs["pairs"].only_a, diffs["pairs"].only_b, diffs["pairs"].cells) == (1, 0, {})
    assert diffs["gone"].schema == ["table only in A"] and diffs["new"].schema == ["table only in B"]
    assert cw.main([str(a), str(b)]) == 1
    assert "4 differ: gone, new, pairs, risk" in capsys.readouterr().out


def test_a_changed_column_type_or_name_is_a_difference(tmp_path):
    a = _warehouse(tmp_path / "a", {"t": "select 'k' as key, 4000.0::double as line, 1 as n"})
    b = _warehouse(tmp_path / "b", {"t": "select 'k' as key, 4000.0::decimal(5, 1) as line, 1 as m"})
    d = cw.compare(a, b)[0]
    assert d.schema == ["column n only in A", "column m only in B", "column line is DOUBLE in A, DECIMAL(5,1) in B"]
    assert d.cells == {} and d.differs
