"""Risk stage (issue #5): canonical tables -> risk, watch groups, transitions, assistance coverage.

Python only wires: it binds the period's partitions and the parameter tables built from the
Policy (pipelines/params.py), runs the models under pipelines/risk/sql/ through the model graph
(pipelines/graph.py), and publishes every output's partition <p> at once in one warehouse
transaction (pipelines.warehouse: one writer at a time; make never sees some tables new and
others stale).

  int_risk_income      (view) income position against the lines by role, band, history, members
  int_risk_signals     (view) the sig_<code> booleans
  risk                 one row per household: levels, reasons, category, watch groups, 风险消除
  watch_group_counts   households / persons per watch group and township / county / city
  assistance_gaps      one row per 帮扶责任人 gap
  assistance_coverage  gaps and coverage per township
  transitions          one row per household in either snapshot (previous -> period)
  transition_matrix    households and persons per (from_status, to_status)

The 两不愁三保障 gaps come from the int_household_deprivations partition `povmon validate` stores.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import duckdb

from pipelines import criteria, params, warehouse
from pipelines.graph import Graph
from pipelines.periods import Period
from pipelines.policy import Policy, load_policy
from pipelines.risk import rules

SQL_DIR = Path(__file__).parent / "sql"
GRAPH = Graph(SQL_DIR)
CARDS_GRAPH = Graph(SQL_DIR / "cards")  # print time: reads the stored risk table

# table -> ORDER BY of its Parquet file (deterministic output)
ORDER = {
    "risk": "county_code, township_code, village_code, household_key",
    "watch_group_counts": "watch_group_order, region_level, county_code, township_code",
    "assistance_gaps": "county_code, township_code, village_code, household_key, gap, cadre_id, end_date",
    "assistance_coverage": "county_code, township_code",
    "transitions": "county_code, township_code, village_code, household_key",
    "transition_matrix": "from_status, to_status",
}
# created in their ORDER (one key per row: the order is the same whatever the threads) and
# copied as they are: the wide risk table is sorted once, not copied into a sorted second table
PRESORTED = ("risk", "transitions")
CURRENT_TABLES = ("risk", "watch_group_counts", "assistance_gaps", "assistance_coverage")
TRANSITION_TABLES = ("transitions", "transition_matrix")
CROSSCHECK_EMPTY = ("create or replace temp view crosscheck_findings as select cast(null as varchar) as household_key, "
                    "cast(null as varchar) as rule, cast(null as varchar) as rule_label, "
                    "cast(null as varchar) as department_label, cast(null as date) as record_date where false")
PAIRINGS_EMPTY = """
    create or replace temp table pairings (
        period varchar, household_key varchar, cadre_id varchar, cadre_name varchar,
        cadre_sex varchar, cadre_phone varchar, cadre_unit varchar, cadre_affiliation varchar,
        cadre_rank varchar, cadre_political varchar, start_date date, end_date date,
        resident_team boolean)
"""


# ---- inputs ---------------------------------------------------------------------------------------

def _view(con, name: str, source: str | None) -> bool:
    if source is not None:
        con.execute(f"create or replace temp view {name} as select * from {source}")
    return source is not None


def _require(con, name: str, processed_dir: Path, table: str, period: str, message: str) -> None:
    """Temp view `name` over the table's partition for `period`; FileNotFoundError(message) without."""
    if not _view(con, name, warehouse.scan(processed_dir, table, period)):
        raise FileNotFoundError(message)


def history_periods(period: Period, policy: Policy) -> list[Period]:
    """Quarters the rules look back to: the 风险消除 window (this quarter included), the previous
    quarter (income drop) and the same quarter a year earlier (rigid spending)."""
    window = policy.risk.elimination.consecutive_quarters
    wanted = {period.shift(-k) for k in range(window)} | {period.shift(-1), period.shift(-4)}
    return sorted(wanted)


def bind_inputs(con: duckdb.DuckDBPyConnection, processed_dir: Path, period: Period, policy: Policy) -> dict:
    """Views households, persons, households_history, pairings, int_household_deprivations for the
    period. Returns notes (which history quarters were found; pairings missing)."""
    p, notes = str(period), {}
    for table in ("households", "persons"):
        missing = warehouse.stable_path(processed_dir, table, p)
        _require(con, table, processed_dir, table, p, f"risk {p} (run ingest for {p} first): input {missing} not found")
    _require(con, "int_household_deprivations", processed_dir, "int_household_deprivations", p,
             f"risk {p}: input int_household_deprivations for {p} not found: run povmon validate --period {p} first")
    criteria.check_covers(con, "risk", p)

    wanted = {str(q) for q in history_periods(period, policy)}
    history = {q: f for q, f in warehouse.partitions(processed_dir, "households").items() if q in wanted}
    notes["history_periods"] = sorted(history)
    con.execute(f"create or replace temp view households_history as select * from "
                f"{warehouse.read_files(list(history.values()))}")

    if not _view(con, "crosscheck_findings", warehouse.scan(processed_dir, "crosscheck_findings", p)):
        con.execute(CROSSCHECK_EMPTY)  # the crosscheck stage has not run for the period: no department signal
        notes["crosscheck"] = f"no crosscheck_findings for {p}: no department cross-check signals"
    if not _view(con, "pairings", warehouse.scan(processed_dir, "pairings", p)):
        con.execute(PAIRINGS_EMPTY)
        notes["pairings"] = (f"no {warehouse.stable_path(processed_dir, 'pairings', p)}: "
                             "every household needing assistance has gap no_pairing")
    return notes


