"""Validate stage: one quarter's canonical tables -> GX suites (gate + findings), Data Docs, ledger.

    run(processed_dir, period, docs_dir=None) -> dict

1. A validation database (DuckDB file in the warehouse transaction's work folder, inside
   processed_dir: a killed run's is removed by the next run): views over the period's Parquet
   (persons, households, pairings, findings, regions), the shared criteria models
   (pipelines/criteria: int_person_deprivations -> int_household_deprivations) and the problem
   ledger (`problems`, `problem_summary`, sql/*.sql), run by the model graph (pipelines/graph.py).
2. GX validates inside DuckDB (SQL datasource through duckdb-engine, adapter in gx_duckdb.py):
   suites data_quality.* (blocking) and criteria.households (findings), Data Docs to docs_dir.
3. Data-quality failure: DataQualityError (message names each expectation and its row count);
   Data Docs are written, the ledger is not (the transaction commits nothing). Otherwise the
   criteria models and the ledger (int_person_deprivations, int_household_deprivations, problems,
   problem_summary: partition <p>, deterministic) and the folder
   reports_dir/<p>/问题清单/ (one Excel workbook per county, built beside it; 户主, 户编号 and
   members' names read from raw_dir at print time) are published together by the transaction's
   commit. Rows of returned 问题清单 sheets of earlier quarters (`rectification`, loaded by ingest)
   give the next quarter's status its citation.

Rows ingest already reported in `findings` do not fail the gate; they are counted under
`known_findings` (see config/validate.toml [known_findings]).
"""

from __future__ import annotations

import time
from pathlib import Path

import duckdb

from pipelines import criteria, engines, keys, params, warehouse
from pipelines.graph import Graph, bind_rows
from pipelines.policy import Policy, load_policy
from pipelines.config import RAW_DIR, REPORTS_DIR, hash_key
from pipelines.periods import Period
from pipelines.validate import ledger, nodes, offline_docs, sql_checks, suites

TABLES = ("persons", "households", "pairings", "findings", "crosscheck_findings")
# empty stand-ins when an optional table has no partition for the period
EMPTY = {
    "pairings": "select cast(null as varchar) as household_key, cast(null as varchar) as cadre_id, "
                "cast(null as varchar) as cadre_name, cast(null as varchar) as cadre_phone, "
                "cast(null as varchar) as cadre_unit, cast(null as date) as start_date, "
                "cast(null as date) as end_date where false",
    "findings": "select cast(null as varchar) as reason, cast(null as varchar) as household_key, "
                "cast(null as varchar) as person_key, cast(null as varchar) as source_kind where false",
    # department cross-checks (pipelines/crosscheck): none when the stage has not run for the period
    "crosscheck_findings": "select cast(null as varchar) as rule, cast(null as varchar) as department, "
                           "cast(null as varchar) as household_key, cast(null as varchar) as person_key, "
                           "cast(null as varchar) as detail, cast(null as varchar) as rule_label, "
                           "cast(null as date) as record_date where false",
}


class DataQualityError(RuntimeError):
    """The data-quality gate failed; `.summary` holds the run summary."""

    def __init__(self, message: str, summary: dict):
        super().__init__(message)
        self.summary = summary


# ---- 1. the validation database ---------------------------------------------------------------

GRAPH = Graph(Path(__file__).parent / "sql", shared=[criteria.SQL_DIR])
MODELS = ("int_person_deprivations", "int_household_deprivations", "problems", "problem_summary")


def build_database(con: duckdb.DuckDBPyConnection, processed_dir: Path, period: str, policy: Policy) -> dict:
    """Views over the period's canonical tables, the criteria model and the ledger, on `con`."""
    for table in (*TABLES, "regions"):
        source = warehouse.scan(processed_dir, table, None if table == "regions" else period)
        if source is None and table not in EMPTY:
            raise FileNotFoundError(f"validate {period}: {table} missing under {processed_dir}")
        body = f"select * from {source}" if source else EMPTY[table]
        con.execute(f"create or replace view {table} as {body}")

    # the shared criteria models (one definition of each criterion) and the ledger, as tables GX reads
    ledger.bind_previous(con, processed_dir, period)
    reported = ledger.bind_rectification(con, processed_dir, period)
    params.bind(con, policy, GRAPH.sources(MODELS), period=period)
    GRAPH.run(con, MODELS, temp=False)
    known = con.execute("select reason, count(*) from findings group by reason order by reason").fetchall()
    return {"known_findings": {r: int(n) for r, n in known}, "rectification_periods": reported}


