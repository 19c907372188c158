"""Tiny hand-built canonical tables for the risk stage, through the shared factory
(benchmarks/factory.py, which knows the canonical columns).

`city(tmp_path)` returns a builder: add households (with their members) and pairings per period,
then `write()` lays them out in processed_dir through pipelines.warehouse, with the shared
两不愁三保障 models (int_person_deprivations, int_household_deprivations) of each period beside
them, as `povmon validate` stores them; `run(period)` runs the risk stage with the builder's policy.
Defaults: a 2-person exited household in 2020 with 10 000 yuan per capita (above every line, all
of it wage income), two healthy insured working-age members with ordinary labour, nothing deprived.

The policy is the project's config with the lines injected (LINES): no test depends on the
live line figures, which analysts replace with official ones.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from benchmarks import factory
from pipelines import warehouse
from pipelines.policy import Policy, load_policy
from pipelines.risk.pipeline import run as run_risk

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


# what the risk tests assume of every household and member unless they say otherwise
HOUSEHOLD = {"housing_grade": "A", "exit_year": 2019}
MEMBER = {"age": 40, "labour_skill": "ordinary"}


class City:
    def __init__(self, root: Path, policy: Policy | None = None):
        self.processed = root / "processed"
        self.policy = policy or make_policy()
        self.households: dict[str, list[dict]] = {}
        self.persons: dict[str, list[dict]] = {}
        self.pairings: dict[str, list[dict]] = {}

    def household(self, period: str, key: str, *, pci: float | None = 10_000.0, members: int | list[dict] = 2,
                  **fields) -> dict:
        """Add a household (income given per capita; the factory derives the other income columns:
        net = pci x members, all of it wage unless a component is given) and its members."""
        spec = {"key": key, "village": fields.pop("village_code", VILLAGE), "per_capita_net_income": pci,
                "members": [{} for _ in range(members)] if isinstance(members, int) else members, **fields}
        row, people = factory.household(spec, period=period, defaults=HOUSEHOLD, member_defaults=MEMBER)
        self.households.setdefault(period, []).append(row)
        self.persons.setdefault(period, []).extend(people)
        return row

    def pairing(self, period: str, household_key: str, cadre_id: str, rank: str, *,
                start: date | None = date(2019, 1, 1), end: date | None = None, **fields) -> None:
        self.pairings.setdefault(period, []).append({
            "period": period, "household_key": household_key, "cadre_id": cadre_id,
            "cadre_name": f"干部{cadre_id}", "cadre_rank": rank, "start_date": start, "end_date": end} | fields)

    def write(self, *, deprivations: bool = True) -> Path:
        factory.write(self.processed, {table: [r for rows in data.values() for r in rows] for table, data in
                                       (("households", self.households), ("persons", self.persons),
                                        ("pairings", self.pairings))})
        if deprivations:
            for period in self.households:
                self.write_deprivations(period)
        return self.processed

    def write_deprivations(self, period: str) -> None:
        factory.store_deprivations(self.processed, period, self.policy)

    def run(self, period: str, **kwargs) -> dict:
        """Write the tables and run the risk stage for `period` with the builder's policy."""
        return run_risk(self.write(), period, policy=self.policy, **kwargs)

    def read(self, table: str, period: str):
        """An output partition as a pandas frame (risk: indexed by household_key)."""
        (path,) = warehouse.table_files(self.processed, table, [period])
        frame = pq.read_table(path).to_pandas()
        return frame.set_index("household_key", drop=False) if table == "risk" else frame


@pytest.fixture
def city(tmp_path) -> City:
    return City(tmp_path)


@pytest.fixture(scope="session")
def chromium() -> str:
    """Chromium for the 明白卡 PDF (make system-deps installs it)."""
    from pipelines.risk.cards import find_chromium

    path = find_chromium()
    if path is None:
        pytest.skip("no Chromium on this machine (make system-deps installs chromium and a CJK font)")
    return path
