"""The report's SQL models (pipelines/report/sql/<name>.sql) on a warehouse connection.

Each file is one model of the model graph (pipelines/graph.py): named CTEs ending in `select *
from final`, inputs written `{{ ref('risk') }}`. Its inputs are warehouse tables (views of the
Warehouse), the helper `region_names` (pipelines/report/warehouse.py) and parameter tables built
from the policy (pipelines/params.py: param_run, param_labels, param_report, ...), bound by
`bind_params`. Every by-region table uses the one `by_region` macro of sql/_macros.sql."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipelines import params
from pipelines.config import CONFIG_DIR
from pipelines.graph import Graph
from pipelines.policy import Policy, load_policy
from pipelines.report.warehouse import Warehouse

SQL_DIR = Path(__file__).parent / "sql"
GRAPH = Graph(SQL_DIR)
HELPERS = frozenset({"region_names"})  # bound by pipelines/report/warehouse.py register_helpers


# empty stand-ins for the tables of a comparison with the previous quarter, in the first quarter
# of a run (nothing to compare with: the page shows no flow rather than a section 未运行)
STANDINS = {
    "transitions": "select cast(null as varchar) as period, cast(null as varchar) as previous_period, "
                   "cast(null as varchar) as household_key, cast(null as varchar) as status_flow, "
                   "cast(null as varchar) as monitoring_flow, cast(null as bigint) as persons_from, "
                   "cast(null as bigint) as persons_to where false",
    "transition_matrix": "select cast(null as varchar) as period, cast(null as varchar) as previous_period, "
                         "cast(null as varchar) as from_status, cast(null as varchar) as to_status, "
                         "cast(null as varchar) as from_status_label, cast(null as varchar) as to_status_label, "
                         "cast(null as bigint) as households, cast(null as bigint) as persons where false",
}


def bind_standins(wh: Warehouse, tables) -> None:
    """Empty views for `tables` (absent because there is no previous quarter)."""
    for table in tables:
        wh.con.execute(f'create or replace view "{table}" as {STANDINS[table]}')
        wh.tables[table] = []


class Missing(Exception):
    """A query's input table is not in the warehouse (the stage has not run): section 未运行."""


def requires(name: str) -> list[str]:
    """The warehouse tables model `name` reads (its inputs that are neither parameters nor helpers)."""
    return sorted(s for s in GRAPH.sources([name]) if s not in HELPERS and s not in params.names())


def bind_params(wh: Warehouse, period: str, config_dir: Path = CONFIG_DIR, policy: Policy | None = None) -> None:
    """The parameter tables every report model may refer to, for `period`."""
    policy = policy or load_policy(config_dir)
    names = {s for m in GRAPH.models for s in GRAPH.sources([m])} & set(params.names())
    params.bind(wh.con, policy, names, period=period)


def query(wh: Warehouse, name: str, context: dict | None = None) -> pd.DataFrame:
    """Result of model sql/<name>.sql as a (small) DataFrame; Missing when an input table is absent."""
    absent = [t for t in requires(name) if not wh.has(t)]
    if absent:
        raise Missing(f"{name}: 缺少数据表 {', '.join(absent)}")
    return wh.con.execute(GRAPH.render(name, context)).df()


def periods(wh: Warehouse, table: str = "households") -> list[str]:
    """Periods present in a warehouse table (sorted)."""
    if not wh.has(table):
        return []
    return [r[0] for r in wh.con.execute(f'select distinct period from "{table}" order by 1').fetchall()]
