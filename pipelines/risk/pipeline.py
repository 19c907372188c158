"""Risk stage (issue #5): canonical tables -> risk, watch groups, transitions, assistance coverage.

Python only wires: it registers the input partitions as DuckDB views, renders the SQL files under
pipelines/risk/sql/ with the validated config (jinja, lists only), materialises each model, and
writes it atomically as processed_dir/<table>/period=<p>/data.parquet (pipelines.warehouse) and
refreshes the views in processed_dir/povmon.duckdb. One output per SQL file:

  risk                 one row per household: income position, signals, level, reasons, category,
                       watch groups, 风险消除 check
  watch_group_counts   households / persons per watch group and township / county / city
  assistance_gaps      one row per 帮扶责任人 gap
  assistance_coverage  gaps and coverage per township
  transitions          one row per household in either snapshot (previous -> period)
  transition_matrix    households and persons per (from_status, to_status)
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import jinja2

from pipelines import warehouse
from pipelines.config import CONFIG_DIR, load_toml
from pipelines.periods import Period
from pipelines.risk.rules import GAP_SIGNALS, line_table, template_context

SQL_DIR = Path(__file__).parent / "sql"

# table -> ORDER BY of its Parquet file (deterministic output)
ORDER = {
    "risk": "county_code, township_code, village_code, household_key",
    "watch_group_counts": "watch_group_order, region_level, county_code, township_code",
    "assistance_gaps": "county_code, township_code, village_code, household_key, gap, cadre_id, end_date",
    "assistance_coverage": "county_code, township_code",
    "transitions": "county_code, township_code, village_code, household_key",
    "transition_matrix": "from_status, to_status",
}
CURRENT_TABLES = ("risk", "watch_group_counts", "assistance_gaps", "assistance_coverage")
TRANSITION_TABLES = ("transitions", "transition_matrix")
PAIRINGS_EMPTY = """
    create or replace temp table pairings (
        period varchar, household_key varchar, cadre_id varchar, cadre_name varchar,
        cadre_sex varchar, cadre_phone varchar, cadre_unit varchar, cadre_affiliation varchar,
        cadre_rank varchar, cadre_political varchar, start_date date, end_date date,
        resident_team boolean)
"""


# ---- SQL -------------------------------------------------------------------------------------------

def _sql_env() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(SQL_DIR), undefined=jinja2.StrictUndefined,
                             keep_trailing_newline=True)
    env.filters["sqlstr"] = warehouse.sql_escape
    return env


def render(name: str, **context) -> str:
    """Render pipelines/risk/sql/<name>.sql with the given context."""
    return _sql_env().get_template(f"{name}.sql").render(**context)


def _view(con, name: str, processed_dir: Path, table: str, period: str) -> bool:
    """Temp view `name` over the table's partition for `period`; False when there is none."""
    source = warehouse.scan(processed_dir, table, period)
    if source is not None:
        con.execute(f"create or replace temp view {name} as select * from {source}")
    return source is not None


def _require(con, name: str, processed_dir: Path, table: str, period: str, hint: str) -> None:
    if not _view(con, name, processed_dir, table, period):
        raise FileNotFoundError(f"{hint}: input {warehouse.partition_path(processed_dir, table, period)} not found")


# ---- inputs ---------------------------------------------------------------------------------------

def _register_inputs(con: duckdb.DuckDBPyConnection, processed_dir: Path, period: Period, ctx: dict,
                     config_dir: Path) -> dict:
    """Views households, persons, households_all, lines, pairings, deprivation. Returns notes."""
    p = str(period)
    notes: dict = {}
    for table in ("households", "persons"):
        _require(con, table, processed_dir, table, p, f"risk {p} (run ingest for {p} first)")

    window = int(ctx["elimination"]["consecutive_quarters"])
    wanted = {str(period.shift(-k)) for k in range(window)} | {str(period.shift(-1)), str(period.shift(-4))}
    history = {q: f for q, f in warehouse.partitions(processed_dir, "households").items() if q in wanted}
    notes["history_periods"] = sorted(history)
    cols = ", ".join(["household_key", "period", "net_income", *ctx["income_columns"]])
    con.execute(f"create or replace temp view households_all as select {cols} "
                f"from {warehouse.read_files(list(history.values()))}")

    rows = ", ".join(f"({y}, '{role}', {value})" for y, role, value in line_table(config_dir))
    con.execute(f"create or replace temp table lines as select * from (values {rows}) as v(year, line, value)")

    if not _view(con, "pairings", processed_dir, "pairings", p):
        con.execute(PAIRINGS_EMPTY)
        notes["pairings"] = (f"no {warehouse.partition_path(processed_dir, 'pairings', p)}: "
                             "every household needing assistance has gap no_pairing")

    notes["deprivation"] = _register_deprivation(con, processed_dir, p, ctx, config_dir)
    return notes


