"""Risk-stage benchmark: `bench_risk(n_persons)` generates two quarters of canonical tables with
the shared factory (benchmarks/factory.py: DuckDB range + hash columns, no generator needed),
with some households deprived, shocked or lapsing, and the shared 两不愁三保障 models stored beside
them (as validate does); then times the risk stage (risk, watch groups, assistance, transitions)
against a plain pandas baseline doing the core of the same job (income ratio against the lines,
members per household, previous-quarter join, write Parquet), in the same process. Reported,
never asserted: `python -m benchmarks.risk 100000`.
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import factory
from pipelines import warehouse

PERIODS = ("2020Q1", "2020Q2")

# what the risk stage has to find, beyond the factory's clean city; h(i, k) and hk(key, j, k) are
# pseudo-random integers 0..99 per household (member) and salt k
OVERRIDES = {
    "households": {
        "exit_year": "case when h(i, 1) < 85 and h(i, 2) >= 5 then 2019 end",
        "monitoring_category": "case when h(i, 4) < 5 then 'unstable_exited' end",
        "food_secure": "h(i, 5) > 1", "clothing_secure": "h(i, 6) > 1",
        "dilapidated": "h(i, 7) < 3", "housing_grade": "case when h(i, 7) < 3 then 'C' else 'A' end",
        "water_safe": "h(i, 8) > 2",
        "relocated": "h(i, 9) < 3", "relocation_settled": "case when h(i, 9) < 3 then h(i, 10) > 20 end",
        "medical_out_of_pocket": "cast(h(i, 12) * 300 as double)",
        "education_spending": "cast(h(i, 13) * 50 as double)",
    },
    "persons": {
        "age": "5 + hk(household_key, j, 1) % 70",
        "health_healthy": "hk(household_key, j, 2) > 10",
        "health_serious_illness": "hk(household_key, j, 3) < 3", "health_disabled": "hk(household_key, j, 4) < 4",
        "labour_skill": "case when hk(household_key, j, 5) < 70 then 'ordinary' else 'none' end",
        "migrant_status": "case when hk(household_key, j, 6) < 20 then 'out_of_province' end",
        "critical_illness_ins": "hk(household_key, j, 7) > 1",
    },
    "pairings": {"end_date": "case when h(i, 23) < 3 then date '2020-03-31' end"},
}


def pci(shift: int) -> str:
    """Income per capita, 3 000 - 32 700 yuan, lower by `shift` in a later quarter."""
    return f"cast(3000 + h(i, 11) * 300 - {int(shift)} as double)"


def synthesise(processed_dir: Path, n_persons: int) -> int:
    """Two quarters of households / persons / pairings (and regions) with their stored
    deprivation models; returns the households of a quarter."""
    for n, period in enumerate(PERIODS):
        counts = factory.write_generated(processed_dir, n_persons, period, pci=pci(400 * n), overrides=OVERRIDES,
                                         tables=("households", "persons", "pairings", "regions"))
        factory.store_deprivations(processed_dir, period)
    return counts["households"]


def pandas_baseline(processed_dir: Path, out_dir: Path) -> int:
    """Plain pandas: income / lines, members per household, previous-quarter drop, write Parquet."""
    import pandas as pd

    from pipelines.policy import load_policy

    lines = {role: v for y, role, v, _ in load_policy().lines.role_rows() if y == 2020}
    def read(table: str, period: str, columns: list[str] | None = None) -> pd.DataFrame:
        return pd.concat([pd.read_parquet(f, columns=columns)
                          for f in warehouse.table_files(processed_dir, table, [period])])

    cur = read("households", PERIODS[1])
    prev = read("households", PERIODS[0], ["household_key", "per_capita_net_income_derived"])
    persons = read("persons", PERIODS[1], ["household_key", "labour_skill"])
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
            "stage": "risk", "persons": households * factory.PERSONS_PER_HOUSEHOLD, "households": households,
            "seconds": risk_seconds, "baseline_seconds": base_seconds,
            "time_ratio": risk_seconds / base_seconds if base_seconds else None,
            "peak_rss_mb_after_risk": peak_after_risk, "peak_rss_mb": _peak_mb(),
            "tables": result["tables"],
        }


if __name__ == "__main__":
    for size in (int(a) for a in sys.argv[1:] or ["30000"]):
        print(bench_risk(size), flush=True)
