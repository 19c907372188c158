"""Risk-stage benchmark: `bench_risk(n_persons)` synthesises two quarters of canonical tables in
DuckDB (range + hash columns, no generator needed) with the shared 两不愁三保障 model stored beside
them (as validate does), then times the risk stage (risk, watch groups,
assistance, transitions) against a plain pandas baseline doing the core of the same job (income
ratio against the lines, members per household, previous-quarter join, write Parquet), in the same
process. Reported, never asserted: `python -m pipelines.risk.bench 100000`.
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from pipelines import warehouse

PERSONS_PER_HOUSEHOLD = 3
PERIODS = ("2020Q1", "2020Q2")

# canonical households / persons / pairings columns (docs/data_contract.md §4) from an integer i;
# h(i, k) is a deterministic pseudo-random integer 0..99 per household and salt k.
_HOUSEHOLDS = """
select
    '{period}' as period,
    'h' || cast(i as varchar) as household_key,
    '140524' as county_code,
    '140524' || cast(100 + i % 20 as varchar) as township_code,
    '140524' || cast(100 + i % 20 as varchar) || cast(200 + i % 50 as varchar) as village_code,
    case when h(i, 1) < 80 then 'registered' else 'marginal' end as household_type,
    cast(null as varchar) as household_attribute,
    case when h(i, 1) >= 80 then null when h(i, 2) < 5 then 'poor' when h(i, 2) < 8 then 'returned'
         else 'exited_supported' end as poverty_status,
    2019 as exit_year,
    case when h(i, 3) < 10 then 'disaster' when h(i, 3) < 40 then 'illness' else 'lack_skills' end as main_cause,
    case when h(i, 2) between 5 and 7 then 'illness' end as return_cause,
    case when h(i, 4) < 5 then 'unstable_exited' end as monitoring_category,
    {size} as household_size, {size} as household_size_annual, {size} as member_count,
    h(i, 5) > 1 as food_secure, h(i, 6) > 1 as clothing_secure, h(i, 7) < 3 as dilapidated,
    case when h(i, 7) < 3 then 'C' else 'A' end as housing_grade,
    cast(null as varchar) as housing_secured_by,
    h(i, 8) > 2 as water_safe, false as water_difficult, false as water_scarce_area,
    cast(null as double) as water_quantity_lpd, cast(null as varchar) as water_quality,
    cast(null as boolean) as water_piped, cast(null as double) as water_fetch_minutes,
    cast(null as double) as water_horizontal_m, cast(null as double) as water_vertical_m,
    cast(null as double) as water_outage_days,
    h(i, 9) < 3 as relocated, h(i, 10) > 20 as relocation_settled,
    cast(3000 + h(i, 11) * 300 + {shift} as double) * {size} * 0.6 as wage_income,
    cast(3000 + h(i, 11) * 300 + {shift} as double) * {size} * 0.2 as operating_income,
    0.0 as property_income,
    cast(3000 + h(i, 11) * 300 + {shift} as double) * {size} * 0.2 as transfer_income,
    0.0 as production_cost,
    cast(3000 + h(i, 11) * 300 + {shift} as double) * {size} as gross_income,
    cast(3000 + h(i, 11) * 300 + {shift} as double) * {size} as net_income,
    cast(3000 + h(i, 11) * 300 + {shift} as double) as per_capita_net_income,
    cast(3000 + h(i, 11) * 300 + {shift} as double) as per_capita_net_income_derived,
    cast(h(i, 12) * 300 as double) as medical_out_of_pocket,
    cast(h(i, 13) * 50 as double) as education_spending
