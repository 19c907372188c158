"""The per-unit workbook of the rectification tracker: reports/<p>/整改清单/整改清单_<p>.xlsx.

汇总 (per 责任单位: problems, done, overdue, reopened), then one sheet per 责任单位 with its problems
(status, due date, days overdue; overdue ones in red), then the instructions (指令) by recipient
department. Cells written through the 问题清单's helpers (pipelines/validate/ledger.py: text
inert, dates as dates); fixed document properties, so the same tables give the same bytes; written
atomically (warehouse.atomic_path).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from pipelines import inert, warehouse
from pipelines.periods import Period
from pipelines.policy import Policy
from pipelines.validate.ledger import _Formats, _header, _sheet_name, _title, _write_cell

SUMMARY = {"responsible_unit": "责任单位", "items": "问题(项)", "done": "已完成(项)", "done_late": "其中逾期完成(项)",
           "overdue": "逾期未完成(项)", "reopened": "回头看反弹(项)", "on_time": "按期推进(项)",
           "max_days_overdue": "最长逾期(天)"}
UNIT_COLUMNS = {"task_no": "序号", "category_label": "问题类别", "description": "问题描述", "lead_official": "牵头领导",
                "deadline": "整改时限", "city_due_on": "市定时限", "due_on": "应完成日期", "status_label": "状态",
                "completed_on": "完成时间", "days_overdue": "逾期天数"}
INSTRUCTION_COLUMNS = {"recipient": "接收单位", "doc_no": "文号", "issued_on": "下发日期", "content": "内容",
                       "due_on": "办结时限", "status_label": "状态", "completed_on": "办结日期", "days_overdue": "逾期天数"}
WIDTHS = {"description": 40, "content": 36, "doc_no": 24, "responsible_unit": 18, "recipient": 18, "lead_official": 14}
RED = ("overdue", "done_late", "reopened")


def file_name(period: str) -> str:
    return f"整改清单_{period}.xlsx"


def write(con: duckdb.DuckDBPyConnection, path: Path, period: str, policy: Policy) -> Path:
    """The workbook at `path` (atomic) from tables task_status and instruction_status on `con`."""
    with warehouse.atomic_path(path) as tmp:
        _write_workbook(con, tmp, period, policy)
    return path


def _widths(ws, columns: dict[str, str]) -> None:
    for j, c in enumerate(columns):
        ws.set_column(j, j, WIDTHS.get(c, max(10, 2 * len(columns[c]) + 2)))


def _write_workbook(con: duckdb.DuckDBPyConnection, path: Path, period: str, policy: Policy) -> None:
    import xlsxwriter

    end = Period.parse(period).end_date
    title = policy.tasks.workbook.title
    wb = xlsxwriter.Workbook(str(path), inert.WORKBOOK_OPTIONS)  # strings stay strings (pipelines/inert.py)
    wb.set_properties({"title": f"{title} {period}", "created": dt.datetime(2000, 1, 1)})  # same data, same bytes
    fmt = _Formats(wb)
    used = {"汇总"}
    _write_summary(con, wb.add_worksheet("汇总"), fmt, f"{title}（截至 {end.isoformat()}）")
    units = [r[0] for r in con.execute("select distinct responsible_unit from task_status order by 1").fetchall()]
    for unit in units:
        ws = wb.add_worksheet(_sheet_name(unit, used))
        _write_rows(con, ws, fmt, f"{unit} {title}（截至 {end.isoformat()}；逾期天数按应完成日期计）", UNIT_COLUMNS,
                    "select {cols}, status from task_status where responsible_unit = ? "
                    "order by category_order, try_cast(task_no as integer) nulls last, task_no", [unit])
    ws = wb.add_worksheet(_sheet_name(policy.tasks.workbook.instruction_sheet, used))
    _write_rows(con, ws, fmt, f"指令办理情况（截至 {end.isoformat()}；逾期未办结的按接收单位列出）", INSTRUCTION_COLUMNS,
                "select {cols}, status from instruction_status "
                "order by case when status in ('overdue', 'reopened') then 0 else 1 end, recipient, doc_no", [])
    wb.close()


def _write_summary(con, ws, fmt: _Formats, title: str) -> None:
    cols = list(SUMMARY)
    rows = con.execute(
        "select responsible_unit, count(*), count(*) filter (where status in ('done', 'done_late')), "
        "count(*) filter (where status = 'done_late'), count(*) filter (where status = 'overdue'), "
        "count(*) filter (where status = 'reopened'), count(*) filter (where status = 'on_time'), "
        "max(days_overdue) from task_status group by 1 order by 1").fetchall()
    _title(ws, fmt, title, len(cols))
    _header(ws, fmt, 1, [SUMMARY[c] for c in cols])
    for i, row in enumerate(rows, start=2):
        for j, (c, value) in enumerate(zip(cols, row)):
            red = c in ("overdue", "reopened") and value
            _write_cell(ws, fmt, i, j, value, fmt.overdue if red else None)
    ws.freeze_panes(2, 1)
    _widths(ws, SUMMARY)


def _write_rows(con, ws, fmt: _Formats, title: str, columns: dict[str, str], sql: str, args: list) -> None:
    cols = list(columns)
    rows = con.execute(sql.format(cols=", ".join(cols)), args).fetchall()
    _title(ws, fmt, title, len(cols))
    _header(ws, fmt, 1, list(columns.values()))
    for i, (*row, status) in enumerate(rows, start=2):
        for j, (c, value) in enumerate(zip(cols, row)):
            red = status in RED and c in ("status_label", "days_overdue")
            _write_cell(ws, fmt, i, j, value, fmt.overdue if red else None)
    ws.freeze_panes(2, 1)
    ws.autofilter(1, 0, max(len(rows) + 1, 2), len(cols) - 1)
    _widths(ws, columns)
