"""The sample city's task lists (pipelines/synth/tasks.py): deterministic from the seed, laid out as
offices keep them, and the status rule of its truth checked on hand-made items."""

from __future__ import annotations

import datetime as dt

from openpyxl import load_workbook

from pipelines.periods import Period
from pipelines.policy import load_policy
from pipelines.synth import tasks as synth

TASKS_CFG = load_policy().raw("tasks")
CAPS = synth._city_caps(TASKS_CFG)


def test_same_seed_same_bytes(tmp_path):
    a, _ = synth.write_tasks(tmp_path / "a", ["2019Q4", "2020Q1", "2020Q2"], TASKS_CFG, 5)
    b, _ = synth.write_tasks(tmp_path / "b", ["2019Q4", "2020Q1", "2020Q2"], TASKS_CFG, 5)
    assert [p.name for p in a] == [p.name for p in b] and len(a) == 2  # 2019Q4: before the plan's year, no list
    assert all(x.read_bytes() == y.read_bytes() for x, y in zip(a, b))


def test_workbook_layout(tmp_path):
    files, _ = synth.write_tasks(tmp_path, ["2020Q2"], TASKS_CFG, 5)
    wb = load_workbook(files[0])
    ws = wb[synth.SHEET_TASKS]
    assert ws["A1"].value.startswith("晋城市") and [c.value for c in ws[2]] == list(synth.TASK_HEADERS)
    merged = [str(r) for r in ws.merged_cells.ranges]
    assert any(r.startswith("B") for r in merged)  # 问题类别 merged down
    deadlines = [ws.cell(r, 7).value for r in range(3, ws.max_row + 1)]
    assert any(isinstance(v, dt.datetime) for v in deadlines) and any("年" in str(v) for v in deadlines) \
        and any(str(v).endswith("月底") for v in deadlines)
    assert [c.value for c in wb[synth.SHEET_INSTRUCTIONS][1]] == list(synth.INSTRUCTION_HEADERS)


def _item(**kw) -> synth.Item:
    base = dict(kind="task", key="1", category="inspection", text="", unit="u", leader=None,
                deadline=dt.date(2020, 5, 31), issued=dt.date(2020, 1, 1), listed_from=dt.date(2020, 3, 31), done_on=None)
    return synth.Item(**{**base, **kw})


def test_truth_rule_by_hand():
    q2 = Period.parse("2020Q2")
    assert synth.due_on(_item(), q2, CAPS) == dt.date(2020, 4, 30)  # 巡视反馈 capped at the April deadline
    assert synth.due_on(_item(category="survey", deadline=dt.date(2020, 9, 30)), q2, CAPS) == dt.date(2020, 6, 30)
    assert synth.status_of(_item(done_on=dt.date(2020, 5, 1)), q2, CAPS, False) == "done_late"
    assert synth.status_of(_item(), q2, CAPS, False) == "overdue"
    assert synth.status_of(_item(), Period.parse("2020Q1"), CAPS, False) == "on_time"
    assert synth.status_of(_item(), q2, CAPS, True) == "reopened"
    assert synth.status_of(_item(done_on=dt.date(2020, 5, 1), rebound_on=dt.date(2020, 6, 30)), q2, CAPS, True) == "reopened"