from range({households}) as t(i)
"""

_PERSONS = """
select
    '{period}' as period,
    'p' || cast(i as varchar) as person_key,
    'h' || cast(i // {size} as varchar) as household_key,
    '140524' as county_code, cast(null as varchar) as township_code, cast(null as varchar) as village_code,
    case when i % {size} = 0 then 'head' else 'spouse' end as relation,
    cast(5 + hash(i) % 70 as integer) as age,
    cast(null as varchar) as school_status, false as send_teaching,
    hash(i, 1) % 100 > 10 as health_healthy, false as health_chronic,
    hash(i, 2) % 100 < 3 as health_serious_illness, hash(i, 3) % 100 < 4 as health_disabled,
    case when hash(i, 4) % 100 < 70 then 'ordinary' else 'none' end as labour_skill,
    case when hash(i, 5) % 100 < 20 then 'out_of_province' end as migrant_status,
    true as resident_med_ins, false as employee_med_ins, hash(i, 6) % 100 > 1 as critical_illness_ins
from range({persons}) as t(i)
"""

_PAIRINGS = """
select
    '{period}' as period,
    'h' || cast(i as varchar) as household_key,
    'c' || cast(i // 8 as varchar) as cadre_id,
    'cadre' as cadre_name, '13900000000' as cadre_phone, 'unit' as cadre_unit,
    case when hash(i, 9) % 100 < 30 then 'county_leader' else 'township_cadre' end as cadre_rank,
    date '2019-01-01' as start_date,
    case when hash(i, 10) % 100 < 3 then date '2020-03-31' end as end_date
from range({households}) as t(i)
where hash(i, 11) % 100 < 90
"""


def synthesise(processed_dir: Path, n_persons: int) -> int:
    """Write two quarters of households / persons / pairings partitions; returns households."""
    households = max(1, n_persons // PERSONS_PER_HOUSEHOLD)
    con = duckdb.connect()
    con.execute("create macro h(x, k) as cast(hash(x, k) % 100 as integer)")
    for n, period in enumerate(PERIODS):
        fmt = {"period": period, "households": households, "persons": households * PERSONS_PER_HOUSEHOLD,
               "size": PERSONS_PER_HOUSEHOLD, "shift": -400 * n}
        for table, sql in (("households", _HOUSEHOLDS), ("persons", _PERSONS), ("pairings", _PAIRINGS)):
            out = warehouse.partition_path(processed_dir, table, period)
            out.parent.mkdir(parents=True, exist_ok=True)
            con.execute(f"copy ({sql.format(**fmt)}) to {warehouse.sql_literal(out)} (format parquet)")
        _write_deprivations(con, processed_dir, period)
    con.close()
    return households


def _write_deprivations(con: duckdb.DuckDBPyConnection, processed_dir: Path, period: str) -> None:
    """The period's int_household_deprivations partition (what `povmon validate` stores)."""
    from pipelines.criteria import household_deprivations

    for table in ("households", "persons"):
        con.execute(f"create or replace view {table} as select * from {warehouse.scan(processed_dir, table, period)}")
    household_deprivations(con)
    warehouse.write_table(con, "int_household_deprivations", processed_dir, "int_household_deprivations", period,
                          order_by="household_key")


def pandas_baseline(processed_dir: Path, out_dir: Path) -> int:
    """Plain pandas: income / lines, members per household, previous-quarter drop, write Parquet."""
    import pandas as pd

    from pipelines.policy import load_policy

    lines = {role: v for y, role, v, _ in load_policy().lines.role_rows() if y == 2020}
    cur = pd.read_parquet(warehouse.partition_path(processed_dir, "households", PERIODS[1]))
    prev = pd.read_parquet(warehouse.partition_path(processed_dir, "households", PERIODS[0]),
                           columns=["household_key", "per_capita_net_income_derived"])
    persons = pd.read_parquet(warehouse.partition_path(processed_dir, "persons", PERIODS[1]),
                              columns=["household_key", "labour_skill"])
    capable = persons.assign(capable=persons.labour_skill.isin(["ordinary", "skilled"])) \
        .groupby("household_key").capable.sum().rename("capable_members")
    out = cur.merge(prev.rename(columns={"per_capita_net_income_derived": "prev"}), on="household_key", how="left") \
        .merge(capable, left_on="household_key", right_index=True, how="left")
    pci = out.per_capita_net_income_derived
    for role, value in lines.items():
        out[f"ratio_{role}"] = pci / value
    out["below_guideline"] = pci < lines["guideline"]
    out["income_drop_pct"] = (out.prev - pci) / out.prev
    out.sort_values("household_key").to_parquet(out_dir / "baseline.parquet")
    return len(out)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_risk(n_persons: int, tmp_dir: str | None = None) -> dict:
    """Time the risk stage vs the pandas baseline on n_persons synthetic persons (two quarters).

    Peak memory is the process's ru_maxrss (monotonic): read after the risk stage (which runs
    first) and again after the baseline.
    """
    from pipelines.risk.pipeline import run

    with tempfile.TemporaryDirectory(prefix="povmon-risk-bench-", dir=tmp_dir) as tmp:
        processed = Path(tmp) / "processed"
        households = synthesise(processed, n_persons)
        t0 = time.perf_counter()
        result = run(processed, PERIODS[1], previous=PERIODS[0])
        risk_seconds = time.perf_counter() - t0
        peak_after_risk = _peak_mb()
        t0 = time.perf_counter()
        pandas_baseline(processed, Path(tmp))
        base_seconds = time.perf_counter() - t0
        return {
            "stage": "risk", "persons": households * PERSONS_PER_HOUSEHOLD, "households": households,
            "seconds": risk_seconds, "baseline_seconds": base_seconds,
            "time_ratio": risk_seconds / base_seconds if base_seconds else None,
            "peak_rss_mb_after_risk": peak_after_risk, "peak_rss_mb": _peak_mb(),
            "tables": result["tables"],
        }


if __name__ == "__main__":
    for size in (int(a) for a in sys.argv[1:] or ["30000"]):
        print(bench_risk(size), flush=True)
