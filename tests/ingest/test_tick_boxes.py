"""Tick-box exports: a file whose yes/no cells use √ / ✓ / 是 and never a 否 label reads blank as
否 in every yes/no column, a column blank in every row included; a 是/否 file keeps blank as
not recorded (NULL)."""

from __future__ import annotations

import duckdb
import pytest

from pipelines.ingest.pipeline import run
from tests.ingest.conftest import household, write_csv


def _persons(raw, tmp_path):
    run(raw, tmp_path / "processed")
    con = duckdb.connect(str(tmp_path / "processed" / "povmon.duckdb"), read_only=True)
    return con.execute("select critical_illness_ins, dibao from persons order by person_key").fetchall()


@pytest.mark.parametrize("mark", ["√", "✓", "是"])
def test_a_tick_box_file_reads_blank_as_no_even_in_a_column_blank_everywhere(raw_dir, tmp_path, mark):
    rows = household()
    for i, r in enumerate(rows):
        r["是否参加大病保险"] = mark if i != 1 else ""  # ticked for two members
        r["是否享受低保"] = ""                          # nobody ticked: blank in every row
    write_csv(raw_dir / "registry/2020Q4/140524_陵川县.csv", rows)
    got = _persons(raw_dir, tmp_path)
    assert sorted(got, key=str) == sorted([(True, False), (False, False), (True, False)], key=str)


def test_a_yes_no_file_keeps_blank_as_not_recorded(raw_dir, tmp_path):
    rows = household()
    for i, r in enumerate(rows):
        r["是否参加大病保险"] = "是" if i != 1 else ""
        r["是否享受低保"] = "否" if i == 0 else ""   # a 否 label: not a tick-box file
    write_csv(raw_dir / "registry/2020Q4/140524_陵川县.csv", rows)
    got = _persons(raw_dir, tmp_path)
    assert sorted(got, key=str) == sorted([(True, False), (None, None), (True, None)], key=str)
