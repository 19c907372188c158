"""bench_validate(n_persons): the same suites through the DuckDB SQL path and a pandas datasource.

Canonical tables of n persons (3 per household, one village, all secured) are generated in DuckDB
and written as Parquet; then
- duckdb: the validation database is built (views + criteria model) and every suite runs inside
  DuckDB through GX's SQL datasource (the production path);
- pandas: the same tables are loaded into DataFrames and the suites run on a GX pandas
  datasource. UnexpectedRowsExpectation is SQL-only in GX, so the pandas side runs the column and
  table expectations only; `duckdb_comparable_seconds` times that same subset on DuckDB, and
  `ratio` = pandas / duckdb over the subset. No timing is asserted anywhere.

    python -m pipelines.validate.bench 100000
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from pipelines import warehouse
from pipelines.validate import suites
from pipelines.policy import load_policy
from pipelines.validate.pipeline import build_database

PERIOD = "2020Q2"
VILLAGE = "140524100200"


def write_tables(processed: Path, n_persons: int) -> None:
    """Clean canonical Parquet of n persons (households of three) for PERIOD."""
    n_hh = max(1, n_persons // 3)
    con = duckdb.connect()
    hh = f"'h' || lpad(cast(i as varchar), 9, '0')"
    tables = {
        "persons": f"""
            select 'p' || lpad(cast(i as varchar), 10, '0') as person_key, 'h' || lpad(cast(i // 3 as varchar), 9, '0')
                as household_key, '140524' as county_code, '140524100' as township_code, '{VILLAGE}' as village_code,
                case i % 3 when 0 then 'head' when 1 then 'spouse' else 'son' end as relation,
                case i % 3 when 1 then 'female' else 'male' end as sex, 1980 as birth_year,
                case i % 3 when 2 then 12 else 40 end as age, true as id_valid, cast(null as varchar) as id_flags,
                'resident_id' as id_type, 'national' as identification_standard,
                case i % 3 when 2 then null else 'junior_secondary' end as education,
                case i % 3 when 2 then 'grade_7' end as school_status, false as send_teaching,
                true as health_healthy, false as health_chronic, false as health_serious_illness,
                false as health_disabled, case i % 3 when 2 then null else 'ordinary' end as labour_skill,
                cast(null as varchar) as migrant_status, cast(null as varchar) as work_location,
                cast(null as double) as work_months, true as resident_med_ins, false as employee_med_ins,
                true as critical_illness_ins, false as medical_assistance, true as pension_ins, false as dibao,
                false as tekun, false as public_welfare_job, 'bench' as source_file, i + 2 as source_row
            from range({n_hh * 3}) as r(i)""",
        "households": f"""
            select {hh} as household_key, '140524' as county_code, '140524100' as township_code,
                '{VILLAGE}' as village_code, 'registered' as household_type, 'ordinary' as household_attribute,
                'exited_supported' as poverty_status, 2018 as exit_year, 'illness' as main_cause,
                cast(null as varchar) as return_cause, cast(null as varchar) as monitoring_category,
                3 as household_size, 3 as household_size_annual, 3 as member_count, true as food_secure,
                true as clothing_secure, false as dilapidated, 'B' as housing_grade,
                'assessed_safe' as housing_secured_by, true as water_safe, false as water_scarce_area,
                60.0 as water_quantity_lpd, 'meets' as water_quality, true as water_piped,
                0.0 as water_fetch_minutes, 0.0 as water_horizontal_m, 0.0 as water_vertical_m,
                5.0 as water_outage_days, false as relocated, cast(null as varchar) as relocation_mode,
                cast(null as varchar) as relocation_site, cast(null as boolean) as relocation_settled,
                8000.0 as wage_income, 1500.0 as operating_income, 0.0 as property_income,
                500.0 as transfer_income, 1000.0 as production_cost, 10000.0 as gross_income,
                9000.0 as net_income, 3000.0 as per_capita_net_income, 3000.0 as per_capita_net_income_derived
            from range({n_hh}) as r(i)""",
        "pairings": f"""
            select {hh} as household_key, 'c' || cast(i // 3 as varchar) as cadre_id, '干部' as cadre_name,
                '13900000000' as cadre_phone, '教育局' as cadre_unit, date '2019-01-01' as start_date,
                cast(null as date) as end_date
            from range({n_hh}) as r(i)""",
        "findings": "select cast(null as varchar) as reason, cast(null as varchar) as household_key, "
                    "cast(null as varchar) as person_key where false",
        "regions": f"""
            select * from (values ('county', '140524', '陵川县', '1405'), ('township', '140524100', '崇文镇', '140524'),
                ('village', '{VILLAGE}', '甲村', '140524100')) as t(level, code, name, parent_code)""",
    }
    for name, query in tables.items():
        out = warehouse.partition_path(processed, name, None if name == "regions" else PERIOD)
        out.parent.mkdir(parents=True, exist_ok=True)
        con.execute(f"copy ({query}) to {warehouse.sql_literal(out)} (format parquet)")
    con.close()


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


def bench_validate(n_persons: int) -> dict:
    """Seconds for the suites on n_persons through DuckDB (SQL datasource) and pandas; ratio."""
    from pipelines.validate import gx_duckdb

    gx_duckdb.gx()
    loaded = suites.load_suites()
    work = Path(tempfile.mkdtemp(prefix="povmon-bench-validate-"))
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
