"""Tasks stage (issue 16 part 2): the rectification tracker's status per quarter.

Python only wires: it binds the quarter's `tasks` and `instructions` partitions (ingest loads them
from data/raw/tasks/<p>/), the earlier quarters' lists (reopened at 回头看) and the parameter tables
of config/tasks.toml (pipelines/params.py), runs the models under pipelines/tasks/sql/ through the
model graph, and publishes in one warehouse transaction:

  task_status         one row per problem of the quarter's list: due date (own 整改时限 capped by
                      the city's deadlines), status, days overdue
  instruction_status  one row per instruction (指令): status against its 办结时限, days overdue
  reports/<p>/整改清单/整改清单_<p>.xlsx   one sheet per 责任单位 (its problems, status, days
                      overdue), then the instructions by recipient department

A quarter without a task list (ingest loaded no row of either) writes nothing over a good output:
the stage says so in one line and, when the quarter has no output yet, stages empty partitions
(so make sees the quarter done).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines import params, warehouse
from pipelines.graph import Graph
from pipelines.periods import Period
from pipelines.policy import Policy, load_policy
from pipelines.tasks import workbook

SQL_DIR = Path(__file__).parent / "sql"
GRAPH = Graph(SQL_DIR)
OUTPUTS = {"task_status": "category_order, responsible_unit, task_no",
           "instruction_status": "recipient, doc_no"}
# the ingest tables each output reads, for the quarter (current) and the quarters before it (history)
INPUTS = {"tasks": ("tasks_current", "tasks_history"), "instructions": ("instructions_current", "instructions_history")}
FOLDER = "整改清单"


def bind_inputs(con: duckdb.DuckDBPyConnection, processed_dir: Path, period: Period) -> dict[str, int]:
    """Views <table>_current (the quarter's partition) and <table>_history (every earlier quarter's)
    of tasks and instructions. Returns the quarter's row counts. FileNotFoundError when ingest
    has not run for the quarter (no partition at all)."""
    counts = {}
    for table, (current, history) in INPUTS.items():
        source = warehouse.scan(processed_dir, table, str(period))
        if source is None:
            raise FileNotFoundError(f"tasks {period}: input {warehouse.stable_path(processed_dir, table, str(period))} "
                                    f"not found: run povmon ingest first")
        con.execute(f"create or replace temp view {current} as select * from {source}")
        earlier = [f for q, f in warehouse.partitions(processed_dir, table).items() if q < str(period)]
        con.execute(f"create or replace temp view {history} as select * from "
                    f"{warehouse.read_files(earlier) if earlier else source} where {'true' if earlier else 'false'}")
        counts[table] = con.execute(f"select count(*) from {current}").fetchone()[0]
    return counts


def build(con: duckdb.DuckDBPyConnection, processed_dir: Path, period: str, policy: Policy) -> dict[str, int]:
    """The outputs as temp tables on `con` (nothing written). Returns the quarter's input counts."""
    per = Period.parse(period)
    counts = bind_inputs(con, Path(processed_dir), per)
    params.bind(con, policy, GRAPH.sources(list(OUTPUTS)), period=per)
    GRAPH.run(con, list(OUTPUTS))
    return counts


def _has_rows(processed_dir: Path, table: str, period: str) -> bool:
    source = warehouse.scan(processed_dir, table, period)
    if source is None:
        return False
    with warehouse.connect() as con:
        return con.execute(f"select count(*) from {source}").fetchone()[0] > 0


def run(processed_dir: Path, period: str, reports_dir: Path, policy: Policy | None = None) -> dict:
    """Status of the quarter's task list and instructions; publishes task_status,
    instruction_status and the per-unit workbook at once. Returns counts and a `note` when the
    quarter has no list."""
    processed_dir, reports_dir = Path(processed_dir), Path(reports_dir)
    period = str(Period.parse(period))
    policy = policy or load_policy()
    with warehouse.transaction(processed_dir, stage="tasks") as tx:
        con = tx.connect()
        try:
            counts = build(con, processed_dir, period, policy)
            if not any(counts.values()):
                kept = [t for t in OUTPUTS if _has_rows(processed_dir, t, period)]
                note = (f"tasks {period}: no task list under data/raw/tasks/{period} (ingest loaded no problem and "
                        f"no instruction); " + (f"kept the earlier {', '.join(kept)} of {period}" if kept else
                                                 "nothing to track this quarter"))
                if not kept:
                    for table, order in OUTPUTS.items():
                        tx.write_table(con, table, table, period, order_by=order)
                return {"period": period, "note": note, "tables": {}}
            tables = {t: tx.write_table(con, t, t, period, order_by=order) for t, order in OUTPUTS.items()}
            built = tx.folder(reports_dir / period / FOLDER)
            book = workbook.write(con, built / workbook.file_name(period), period, policy)
            by_status = dict(con.execute("select status, count(*) from task_status group by 1 order by 1").fetchall())
            late = dict(con.execute("select status, count(*) from instruction_status group by 1 order by 1").fetchall())
        finally:
            con.close()
    return {"period": period, "tables": tables, "tasks_by_status": by_status, "instructions_by_status": late,
            "workbook": str(reports_dir / period / FOLDER / book.name)}


def summary_line(result: dict, policy: Policy | None = None) -> str:
    """One line for `povmon tasks`: the statuses by their Chinese labels, or the no-list note."""
    if "note" in result:
        return result["note"]
    labels = (policy or load_policy()).tasks.status_labels
    tasks = "，".join(f"{labels[s]} {n}项" for s, n in result["tasks_by_status"].items())
    inst = "，".join(f"{labels[s]} {n}件" for s, n in result["instructions_by_status"].items())
    return f"tasks {result['period']}: 问题整改 {tasks or '无'}；指令办理 {inst or '无'}；{result['workbook']}"