def _register_deprivation(con, processed_dir: Path, period: str, ctx: dict, config_dir: Path) -> str:
    """View `deprivation` (household_key, gap_*): the shared 两不愁三保障 model.

    A materialised partition processed_dir/<[deprivation].table>/period=<p> is read when present;
    otherwise the shared SQL model pipelines/criteria/sql/int_household_deprivations.sql is run
    here on the same households/persons views. Columns map through [deprivation.columns].
    """
    cfg = load_toml("risk", config_dir)["deprivation"]
    mapped = ", ".join(f"cast({cfg['columns'][g]} as boolean) as {g}" for g in GAP_SIGNALS)
    source = warehouse.scan(processed_dir, cfg["table"], period)
    if source is not None:
        note = f"materialised {warehouse.partition_path(processed_dir, cfg['table'], period)}"
    else:
        from pipelines.criteria import household_deprivations

        household_deprivations(con, load_toml("thresholds", config_dir), name="shared_deprivation")
        source, note = "shared_deprivation", "pipelines/criteria/sql/int_household_deprivations.sql"
    con.execute(f"""create or replace temp view deprivation as
        select {cfg['key']} as household_key, {mapped}, 'shared' as deprivation_source from {source}""")
    return note


def _register_previous(con, processed_dir: Path, previous: str) -> None:
    for table in ("households", "persons"):
        _require(con, f"{table}_prev", processed_dir, table, previous, "transitions")


# ---- entry points -----------------------------------------------------------------------------------

def build(con, processed_dir: Path, period: str, previous: str | None, config_dir: Path = CONFIG_DIR) -> dict:
    """Materialise every output as a temp table on `con` (no files written). Returns notes."""
    per = Period.parse(period)
    ctx = template_context(config_dir) | {"period": str(per), "year": per.year, "quarter_index": per.index,
                                          "period_end": per.end_date.isoformat()}
    notes = _register_inputs(con, Path(processed_dir), per, ctx, config_dir)
    for table in CURRENT_TABLES:
        con.execute(f"create or replace temp table {table} as {render(table, **ctx)}")
    if previous is None and warehouse.table_files(processed_dir, "households", [per.previous]):
        previous = str(per.previous)
    notes["previous"] = previous
    if previous is not None:
        prev = str(Period.parse(previous))
        _register_previous(con, Path(processed_dir), prev)
        for table in TRANSITION_TABLES:
            con.execute(f"create or replace temp table {table} as {render(table, **ctx, previous=prev)}")
    return notes


def run(processed_dir: Path, period: str, previous: str | None = None, config_dir: Path = CONFIG_DIR) -> dict:
    """Risk stage for one quarter; transitions from `previous` (default: the preceding quarter when
    its households partition exists; none otherwise). Writes Parquet + views; returns counts."""
    processed_dir = Path(processed_dir)
    period = str(Period.parse(period))
    con = duckdb.connect()
    try:
        notes = build(con, processed_dir, period, previous, config_dir)
        written = CURRENT_TABLES + (TRANSITION_TABLES if notes["previous"] else ())
        tables = {t: warehouse.write_table(con, t, processed_dir, t, period, order_by=ORDER[t]) for t in written}
    finally:
        con.close()
    warehouse.refresh_views(processed_dir)
    return {"period": period, "previous": notes["previous"], "tables": tables, "notes": notes}


def summary(processed_dir: Path, period: str, config_dir: Path = CONFIG_DIR) -> str:
    """Text for `povmon risk --period`: below-guideline 户/人, by level, category and county."""
    from pipelines.risk.report import summary_text

    return summary_text(Path(processed_dir), str(Period.parse(period)), config_dir)


__all__ = ["run", "summary", "build", "render"]
