"""Tiny hand-built canonical tables for validate tests, through the shared factory
(benchmarks/factory.py, which knows the canonical columns and writes them through
pipelines.warehouse), and one GX import per session (pipelines.validate.gx_duckdb.gx() is cached
per process)."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from benchmarks import factory

COUNTY, TOWNSHIP_A, TOWNSHIP_B = "140524", "140524100", "140524101"
VILLAGE_A, VILLAGE_B = "140524100200", "140524101200"

# what every validate household records beyond the factory's clean defaults: the detailed water
# measurements, a housing assessment, and incomes whose identities hold (10 000 gross - 1 000
# cost = 9 000 net; 3 000 per capita) whatever the household's size
HOUSEHOLD = dict(
    housing_secured_by="assessed_safe", water_quantity_lpd=60.0, water_quality="meets", water_piped=True,
    water_fetch_minutes=0.0, water_horizontal_m=0.0, water_vertical_m=0.0, water_outage_days=5.0,
    wage_income=8000.0, operating_income=1500.0, property_income=0.0, transfer_income=500.0,
    production_cost=1000.0, gross_income=10000.0, net_income=9000.0, per_capita_net_income=3000.0,
)


def person(hh: str, pk: str, relation: str, sex: str, age: int, village: str = VILLAGE_A, **over) -> dict:
    return factory.person_row(hh, pk, village, relation=relation, sex=sex, age=age, **over)


def household(hh: str, village: str = VILLAGE_A, size: int = 3, **over) -> dict:
    return factory.household_row(hh, village, size=size, **(HOUSEHOLD | over))


def family(hh: str, village: str = VILLAGE_A) -> list[dict]:
    """户主 (m, 45), 配偶 (f, 43), 之子 (m, 12, 七年级)."""
    return [
        person(hh, f"{hh}-p1", "head", "male", 45, village),
        person(hh, f"{hh}-p2", "spouse", "female", 43, village),
        person(hh, f"{hh}-p3", "son", "male", 12, village, education=None, school_status="grade_7",
               labour_skill=None),
    ]


def clean_city() -> dict:
    """Four secured households in two townships: table name -> list of rows."""
    keys = [("h1", VILLAGE_A), ("h2", VILLAGE_A), ("h3", VILLAGE_B), ("h4", VILLAGE_B)]
    return {
        "persons": [p for hh, v in keys for p in family(hh, v)],
        "households": [household(hh, v) for hh, v in keys],
        "pairings": [{"household_key": hh, "cadre_id": f"c{i}", "cadre_name": f"干部{i}",
                      "cadre_phone": f"1390000000{i}", "cadre_unit": "教育局", "cadre_affiliation": "county",
                      "cadre_rank": "staff", "source_file": "pairing/p.csv", "source_row": i + 2}
                     for i, (hh, _v) in enumerate(keys)],
        "findings": [],
        "regions": factory.region_rows({COUNTY: "陵川县"}, {TOWNSHIP_A: "崇文镇", TOWNSHIP_B: "礼义镇"},
                                       {VILLAGE_A: "甲村", VILLAGE_B: "乙村"}),
    }


def finding(reason: str, household_key: str, person_key: str | None = None) -> dict:
    return {"reason": reason, "household_key": household_key, "person_key": person_key}


def write_city(processed_dir: Path, period: str, tables: dict) -> Path:
    """The tables as canonical Parquet partitions of `period` (regions: the whole table)."""
    return factory.write(processed_dir, tables, period=period)


@pytest.fixture
def city():
    """A fresh copy of the clean hand-built city (edit, then write_city)."""
    return copy.deepcopy(clean_city())
