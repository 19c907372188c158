"""Crosscheck stage: the period's department lists (department_records, loaded by ingest) against
the registry (persons, households) -> crosscheck_findings, one SQL model per rule (sql/xc_<rule>.sql,
config/departments.toml [[rule]]) on the model graph, written in a warehouse transaction.

    run(processed_dir, period) -> dict

A quarter with no department list writes an empty crosscheck_findings partition (so later stages
read a table) and says so: nothing was checked, which is not the same as nothing found.
`crosscheck_lists` records, per department, whether a list was checked and its record date.
"""

from __future__ import annotations

import time
from pathlib import Path

import duckdb

from pipelines import params, warehouse
from pipelines.graph import Graph
from pipelines.periods import Period
from pipelines.policy import Policy, PolicyError, load_policy

SQL_DIR = Path(__file__).parent / "sql"
GRAPH = Graph(SQL_DIR)
MODELS = ("crosscheck_findings", "crosscheck_lists")
TABLES = ("persons", "households")
# the table ingest writes (pipelines/ingest/sql/department_records.sql); a quarter without one reads this
EMPTY_RECORDS = ("select cast(null as varchar) as period, cast(null as varchar) as department, "
                 "cast(null as varchar) as person_key, cast(null as varchar) as village_code, "
                 "cast(null as varchar) as county_code, cast(null as varchar) as category, "
                 "cast(null as varchar) as subcategory, cast(null as double) as amount, "
                 "cast(null as date) as record_date, cast(null as varchar) as source_file, "
                 "cast(null as varchar) as sheet, cast(null as bigint) as source_row where false")
ORDER = ["rule", "household_key nulls first", "person_key nulls first"]


def rule_models(policy: Policy) -> list[str]:
    """The rules of config/departments.toml, in order; each must have its model sql/xc_<rule>.sql
    and each model its rule (one line naming what is missing, PolicyError)."""
    rules = [r.code for r in policy.departments.rule]
    models = {m[3:] for m in GRAPH.models if m.startswith("xc_")}
    if set(rules) != models:
        missing, extra = sorted(set(rules) - models), sorted(models - set(rules))
        raise PolicyError(f"config/departments.toml [[rule]]: rules and models of pipelines/crosscheck/sql differ "
                          f"(rules without a model xc_<rule>.sql: {', '.join(missing) or 'none'}; models without "
                          f"a rule: {', '.join(extra) or 'none'})")
    return rules


def context(policy: Policy) -> dict:
    return {"rule_models": rule_models(policy)}


def bind_inputs(con: duckdb.DuckDBPyConnection, processed_dir: Path, period: str) -> bool:
    """Views over the period's persons, households and department_records; False when the period
    has no department records (an empty stand-in is bound)."""
    for table in TABLES:
        source = warehouse.scan(processed_dir, table, period)
        if source is None:
            raise FileNotFoundError(f"crosscheck {period}: {table} missing under {processed_dir} (run povmon ingest)")
        con.execute(f"create or replace view {table} as select * from {source}")
    if con.execute("select count(*) from persons").fetchall()[0][0] == 0:  # e.g. department lists of a quarter
        raise FileNotFoundError(f"crosscheck {period}: no registry persons for {period} under {processed_dir}; "
                                f"expected the quarter's registry export (data/raw/registry/{period}/) ingested: "
                                f"department lists are checked against the registry of their own quarter")
    source = warehouse.scan(processed_dir, "department_records", period)
    con.execute(f"create or replace view department_records as "
                f"{f'select * from {source}' if source else EMPTY_RECORDS}")
    return con.execute("select count(*) from department_records").fetchone()[0] > 0


def run(processed_dir: Path, period: str, policy: Policy | None = None) -> dict:
    """`povmon crosscheck --period 2020Q2`: crosscheck_findings and crosscheck_lists of the period."""
    started = time.perf_counter()
    period = str(Period.parse(period))
    processed_dir = Path(processed_dir).resolve()
    policy = policy or load_policy()
    ctx = context(policy)
    with warehouse.transaction(processed_dir, stage="crosscheck") as tx:
        con = tx.connect()
        try:
            con.execute("set threads = 1")  # deterministic order -> deterministic bytes
            has_lists = bind_inputs(con, processed_dir, period)
            params.bind(con, policy, GRAPH.sources(MODELS), period=period)
            GRAPH.run(con, MODELS, context=ctx)
            tx.write_table(con, "select * from crosscheck_findings", "crosscheck_findings", period, order_by=ORDER)
            tx.write_table(con, "select * from crosscheck_lists", "crosscheck_lists", period, order_by=["department"])
            by_rule = dict(con.execute("select rule, count(*) from crosscheck_findings group by 1 order by 1").fetchall())
            lists = dict(con.execute("select department, records from int_xc_lists order by 1").fetchall())
        finally:
            con.close()
    summary = {"period": period, "departments": lists, "findings": sum(by_rule.values()), "by_rule": by_rule,
               "seconds": round(time.perf_counter() - started, 2)}
    if not has_lists:
        summary["note"] = (f"{period}: no department list under data/raw/departments/*/{period}; nothing was "
                           f"checked (crosscheck_findings is empty for {period}, which is not 'no discrepancy')")
    return summary