# ---- 2. GX ------------------------------------------------------------------------------------

def validate_with_gx(db_path: Path, suite_data: dict[str, dict], docs_dir: Path | None,
                     connection_string: str | None = None, datasource: str = "duckdb") -> list[dict]:
    """Run every suite on its table through GX; flat list of expectation results."""
    from pipelines.validate import gx_duckdb

    ge = gx_duckdb.gx()
    ctx = gx_duckdb.context(docs_dir)
    ds = ctx.data_sources.add_sql(name="povmon_validate",
                                  connection_string=connection_string or f"duckdb:///{db_path}",
                                  kwargs={"connect_args": {"read_only": True}})
    definitions, titles = [], {}
    for name, data in suite_data.items():
        suite = ctx.suites.add(gx_duckdb.suite_from_json(data))
        asset = ds.add_table_asset(name=data["meta"]["batch_table"] + "_" + name,
                                   table_name=data["meta"]["batch_table"])
        batch = asset.add_batch_definition_whole_table(name=f"{name}_all")
        definitions.append(ctx.validation_definitions.add(ge.ValidationDefinition(name=name, data=batch, suite=suite)))
        titles.update({str(obj.id): (name, e) for obj, e in zip(suite.expectations, data["expectations"])})
    actions = [ge.checkpoint.UpdateDataDocsAction(name="data_docs")] if docs_dir is not None else []
    checkpoint = ctx.checkpoints.add(ge.Checkpoint(name="povmon_validate", validation_definitions=definitions,
                                                   actions=actions, result_format={"result_format": "SUMMARY"}))
    try:
        result = checkpoint.run()
    finally:
        ds.get_engine().dispose()
    if docs_dir is not None:  # GX's pages load their scripts from CDNs: point them at vendored copies
        offline_docs.make_offline(docs_dir)
    flat = []
    for run in result.run_results.values():
        for r in run.results:
            suite_name, e = titles[str(r.expectation_config.id)]
            exc = _exception(r.exception_info)
            flat.append({"suite": suite_name, "title": e["meta"]["title"], "type": e["type"],
                         "severity": e["severity"], "criterion": e["meta"].get("criterion"),
                         "success": bool(r.success), "result": dict(r.result or {}),
                         "exception": exc})
    return flat


def _exception(info) -> str | None:
    """The error message GX caught while computing an expectation (shapes differ by version)."""
    if not info:
        return None
    if isinstance(info, dict) and "exception_message" in info:
        return info["exception_message"] if info.get("raised_exception") else None
    if isinstance(info, dict):
        messages = [v.get("exception_message") for v in info.values() if isinstance(v, dict)
                    and v.get("raised_exception")]
        return "; ".join(m for m in messages if m) or None
    return str(info)


# ---- 3. outputs -------------------------------------------------------------------------------

