"""Tiny hand-built canonical tables for the risk stage (docs/data_contract.md §4 columns).

`city(tmp_path)` returns a builder: add households (with their members) and pairings per period,
then `write()` lays them out as processed_dir/<table>/period=<p>/data.parquet, with the shared
两不愁三保障 model (int_household_deprivations) of each period beside them, as `povmon validate`
stores it; `run(period)` runs the risk stage with the builder's policy.
Defaults: a 2-person exited household in 2020 with 10 000 yuan per capita (above every line),
two healthy insured working-age members with ordinary labour, nothing deprived.

The policy is the project's config with the lines injected (LINES): no test depends on the
live line figures, which analysts replace with official ones.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines import warehouse
from pipelines.criteria import household_deprivations
from pipelines.policy import Policy, load_policy
from pipelines.risk.pipeline import run as run_risk

S, F, I, B, D = pa.string(), pa.float64(), pa.int64(), pa.bool_(), pa.date32()

HOUSEHOLD_SCHEMA = {
    "period": S, "household_key": S, "county_code": S, "township_code": S, "village_code": S,
    "household_type": S, "household_attribute": S, "poverty_status": S, "exit_year": I,
    "main_cause": S, "return_cause": S, "monitoring_category": S, "household_size": I,
    "household_size_annual": I, "member_count": I, "food_secure": B, "clothing_secure": B,
    "dilapidated": B, "housing_grade": S, "housing_secured_by": S, "water_safe": B,
    "water_difficult": B, "water_scarce_area": B, "water_quantity_lpd": F, "water_quality": S,
    "water_piped": B, "water_fetch_minutes": F, "water_horizontal_m": F, "water_vertical_m": F,
    "water_outage_days": F,
    "relocated": B, "relocation_settled": B, "wage_income": F, "operating_income": F,
    "property_income": F, "transfer_income": F, "production_cost": F, "gross_income": F,
    "net_income": F, "per_capita_net_income": F, "per_capita_net_income_derived": F,
    "medical_out_of_pocket": F, "education_spending": F,
}
PERSON_SCHEMA = {
    "period": S, "person_key": S, "household_key": S, "county_code": S, "township_code": S,
    "village_code": S, "relation": S, "age": I, "school_status": S, "send_teaching": B,
    "health_healthy": B, "health_chronic": B, "health_serious_illness": B, "health_disabled": B,
    "labour_skill": S, "migrant_status": S, "resident_med_ins": B, "employee_med_ins": B,
    "critical_illness_ins": B,
}
PAIRING_SCHEMA = {
    "period": S, "household_key": S, "cadre_id": S, "cadre_name": S, "cadre_phone": S,
    "cadre_unit": S, "cadre_rank": S, "start_date": D, "end_date": D,
}

COUNTY, TOWNSHIP, VILLAGE = "140524", "140524100", "140524100200"

# lines the tests rely on (yuan per person per year): national 4000, guideline 4500, monitoring
# 1.5 x national = 6000 in 2020; 2019: 3200 / 3700 / 4800
LINES = {
    "national": {"values": [{"year": 2019, "value": 3200, "status": "official"},
                            {"year": 2020, "value": 4000, "status": "official"}]},
    "provincial_guideline": {"values": [{"year": 2019, "value": 3700, "status": "official"},
                                        {"year": 2020, "value": 4500, "status": "official"}]},
    "monitoring": {"factor_of": "national", "factor": 1.5},
}


def make_policy(**overrides: dict) -> Policy:
    """The project's config with LINES injected, and any other {file: {section: value}} overrides."""
    return load_policy(overrides={"lines": LINES} | overrides)


def _table(rows: list[dict], schema: dict) -> pa.Table:
    unknown = {k for r in rows for k in r} - set(schema)
    assert not unknown, f"columns not in the test schema: {unknown}"
    return pa.table({c: pa.array([r.get(c) for r in rows], type=t) for c, t in schema.items()})


