"""The report's 整改清仓见底 section on the staged sample city (2020Q2): progress against each city
deadline recomputed here from task_status row by row, overdue items named by unit and recipient."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from pipelines import warehouse
from pipelines.report import queries
from pipelines.report.warehouse import open_warehouse

PERIOD = "2020Q2"


@pytest.fixture(scope="module")
def frames(staged_city):
    processed = staged_city / "processed"
    wh = open_warehouse(processed, upto=PERIOD)
    queries.bind_params(wh, PERIOD)
    out = {n: queries.query(wh, n) for n in ("tasks_deadlines", "tasks_overdue", "tasks_instructions_overdue",
                                             "tasks_by_unit")}
    wh.close()
    with duckdb.connect() as con:
        items = con.execute(f"select * from read_parquet('{warehouse.stable_path(processed, 'task_status', PERIOD)}')").df()
        inst = con.execute(f"select * from read_parquet('{warehouse.stable_path(processed, 'instruction_status', PERIOD)}')"
                           ).df()
    return out, items, inst


def test_progress_against_each_deadline(frames):
    out, items, _ = frames
    df = out["tasks_deadlines"]
    for code, cap, cats in (("april", dt.date(2020, 4, 30), {"inspection"}), ("june", dt.date(2020, 6, 30), None)):
        scope = items if cats is None else items[items["category"].isin(cats)]
        done = scope[(scope["completion_state"] == "done")
                     & (scope["completed_on"].isna() | (scope["completed_on"].dt.date <= cap))]
        total = df[(df["deadline_code"] == code) & (df["category"] == "all")].iloc[0]
        assert (total["items"], total["done_by_deadline"], total["overdue"]) == (
            len(scope), len(done), int((scope["status"] == "overdue").sum()))
        assert total["done_by_deadline_share"] == pytest.approx(len(done) / len(scope))
        per_cat = df[(df["deadline_code"] == code) & (df["category"] != "all")]
        assert per_cat["items"].sum() == len(scope) and set(per_cat["category"]) == set(scope["category"])


def test_overdue_named_by_unit_and_recipient(frames):
    out, items, inst = frames
    late = items[items["status"].isin(["overdue", "reopened"])]
    assert len(late) > 0
    assert sorted(zip(out["tasks_overdue"]["responsible_unit"], out["tasks_overdue"]["task_no"])) == \
        sorted(zip(late["responsible_unit"], late["task_no"]))
    late_inst = inst[inst["status"].isin(["overdue", "reopened", "done_late"])]
    assert sorted(out["tasks_instructions_overdue"]["doc_no"]) == sorted(late_inst["doc_no"])
    by_unit = out["tasks_by_unit"].set_index("responsible_unit")["overdue"]
    assert by_unit.sum() == len(late)

