"""Tiny hand-built canonical tables for the measures tests, through the shared factory
(benchmarks/factory.py, which knows the canonical columns and writes them through pipelines.warehouse)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from benchmarks import factory
from pipelines import criteria

PERIOD = "2020Q2"

# two counties; county 140521 has two townships; village 140522102201 has no poor persons
VILLAGES = [
    # village_code, township_code, county_code, name, rural_population (2020)
    ("140521100200", "140521100", "140521", "甲村", 1000),
    ("140521100201", "140521100", "140521", "乙村", 500),
    ("140521101200", "140521101", "140521", "丙村", 800),
    ("140522102200", "140522102", "140522", "润城村", 1200),
    ("140522102201", "140522102", "140522", "丁村", 300),
]
COUNTIES = {"140521": "沁水县", "140522": "阳城县"}
TOWNSHIPS = {"140521100": "甲镇", "140521101": "乙镇", "140522102": "润城镇"}

# what every measures household records unless a spec says otherwise (beyond the factory's clean
# defaults): housing grade A, 50 litres a day of water that meets the standard, 6 000 yuan per capita
HOUSEHOLD_DEFAULTS = dict(
    housing_grade="A", water_quantity_lpd=50.0, water_quality="meets", water_piped=True,
    water_outage_days=0.0, per_capita_net_income=6000.0,
)


def make_households(specs: list[dict]) -> tuple[list[dict], list[dict]]:
    """households and persons rows from specs {key, village, size, members: [dict], ...}."""
    households, persons = [], []
    for spec in specs:
        hh, members = factory.household(spec, period=PERIOD, defaults=HOUSEHOLD_DEFAULTS)
        households.append(hh)
        persons.extend(members)
    return households, persons


def population_rows() -> list[dict]:
    return factory.population_rows({v[0]: (v[3], v[4]) for v in VILLAGES}, year=2020)


def regions_rows() -> list[dict]:
    return factory.region_rows(COUNTIES, TOWNSHIPS, {v[0]: v[3] for v in VILLAGES})


def survey_rows() -> list[dict]:
    """A small stratified cluster sample: county 140521 has 3 PSUs, 140522 one (lonely)."""
    rows = [
        ("s1", "140521", "140521100200", 120.0, 3, 3500.0),
        ("s2", "140521", "140521100200", 120.0, 4, 5200.0),
        ("s3", "140521", "140521100201", 80.0, 2, 3900.0),
        ("s4", "140521", "140521100201", 95.0, 5, 8000.0),
        ("s5", "140521", "140521101200", 150.0, 1, 2500.0),
        ("s6", "140522", "140522102200", 60.0, 3, 4100.0),
        ("s7", "140522", "140522102200", 70.0, 2, 12000.0),
    ]
    names = ("survey_household_key", "county_code", "village_code", "design_weight", "household_size",
             "per_capita_net_income")
    return [dict(zip(names, r), registered=False) for r in rows]


def standard_specs() -> list[dict]:
    """A handful of registry households across all villages, with poor, returned and exited."""
    return [
        {"key": "h1", "village": "140521100200", "size": 3, "poverty_status": "poor",
         "per_capita_net_income": 3000.0, "per_capita_net_income_derived": 3000.0},
        {"key": "h2", "village": "140521100200", "size": 2, "poverty_status": "returned",
         "per_capita_net_income": 4200.0, "per_capita_net_income_derived": 4200.0, "main_cause": "disaster"},
        {"key": "h3", "village": "140521100201", "size": 4, "poverty_status": "exited_supported",
         "per_capita_net_income": 5500.0, "per_capita_net_income_derived": 5500.0},
        {"key": "h4", "village": "140521101200", "size": 1, "poverty_status": "poor",
         "per_capita_net_income": 2500.0, "per_capita_net_income_derived": 2500.0, "household_attribute": "tekun"},
        {"key": "h5", "village": "140522102200", "size": 5, "poverty_status": "poor",
         "per_capita_net_income": 3900.0, "per_capita_net_income_derived": 3900.0, "relocated": True,
         "relocation_settled": True, "housing_grade": "D"},
        {"key": "h6", "village": "140522102200", "size": 2, "poverty_status": "exited_unsupported",
         "per_capita_net_income": 9000.0, "per_capita_net_income_derived": 9000.0},
        {"key": "h7", "village": "140522102201", "size": 3, "poverty_status": "exited_supported",
         "per_capita_net_income": 7000.0, "per_capita_net_income_derived": 7000.0, "food_secure": False},
    ]


def tiny_tables(specs: list[dict] | None = None, survey: bool = True) -> dict[str, list[dict]]:
    households, persons = make_households(specs if specs is not None else standard_specs())
    tables = {"households": households, "persons": persons, "population": population_rows(),
              "regions": regions_rows()}
    if survey:
        tables["survey_households"] = survey_rows()
    return tables


def load_tiny(con: duckdb.DuckDBPyConnection, specs: list[dict] | None = None, survey: bool = True) -> None:
    """Create households, persons, population, regions (and survey_households) on `con`, and the
    shared criteria models (validate stores them in a real run)."""
    factory.load(con, tiny_tables(specs, survey), period=PERIOD)
    criteria.household_deprivations(con)


def write_processed(processed_dir: Path, specs: list[dict] | None = None) -> Path:
    """The tiny tables as canonical Parquet partitions under processed_dir, with the period's
    deprivation models as `povmon validate` stores them."""
    factory.write(processed_dir, tiny_tables(specs), period=PERIOD)
    factory.store_deprivations(processed_dir, PERIOD)
    return processed_dir
