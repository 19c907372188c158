"""Shared eligibility criteria (两不愁三保障 + 饮水安全, domain.md §4) as SQL models.

One definition of the per-household deprivation flags, read by the measures stage (Alkire–Foster,
water levels) and by the future validation stage: `sql/int_household_deprivations.sql`.
Python only binds the thresholds from config/thresholds.toml and runs the file.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines.config import load_toml

SQL_DIR = Path(__file__).parent / "sql"

_WATER_BASIC_FALLBACK = {
    # basic threshold -> meets threshold it falls back to when not configured
    "quantity_lpd_basic_rich": "quantity_lpd_meets_rich",
    "quantity_lpd_basic_scarce": "quantity_lpd_meets_scarce",
    "fetch_minutes_basic": "fetch_minutes_meets",
    "horizontal_m_basic": "horizontal_m_meets",
    "vertical_m_basic": "vertical_m_meets",
    "outage_days_basic": "outage_days_meets",
}


def criteria_params(thresholds: dict | None = None) -> dict[str, float]:
    """One row of thresholds for the criteria SQL, from thresholds.toml (basic water levels
    default to the meets levels when not configured)."""
    t = thresholds if thresholds is not None else load_toml("thresholds")
    water = dict(t["water"])
    for basic, meets in _WATER_BASIC_FALLBACK.items():
        water.setdefault(basic, water[meets])
    return {
        "compulsory_age_min": t["education"]["compulsory_age_min"],
        "compulsory_age_max": t["education"]["compulsory_age_max"],
        "newborn_exempt_below_age": t.get("medical", {}).get("newborn_exempt_below_age", 1),
        **{k: water[k] for k in sorted(water) if k.endswith(("_meets", "_basic", "_rich", "_scarce"))},
    }


def household_deprivations(con: duckdb.DuckDBPyConnection, thresholds: dict | None = None,
                           name: str = "int_household_deprivations") -> duckdb.DuckDBPyRelation:
    """Create table `name` from views `households` and `persons` (one period) on `con`:
    one row per household with the deprivation flags. Returns the table as a relation."""
    params = criteria_params(thresholds)
    cols = ", ".join(f"cast(? as double) as {k}" for k in params)
    con.execute(f"create or replace temp table criteria_params as select {cols}", list(params.values()))
    sql = (SQL_DIR / "int_household_deprivations.sql").read_text(encoding="utf-8")
    con.execute(f"create or replace temp table {name} as {sql}")
    return con.table(name)
