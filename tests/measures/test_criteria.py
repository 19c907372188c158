"""int_household_deprivations (pipelines/criteria): 两不愁三保障 + 饮水安全 flags, domain.md §4."""

from __future__ import annotations

import duckdb

from pipelines import criteria
from tiny_city import load_tiny

BASE = {"village": "140521100200"}


def _flags(specs):
    con = duckdb.connect()
    load_tiny(con, [{**BASE, **s} for s in specs], survey=False)
    rel = criteria.household_deprivations(con)
    cols = rel.columns
    return {row[cols.index("household_key")]: dict(zip(cols, row)) for row in rel.fetchall()}


def test_education_age_band_and_send_teaching():
    flags = _flags([
        {"key": "age15_out", "members": [{}, {"age": 15, "school_status": None}]},
        {"key": "age16_out", "members": [{}, {"age": 16, "school_status": None}]},
        {"key": "age6_preschool", "members": [{}, {"age": 6, "school_status": "preschool_education"}]},
        {"key": "age5_out", "members": [{}, {"age": 5, "school_status": None}]},
        {"key": "send_teaching", "members": [{}, {"age": 12, "school_status": None, "send_teaching": True}]},
        {"key": "in_school", "members": [{}, {"age": 12, "school_status": "grade_7"}]},
    ])
    assert flags["age15_out"]["education_deprived"] is True
    assert flags["age16_out"]["education_deprived"] is False
    assert flags["age6_preschool"]["education_deprived"] is True
    assert flags["age5_out"]["education_deprived"] is False
    assert flags["send_teaching"]["education_deprived"] is False
    assert flags["in_school"]["education_deprived"] is False


def test_medical_exactly_one_basic_insurance_and_critical_illness():
    flags = _flags([
        {"key": "ok", "members": [{}]},
        {"key": "both", "members": [{"employee_med_ins": True}]},
        {"key": "neither", "members": [{"resident_med_ins": False}]},
        {"key": "no_critical", "members": [{"critical_illness_ins": False}]},
        {"key": "newborn", "members": [{}, {"age": 0, "resident_med_ins": None, "critical_illness_ins": None}]},
    ])
    assert flags["ok"]["medical_deprived"] is False
    assert flags["both"]["medical_deprived"] is True
    assert flags["neither"]["medical_deprived"] is True
    assert flags["no_critical"]["medical_deprived"] is True
    assert flags["newborn"]["medical_deprived"] is False


def test_housing_grade_secured_and_relocation():
    flags = _flags([
        {"key": "c_unsecured", "housing_grade": "C"},
        {"key": "d_renovated", "housing_grade": "D", "housing_secured_by": "renovated"},
        {"key": "d_relocated", "housing_grade": "D", "relocated": True, "relocation_settled": True},
        {"key": "b", "housing_grade": "B"},
    ])
    assert flags["c_unsecured"]["housing_deprived"] is True
    assert flags["d_renovated"]["housing_deprived"] is False
    assert flags["d_relocated"]["housing_deprived"] is False
    assert flags["b"]["housing_deprived"] is False


def test_water_grades_and_levels():
    flags = _flags([
        {"key": "safe"},
        {"key": "scarce_25l", "water_scarce_area": True, "water_quantity_lpd": 25.0},
        {"key": "rich_25l", "water_quantity_lpd": 25.0},
        {"key": "rich_35l", "water_quantity_lpd": 35.0},
        {"key": "rich_34_9l", "water_quantity_lpd": 34.9},
        {"key": "rich_19_9l", "water_quantity_lpd": 19.9},
        {"key": "basic_quality", "water_quality": "basic"},
        {"key": "far", "water_piped": False, "water_fetch_minutes": 30.0, "water_horizontal_m": 900.0},
        {"key": "near_vertical", "water_piped": False, "water_fetch_minutes": 30.0, "water_vertical_m": 80.0},
        {"key": "outage_37", "water_outage_days": 37.0},
        {"key": "recorded_only", "water_quantity_lpd": None, "water_quality": None, "water_piped": None,
         "water_outage_days": None, "water_safe": False},
    ])
    assert flags["safe"]["water_level"] == "safe" and flags["safe"]["water_deprived"] is False
    assert flags["scarce_25l"]["water_quantity_grade"] == "meets"
    # water-rich area: meets from 35 L, basic from 20 L (config/thresholds.toml [water])
    assert flags["rich_35l"]["water_quantity_grade"] == "meets"
    assert flags["rich_34_9l"]["water_quantity_grade"] == "basic" and flags["rich_34_9l"]["water_deprived"] is False
    assert flags["rich_25l"]["water_quantity_grade"] == "basic"
    assert flags["rich_19_9l"]["water_quantity_grade"] == "fails" and flags["rich_19_9l"]["water_deprived"] is True
    assert flags["basic_quality"]["water_level"] == "basic"
    assert flags["basic_quality"]["water_deprived"] is False and flags["basic_quality"]["water_basic_only"] is True
    assert flags["far"]["water_convenience_grade"] == "fails"
    assert flags["near_vertical"]["water_convenience_grade"] == "meets"
    assert flags["outage_37"]["water_guarantee_grade"] == "fails"
    assert flags["recorded_only"]["water_level"] == "unsafe"


def test_food_clothing():
    flags = _flags([{"key": "hungry", "food_secure": False}, {"key": "unknown", "clothing_secure": None}])
    assert flags["hungry"]["food_deprived"] is True
    assert flags["unknown"]["clothing_deprived"] is None