def _bind_previous(con, processed_dir: Path, previous: str) -> None:
    for table in ("households", "persons"):
        missing = warehouse.stable_path(processed_dir, table, previous)
        _require(con, f"{table}_prev", processed_dir, table, previous,
                 f"transitions: input {missing} not found")


# ---- entry points -----------------------------------------------------------------------------------

def build(con, processed_dir: Path, period: str, previous: str | None, policy: Policy,
          publish: Callable[[str], None] | None = None) -> dict:
    """Create every output as a temp table on `con`, one output after another (CURRENT_TABLES, then
    TRANSITION_TABLES). `publish(table)` is called as soon as each output is built (run() writes it
    then); without it no file is written. Returns notes."""
    rules.check(policy)
    per, processed_dir = Period.parse(period), Path(processed_dir)
    notes = bind_inputs(con, processed_dir, per, policy)
    if previous is None and warehouse.table_files(processed_dir, "households", [per.previous]):
        previous = str(per.previous)
    notes["previous"] = previous
    targets = list(CURRENT_TABLES)
    extra = {}
    if previous is not None:
        prev = str(Period.parse(previous))
        _bind_previous(con, processed_dir, prev)
        targets += TRANSITION_TABLES
        extra["param_transition"] = {"period": str(per), "previous_period": prev}
    params.bind(con, policy, GRAPH.sources(targets), period=per, **extra)
    context, built = rules.template_context(policy), set()
    for target in targets:
        built.update(GRAPH.run(con, [target], context=context, ordered={t: ORDER[t] for t in PRESORTED},
                               built=built))
        if publish is not None:
            publish(target)
    return notes


def read_back(con, table: str, path: Path) -> None:
    """On DuckDB, replace the temp table `table` by a view of the file just written from it: the
    models after it read the few columns they need from the Parquet, and the table leaves memory
    (risk and transitions at 10 M persons were ~3 of the 4 GB [engine] memory_limit: the later
    models, sorts and writes spilled). The file holds the same rows in the same order."""
    if not isinstance(con, duckdb.DuckDBPyConnection):
        return  # another engine keeps its own tables (pipelines/engines.py)
    con.execute(f"drop table {table}")
    con.execute(f"create temp view {table} as select * from read_parquet({warehouse.sql_literal(str(path))})")


def run(processed_dir: Path, period: str, previous: str | None = None, policy: Policy | None = None) -> dict:
    """Risk stage for one quarter; transitions from `previous` (default: the preceding quarter when
    its households partition exists; none otherwise, and the period's old transitions go).
    Each output is written into the transaction as soon as it is built (the wide ones then read
    back from their file); every table's partition is published at once; returns counts."""
    processed_dir = Path(processed_dir)
    period = str(Period.parse(period))
    policy = policy or load_policy()
    with warehouse.transaction(processed_dir, stage="risk") as tx:
        con = tx.connect()
        tables: dict[str, int] = {}

        def publish(table: str) -> None:
            tables[table] = tx.write_table(con, table, table, period, order_by=ORDER[table],
                                           presorted=table in PRESORTED)
            if table in PRESORTED:
                read_back(con, table, tx.path(table, period))

        try:
            notes = build(con, processed_dir, period, previous, policy, publish=publish)
            written = CURRENT_TABLES + (TRANSITION_TABLES if notes["previous"] else ())
            for table in set(TRANSITION_TABLES) - set(written):
                tx.delete(table, period)
        finally:
            con.close()
    return {"period": period, "previous": notes["previous"], "tables": tables, "notes": notes}


CARD_MODELS = ("card_households", "card_members", "card_policies", "card_cadres")


def card_context(policy: Policy) -> dict:
    """Identifiers for the card models (checked by the policy: signal codes, registry columns)."""
    return {"signals": [s.code for s in policy.risk.signal],
            "received": [c.model_dump() for c in policy.risk.cards.received]}


def card_tables(con: duckdb.DuckDBPyConnection, policy: Policy, period: str, region_level: str,
                region_code: str) -> None:
    """The card models (CARD_MODELS) for one village or township as tables on `con`, which has
    views risk, households, persons, pairings and regions of the period."""
    names = CARDS_GRAPH.sources(list(CARD_MODELS))
    params.bind(con, policy, names, period=period,
                param_card={"region_level": region_level, "region_code": region_code})
    CARDS_GRAPH.run(con, list(CARD_MODELS), context=card_context(policy))


def summary(processed_dir: Path, period: str, policy: Policy | None = None) -> str:
    """Text for `povmon risk --period`: below-guideline 户/人, by level, category and county."""
    from pipelines.risk.report import summary_text

    return summary_text(Path(processed_dir), str(Period.parse(period)), policy or load_policy())


__all__ = ["run", "summary", "build", "card_tables"]
