"""The sample city's task lists (pipelines/synth/tasks.py) against their truth (data/truth/tasks.csv):
every planted status and due date found, every planted bad row quarantined with its reason; a
quarter without a list says so and never replaces a good output with an empty one."""

from __future__ import annotations

import shutil

import duckdb
import pytest

from pipelines import warehouse
from pipelines.policy import PolicyError, load_policy
from pipelines.tasks.pipeline import run as tasks

PERIODS = ("2019Q4", "2020Q1", "2020Q2", "2020Q3", "2020Q4")


@pytest.fixture(scope="module")
def city(ingested_city, tmp_path_factory):
    """A copy of the ingested small city with povmon tasks run for every quarter."""
    root = tmp_path_factory.mktemp("tasks_city")
    processed = shutil.copytree(ingested_city / "processed", root / "processed", symlinks=True)
    results = {p: tasks(processed, p, root / "reports") for p in PERIODS}
    return root, processed, results


def _truth(ingested_city) -> list[tuple]:
    with duckdb.connect() as con:
        return con.execute(f"select period, kind, item, status, due_on, reason from read_csv("
                           f"'{ingested_city / 'truth' / 'tasks.csv'}', all_varchar = true) order by all").fetchall()


def test_every_planted_status_found(city, ingested_city):
    _, processed, _ = city
    truth = {(p, k, i): (s, d) for p, k, i, s, d, reason in _truth(ingested_city) if reason is None}
    assert {s for s, _ in truth.values()} == {"on_time", "overdue", "done", "done_late", "reopened"}
    got = {}
    with duckdb.connect() as con:
        for table, kind, key in (("task_status", "task", "task_no"), ("instruction_status", "instruction", "doc_no")):
            for p in PERIODS:
                got.update({(p, kind, k): (s, d) for k, s, d in con.execute(
                    f"select {key}, status, cast(due_on as varchar) from "
                    f"read_parquet('{warehouse.stable_path(processed, table, p)}')").fetchall()})
    assert got == truth


def test_planted_bad_rows_quarantined(city, ingested_city):
    _, processed, _ = city
    planted = sorted((p, r) for p, _k, _i, _s, _d, r in _truth(ingested_city) if r is not None)
    assert planted, "the generator plants bad rows"
    with duckdb.connect() as con:
        found = sorted(con.execute(
            f"select period, reason from {warehouse.read_files(list(warehouse.partitions(processed, 'quarantine').values()))} "
            "where source_kind in ('tasks', 'instructions')").fetchall())
    assert found == planted


def test_quarter_without_a_list(city):
    _, processed, results = city
    assert "no task list under data/raw/tasks/2019Q4" in results["2019Q4"]["note"]
    with duckdb.connect() as con:
        n = con.execute(f"select count(*) from read_parquet('{warehouse.stable_path(processed, 'task_status', '2019Q4')}')"
                        ).fetchone()[0]
    assert n == 0  # an empty partition: make sees the quarter done


def test_good_output_never_replaced_by_an_empty_one(city, tmp_path):
    """A quarter whose list ingest no longer loads (the file went) keeps its earlier status."""
    root, processed, _ = city
    copy = shutil.copytree(processed, tmp_path / "processed", symlinks=True)
    before = warehouse.stable_path(copy, "task_status", "2020Q2").read_bytes()
    with warehouse.transaction(copy, stage="test") as tx:  # what ingest leaves for a quarter without a list
        con = tx.connect()
        for table in ("tasks", "instructions"):
            tx.write_table(con, f"select * from {warehouse.scan(copy, table, '2020Q2')} where false", table, "2020Q2",
                           order_by="period")
        con.close()
    result = tasks(copy, "2020Q2", tmp_path / "reports")
    assert "kept the earlier task_status, instruction_status of 2020Q2" in result["note"]
    assert warehouse.stable_path(copy, "task_status", "2020Q2").read_bytes() == before


def test_sample_workbook_has_a_sheet_per_unit(city):
    from openpyxl import load_workbook

    root, processed, _ = city
    book = load_workbook(root / "reports" / "2020Q3" / "整改清单" / "整改清单_2020Q3.xlsx", read_only=True)
    with duckdb.connect() as con:
        units = [r[0] for r in con.execute(f"select distinct responsible_unit from read_parquet("
                                           f"'{warehouse.stable_path(processed, 'task_status', '2020Q3')}') order by 1").fetchall()]
    assert book.sheetnames == ["汇总", *units, "指令办理"]


def test_deadline_naming_an_unknown_category_refused():
    deadlines = [d.model_dump() for d in load_policy().tasks.deadlines]
    deadlines[0]["categories"] = ["no_such_category"]
    with pytest.raises(PolicyError, match=r"tasks.toml \[\[deadlines\]\]\[0\].categories: unknown category 'no_such_category'"):
        load_policy(overrides={"tasks": {"deadlines": deadlines}})


def test_statuses_need_labels():
    with pytest.raises(PolicyError, match=r"tasks.toml \[status_labels\]"):
        load_policy(overrides={"tasks": {"status_labels": {"closed": "已关闭"}}})
