"""bench_validate(n_persons): the same suites through the DuckDB SQL path and a pandas datasource.

Canonical tables of n persons (3 per household, all secured, every data-quality rule holding)
come from the shared factory (benchmarks/factory.py, generated in DuckDB, written as Parquet); then
- duckdb: the validation database is built (views + criteria model) and every suite runs inside
  DuckDB through GX's SQL datasource (the production path);
- pandas: the same tables are loaded into DataFrames and the suites run on a GX pandas
  datasource. UnexpectedRowsExpectation is SQL-only in GX, so the pandas side runs the column and
  table expectations only; `duckdb_comparable_seconds` times that same subset on DuckDB, and
  `ratio` = pandas / duckdb over the subset. No timing is asserted anywhere.

    python -m benchmarks.validate 100000
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from benchmarks import factory
from pipelines.validate import suites
from pipelines.policy import load_policy
from pipelines.validate.pipeline import build_database

PERIOD = "2020Q2"
TABLES = ("persons", "households", "pairings", "findings", "regions")  # what validate reads


def write_tables(processed: Path, n_persons: int) -> None:
    """The factory's clean canonical tables of n persons (households of three) for PERIOD."""
    factory.write_generated(processed, n_persons, PERIOD, tables=TABLES)


def _pandas_comparable(data: dict) -> dict:
    return dict(data, expectations=[e for e in data["expectations"] if e["type"] != "unexpected_rows_expectation"])


def _validate(ctx, ds, name: str, data: dict, gx_duckdb, dataframe=None) -> tuple[float, int]:
    suite = gx_duckdb.suite_from_json(data)
    table = data["meta"]["batch_table"]
    if dataframe is None:
        batch = ds.add_table_asset(name=f"{table}_{name}", table_name=table).add_batch_definition_whole_table("all").get_batch()
    else:
        bd = ds.add_dataframe_asset(name=f"{table}_{name}").add_batch_definition_whole_dataframe("all")
        batch = bd.get_batch(batch_parameters={"dataframe": dataframe})
    started = time.perf_counter()
    result = batch.validate(suite)
    return time.perf_counter() - started, sum(not r.success for r in result.results)


def bench_validate(n_persons: int, tmp_dir: str | None = None) -> dict:
    """Seconds for the suites on n_persons through DuckDB (SQL datasource) and pandas; ratio."""
    from pipelines.validate import gx_duckdb

    gx_duckdb.gx()
    loaded = suites.load_suites()
    work = Path(tempfile.mkdtemp(prefix="povmon-bench-validate-", dir=tmp_dir))
    try:
        processed = work / "processed"
        write_tables(processed, n_persons)
        db = work / "validate.duckdb"
        started = time.perf_counter()
        with duckdb.connect(str(db)) as con:
            build_database(con, processed, PERIOD, load_policy())
            frames = {d["meta"]["batch_table"]: con.sql(f"select * from {d['meta']['batch_table']}").df()
                      for d in loaded.values()}
        build_seconds = time.perf_counter() - started
        ctx = gx_duckdb.context(None)
        sql = ctx.data_sources.add_sql(name="duckdb", connection_string=f"duckdb:///{db}",
                                       kwargs={"connect_args": {"read_only": True}})
        pdx = ctx.data_sources.add_pandas(name="pandas")
        full = comparable = pandas = 0.0
        failed = {"duckdb": 0, "pandas": 0}
        for name, data in loaded.items():
            s, f = _validate(ctx, sql, name, data, gx_duckdb)
            full += s
            failed["duckdb"] += f
            s, _ = _validate(ctx, sql, name + "_cmp", _pandas_comparable(data), gx_duckdb)
            comparable += s
            s, f = _validate(ctx, pdx, name, _pandas_comparable(data), gx_duckdb, frames[data["meta"]["batch_table"]])
            pandas += s
            failed["pandas"] += f
        sql.get_engine().dispose()
        n_all = sum(len(d["expectations"]) for d in loaded.values())
        n_cmp = sum(len(_pandas_comparable(d)["expectations"]) for d in loaded.values())
        return {"n_persons": n_persons, "build_database_seconds": round(build_seconds, 3),
                "duckdb_all_suites_seconds": round(full, 3), "duckdb_comparable_seconds": round(comparable, 3),
                "pandas_comparable_seconds": round(pandas, 3),
                "ratio": round(pandas / comparable, 3) if comparable else None,
                "expectations": n_all, "expectations_compared": n_cmp, "sql_only_expectations": n_all - n_cmp,
                "failed_expectations": failed}
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    for n in [int(a) for a in sys.argv[1:]] or [30_000]:
        print(json.dumps(bench_validate(n), ensure_ascii=False))