def write_deprivations(processed: Path, period: str, policy: Policy) -> None:
    """The period's int_household_deprivations partition from the shared criteria models, as
    `povmon validate` stores it (for tests that run risk without validate)."""
    with duckdb.connect() as con:
        for table in ("households", "persons"):
            con.execute(f"create view {table} as select * from {warehouse.scan(processed, table, period)}")
        household_deprivations(con, policy)
        warehouse.write_table(con, "int_household_deprivations", processed, "int_household_deprivations", period,
                              order_by="household_key")


class City:
    def __init__(self, root: Path, policy: Policy | None = None):
        self.processed = root / "processed"
        self.policy = policy or make_policy()
        self.households: dict[str, list[dict]] = {}
        self.persons: dict[str, list[dict]] = {}
        self.pairings: dict[str, list[dict]] = {}

    def household(self, period: str, key: str, *, pci: float | None = 10_000.0, members: int | list[dict] = 2,
                  **fields) -> dict:
        """Add a household (income given per capita; components scaled to match) and its members."""
        member_rows = ([{} for _ in range(members)] if isinstance(members, int) else members)
        n = len(member_rows)
        net = None if pci is None else pci * n
        row = {
            "period": period, "household_key": key, "county_code": COUNTY, "township_code": TOWNSHIP,
            "village_code": VILLAGE, "household_type": "registered", "poverty_status": "exited_supported",
            "exit_year": 2019, "household_size": n, "household_size_annual": n, "member_count": n,
            "food_secure": True, "clothing_secure": True, "dilapidated": False, "housing_grade": "A",
            "water_safe": True, "relocated": False, "wage_income": net, "operating_income": 0.0,
            "property_income": 0.0, "transfer_income": 0.0, "production_cost": 0.0, "gross_income": net,
            "net_income": net, "per_capita_net_income": pci, "per_capita_net_income_derived": pci,
            "medical_out_of_pocket": 0.0, "education_spending": 0.0,
        } | fields
        self.households.setdefault(period, []).append(row)
        for i, m in enumerate(member_rows):
            self.persons.setdefault(period, []).append({
                "period": period, "person_key": m.pop("person_key", f"{key}-p{i}"), "household_key": key,
                "county_code": row["county_code"], "township_code": row["township_code"],
                "village_code": row["village_code"], "relation": "head" if i == 0 else "spouse", "age": 40,
                "health_healthy": True, "health_chronic": False, "health_serious_illness": False,
                "health_disabled": False, "labour_skill": "ordinary", "resident_med_ins": True,
                "employee_med_ins": False, "critical_illness_ins": True,
            } | m)
        return row

    def pairing(self, period: str, household_key: str, cadre_id: str, rank: str, *,
                start: date | None = date(2019, 1, 1), end: date | None = None, **fields) -> None:
        self.pairings.setdefault(period, []).append({
            "period": period, "household_key": household_key, "cadre_id": cadre_id,
            "cadre_name": f"干部{cadre_id}", "cadre_phone": "13900000000", "cadre_unit": "县扶贫办",
            "cadre_rank": rank, "start_date": start, "end_date": end} | fields)

    def write(self, *, deprivations: bool = True) -> Path:
        for table, data, schema in (("households", self.households, HOUSEHOLD_SCHEMA),
                                    ("persons", self.persons, PERSON_SCHEMA),
                                    ("pairings", self.pairings, PAIRING_SCHEMA)):
            for period, rows in data.items():
                out = self.processed / table / f"period={period}" / "data.parquet"
                out.parent.mkdir(parents=True, exist_ok=True)
                pq.write_table(_table(rows, schema), out)
        if deprivations:
            for period in self.households:
                self.write_deprivations(period)
        return self.processed

    def write_deprivations(self, period: str) -> None:
        write_deprivations(self.processed, period, self.policy)

    def run(self, period: str, **kwargs) -> dict:
        """Write the tables and run the risk stage for `period` with the builder's policy."""
        return run_risk(self.write(), period, policy=self.policy, **kwargs)

    def read(self, table: str, period: str):
        """An output partition as a pandas frame (risk: indexed by household_key)."""
        frame = pq.read_table(self.processed / table / f"period={period}" / "data.parquet").to_pandas()
        return frame.set_index("household_key", drop=False) if table == "risk" else frame


@pytest.fixture
def city(tmp_path) -> City:
    return City(tmp_path)
