"""Tiny hand-built canonical tables (docs/data_contract.md §4) for validate tests, and one GX
import per session (pipelines.validate.gx_duckdb.gx() is cached per process)."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd
import pytest

COUNTY, TOWNSHIP_A, TOWNSHIP_B = "140524", "140524100", "140524101"
VILLAGE_A, VILLAGE_B = "140524100200", "140524101200"


def person(hh: str, pk: str, relation: str, sex: str, age: int, village: str = VILLAGE_A, **over) -> dict:
    row = {
        "person_key": pk, "household_key": hh, "county_code": village[:6], "township_code": village[:9],
        "village_code": village, "relation": relation, "sex": sex,
        "birth_year": 2020 - age, "age": age, "id_valid": True, "id_flags": None,
        "id_type": "resident_id", "identification_standard": "national", "education": "junior_secondary",
        "school_status": None, "dropout_reason": None, "send_teaching": False, "health_healthy": True,
        "health_chronic": False, "health_serious_illness": False, "health_disabled": False,
        "disability_type": None, "labour_skill": "ordinary", "migrant_status": None, "work_location": None,
        "work_months": None, "resident_med_ins": True, "employee_med_ins": False, "critical_illness_ins": True,
        "medical_assistance": False, "pension_ins": True, "dibao": False, "tekun": False,
        "public_welfare_job": False, "source_file": "registry/x.csv", "source_row": 2,
    }
    row.update(over)
    return row


def household(hh: str, village: str = VILLAGE_A, size: int = 3, **over) -> dict:
    row = {
        "household_key": hh, "county_code": village[:6], "township_code": village[:9], "village_code": village,
        "household_type": "registered", "household_attribute": "ordinary", "poverty_status": "exited_supported",
        "exit_year": 2018, "main_cause": "illness", "return_cause": None, "monitoring_category": None,
        "household_size": size, "household_size_annual": size, "member_count": size, "food_secure": True,
        "clothing_secure": True, "dilapidated": False, "housing_grade": "B", "housing_secured_by": "assessed_safe",
        "water_safe": True, "water_difficult": False, "water_scarce_area": False, "water_quantity_lpd": 60.0,
        "water_quality": "meets", "water_piped": True, "water_fetch_minutes": 0.0, "water_horizontal_m": 0.0,
        "water_vertical_m": 0.0, "water_outage_days": 5.0, "relocated": False, "relocation_mode": None,
        "relocation_site": None, "relocation_settled": None, "cultivated_land_mu": 3.0, "housing_area_m2": 80.0,
        "sanitary_toilet": True, "wage_income": 8000.0, "operating_income": 1500.0, "property_income": 0.0,
        "transfer_income": 500.0, "production_cost": 1000.0, "gross_income": 10000.0, "net_income": 9000.0,
        "per_capita_net_income": 3000.0, "per_capita_net_income_derived": 3000.0,
        "medical_out_of_pocket": 0.0, "education_spending": 0.0, "source_file": "registry/x.csv", "source_row": 2,
    }
    row.update(over)
    return row


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
                      "cadre_rank": "staff", "start_date": dt.date(2019, 1, 1), "end_date": None,
                      "resident_team": False, "source_file": "pairing/p.csv", "source_row": i + 2}
                     for i, (hh, _v) in enumerate(keys)],
        "findings": [],
        "regions": [
            {"level": "county", "code": COUNTY, "name": "陵川县", "parent_code": "1405"},
            {"level": "township", "code": TOWNSHIP_A, "name": "崇文镇", "parent_code": COUNTY},
            {"level": "township", "code": TOWNSHIP_B, "name": "礼义镇", "parent_code": COUNTY},
            {"level": "village", "code": VILLAGE_A, "name": "甲村", "parent_code": TOWNSHIP_A},
            {"level": "village", "code": VILLAGE_B, "name": "乙村", "parent_code": TOWNSHIP_B},
        ],
    }


FINDING_COLUMNS = ["source_kind", "source_file", "sheet", "source_row", "reason", "column_name", "detail",
                   "raw_value", "household_key", "person_key"]


def finding(reason: str, household_key: str, person_key: str | None = None) -> dict:
    return {"source_kind": "registry", "source_file": "registry/x.csv", "sheet": None, "source_row": 2,
            "reason": reason, "column_name": None, "detail": None, "raw_value": None,
            "household_key": household_key, "person_key": person_key}


# types of columns that may be all-NULL in a tiny table (default varchar)
NULL_TYPES = {"relocation_settled": "boolean", "end_date": "date", "work_months": "double", "source_row": "bigint"}


def write_city(processed_dir: Path, period: str, tables: dict) -> Path:
    """Canonical Parquet partitions like ingest writes them (no period column inside the file)."""
    con = duckdb.connect()
    for name, rows in tables.items():
        if name == "findings":
            frame = pd.DataFrame(rows, columns=FINDING_COLUMNS).astype(
                {c: "object" for c in FINDING_COLUMNS if c != "source_row"})
        else:
            frame = pd.DataFrame(rows)
        con.register("frame", frame)
        sub = processed_dir / name / ("" if name == "regions" else f"period={period}")
        sub.mkdir(parents=True, exist_ok=True)
        cast = ", ".join(f"cast({c} as {NULL_TYPES.get(c, 'varchar')}) as {c}" for c in frame.columns
                         if frame[c].isna().all() and c not in ("source_row",))
        select = f"select * replace ({cast}) from frame" if cast else "select * from frame"
        con.execute(f"copy ({select}) to '{sub / 'data.parquet'}' (format parquet)")
        con.unregister("frame")
    con.close()
    return processed_dir


@pytest.fixture
def city():
    """A fresh copy of the clean hand-built city (edit, then write_city)."""
    return copy.deepcopy(clean_city())