def run(processed_dir: Path, period: str, docs_dir: Path | None = None, reports_dir: Path | None = None,
        policy: Policy | None = None, allow_failed_gate: bool = False, raw_dir: Path | None = RAW_DIR,
        read_ahead=None) -> dict:
    """`povmon validate --period 2020Q2`: gate, Data Docs, problem ledger, and the period's
    `validation_status` row (whether the gate passed, and whether a failure was overridden).

    When a blocking data-quality expectation fails, the period's criteria models and ledger are
    not published (those of an earlier run are removed: they describe data that has changed), the
    status row is, and DataQualityError is raised after the Data Docs are written. With
    `allow_failed_gate` the stage publishes as if it had passed, and the status row says the
    failure was overridden, so every later stage and the report can say so. The ledger's
    workbooks print 户主, 户编号 and members' names read from raw_dir (None: not printed), or
    already read by `read_ahead` (`povmon quarters`: pipelines/readahead.py)."""
    started = time.perf_counter()
    period = str(Period.parse(period))
    processed_dir = Path(processed_dir).resolve()
    reports_dir = Path(reports_dir) if reports_dir is not None else REPORTS_DIR
    docs_dir = Path(docs_dir) if docs_dir is not None else reports_dir / period / "data_docs"
    policy = policy or load_policy()
    suite_data = suites.load_suites()
    with warehouse.transaction(processed_dir, stage="validate") as tx:
        on_spark = engines.current() == "spark"
        if on_spark:  # the models, and the suites' checks as SQL (no Data Docs: GX's pages)
            with tx.connect(policy) as con:
                info = build_database(con, processed_dir, period, policy)
                ledger.stage(con, tx, period)
                checked = sql_checks.check(con, suite_data)
        else:
            db_path = tx.work / "validate.duckdb"
            with warehouse.connect(spill=tx.work / "spill", database=str(db_path)) as con:
                con.execute("set threads = 1")  # deterministic sums and order -> deterministic bytes
                info = build_database(con, processed_dir, period, policy)
                ledger.stage(con, tx, period)
            checked = validate_with_gx(db_path, suite_data, docs_dir)
        dq = nodes.summarise_results([r for r in checked if r["suite"].startswith(suites.DQ_PREFIX)])
        crit = {r["criterion"]: (nodes.failing_count(r) or 0) for r in checked if r["suite"] == suites.CRITERIA_SUITE}
        summary = {"period": period, "data_quality": dq, "criteria_failing_households": crit,
                   "known_findings": info["known_findings"],
                   "data_docs": None if on_spark else str(docs_dir / "index.html"),
                   "rectification_periods": info["rectification_periods"]}
        publish = dq["success"] or allow_failed_gate
        if not publish:  # neither this run's ledger nor an earlier run's for data that has changed
            for table in ledger.STAGED:
                tx.delete(table, period)
        with tx.connect(policy) as con:
            write_status(con, tx, period, dq, overridden=not dq["success"] and allow_failed_gate)
        if publish:
            if raw_dir is not None:  # the raw lookup keys 户编号 with our key: it must be the warehouse's
                keys.check_warehouse_key(keys.recorded_fingerprints(processed_dir), hash_key())
            with engines.use("duckdb"):  # the workbooks are printed from the staged Parquet on DuckDB
                summary["ledger"] = ledger.publish(tx, period, reports_dir, policy, raw_dir, read_ahead)
    summary["seconds"] = round(time.perf_counter() - started, 2)
    summary["gate"] = "passed" if dq["success"] else ("overridden" if allow_failed_gate else "failed")
    if not publish:
        raise DataQualityError(nodes.gate_message(period, dq), summary)
    summary["ledger"]["view_registered"] = set(ledger.STAGED) <= set(tx.views)
    return summary


STATUS_COLUMNS = {"period": "varchar", "gate_passed": "boolean", "overridden": "boolean",
                  "failed_expectations": "integer", "failed_titles": "varchar"}


def write_status(con: duckdb.DuckDBPyConnection, tx, period: str, dq: dict, overridden: bool) -> None:
    """The period's row of `validation_status`: did the gate pass, was a failure overridden, which
    expectations failed (titles joined with '；')."""
    titles = "；".join(f["expectation"] for f in dq["failed"]) or None
    bind_rows(con, "validation_status_row", STATUS_COLUMNS,
              [(period, bool(dq["success"]), bool(overridden), len(dq["failed"]), titles)])
    tx.write_table(con, "select * from validation_status_row", "validation_status", period, order_by="period")


if __name__ == "__main__":  # python -m pipelines.validate.pipeline <processed_dir> <period>
    import json
    import sys

    try:
        print(json.dumps(run(Path(sys.argv[1]), sys.argv[2]), ensure_ascii=False, indent=2, default=str))
    except DataQualityError as exc:
        print(exc, file=sys.stderr)
        sys.exit(1)

