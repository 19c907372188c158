"""Shared eligibility criteria (两不愁三保障 + 饮水安全, domain.md §4) as SQL models.

One definition of each rule: `sql/int_person_deprivations.sql` (members: 义务教育, 基本医疗) →
`sql/int_household_deprivations.sql` (households: every criterion, water grades and level).
The validate stage builds both and stores them in the warehouse; measures, risk and the report
read the stored tables. `household_deprivations(con, policy)` runs them on any connection that
has `persons` and `households` (tests, notebooks).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines import params
from pipelines.graph import Graph
from pipelines.policy import Policy, load_policy

SQL_DIR = Path(__file__).parent / "sql"
GRAPH = Graph(SQL_DIR)
MODELS = ("int_person_deprivations", "int_household_deprivations")


def household_deprivations(con: duckdb.DuckDBPyConnection, policy: Policy | None = None) -> duckdb.DuckDBPyRelation:
    """Build int_person_deprivations and int_household_deprivations (temp tables) from the views
    `persons` and `households` on `con`; returns the household table as a relation."""
    policy = policy or load_policy()
    params.bind(con, policy, GRAPH.sources(MODELS))
    GRAPH.run(con, MODELS)
    return con.table("int_household_deprivations")


def check_covers(con: duckdb.DuckDBPyConnection, stage: str, period: str) -> None:
    """Every household of the period (view `households`) has its row in the stored
    int_household_deprivations (view of the same name), else the stored table is stale: ingest ran
    again after validate. FileNotFoundError naming the stage, period and count."""
    missing = con.execute("select count(*) from households as h where not exists (select 1 from "
                          "int_household_deprivations as d where d.household_key = h.household_key)").fetchall()[0][0]
    if missing:
        raise FileNotFoundError(f"{stage} {period}: int_household_deprivations for {period} has no row for {missing} "
                                f"household(s) of households: run povmon validate --period {period} again")
