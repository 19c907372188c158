"""Run the report SQL files (pipelines/report/sql/<name>.sql) on a warehouse connection.

Each file is one query with named CTEs ending in `select * from final`; its header line
`-- requires: a, b` names the warehouse tables it reads. Parameters are one-row / list temp
tables (report_params, poor_statuses, report_lines, deadlines) set by `bind_params`, so the SQL
stays portable (no templating)."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from pipelines.config import CONFIG_DIR
from pipelines.policy import load_policy
from pipelines.periods import Period
from pipelines.report.warehouse import Warehouse

SQL_DIR = Path(__file__).parent / "sql"


class Missing(Exception):
    """A query's input table is not in the warehouse (the stage has not run): section 未运行."""


def sql_text(name: str) -> str:
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


def requires(name: str) -> list[str]:
    match = re.search(r"^-- requires:\s*(.+)$", sql_text(name), flags=re.M)
    return [t.strip() for t in match.group(1).split(",")] if match else []


def bind_params(wh: Warehouse, period: str, config_dir: Path = CONFIG_DIR) -> None:
    """report_params(period, previous_period, year, period_end), poor_statuses(code),
    report_lines(line_name, sort_order), deadlines(deadline)."""
    con = wh.con
    per = Period.parse(period)
    con.execute("create or replace temp table report_params as select ? as period, ? as previous_period, "
                "cast(? as integer) as year, cast(? as date) as period_end",
                [str(per), str(per.previous), per.year, per.end_date])
    policy = load_policy(config_dir)
    statuses = policy.groups[policy.measures.incidence.poor_group]
    con.execute("create or replace temp table poor_statuses (code varchar)")
    con.executemany("insert into poor_statuses values (?)", [[s] for s in statuses])
    lines = policy.report.incidence.lines
    con.execute("create or replace temp table report_lines (line_name varchar, sort_order integer)")
    con.executemany("insert into report_lines values (?, ?)", [[n, i] for i, n in enumerate(lines)])
    # the 清零 calendar (config/policy.toml), every year up to the one after the period's
    con.execute("create or replace temp table deadlines (deadline date)")
    con.executemany("insert into deadlines values (?)",
                    [[d] for _y, d in policy.calendar.rows(per.year - 5, per.year + 1)])


def query(wh: Warehouse, name: str) -> pd.DataFrame:
    """Result of sql/<name>.sql as a (small) DataFrame; Missing when an input table is absent."""
    absent = [t for t in requires(name) if not wh.has(t)]
    if absent:
        raise Missing(f"{name}: 缺少数据表 {', '.join(absent)}")
    return wh.con.execute(sql_text(name)).df()


def periods(wh: Warehouse, table: str = "households") -> list[str]:
    """Periods present in a warehouse table (sorted)."""
    if not wh.has(table):
        return []
    return [r[0] for r in wh.con.execute(f'select distinct period from "{table}" order by 1').fetchall()]
