"""Tiny hand-built canonical tables (docs/data_contract.md §4) for the measures tests."""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines import criteria
import pandas as pd

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

HOUSEHOLD_DEFAULTS = dict(
    household_type="registered", household_attribute="ordinary", poverty_status="exited_supported",
    main_cause="illness", food_secure=True, clothing_secure=True, dilapidated=False, housing_grade="A",
    housing_secured_by=None, water_safe=True, water_scarce_area=False, water_quantity_lpd=50.0,
    water_quality="meets", water_piped=True, water_fetch_minutes=None, water_horizontal_m=None,
    water_vertical_m=None, water_outage_days=0.0, relocated=False, relocation_settled=None,
    per_capita_net_income=6000.0, per_capita_net_income_derived=6000.0,
)

PERSON_DEFAULTS = dict(
    relation="head", age=40, school_status=None, send_teaching=None, resident_med_ins=True,
    employee_med_ins=False, critical_illness_ins=True, health_healthy=True, health_chronic=False,
    health_serious_illness=False, health_disabled=False,
)


def _village(code: str) -> tuple:
    return next(v for v in VILLAGES if v[0] == code)


def make_households(specs: list[dict]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """households and persons frames from specs {key, village, size, members: [dict], ...}."""
    hh_rows, person_rows = [], []
    for spec in specs:
        spec = dict(spec)
        members = spec.pop("members", None)
        size = spec.pop("size", len(members) if members else 1)
        village = _village(spec.pop("village"))
        key = spec.pop("key")
        members = members or [{} for _ in range(size)]
        hh_rows.append({"period": PERIOD, "household_key": key, "county_code": village[2],
                        "township_code": village[1], "village_code": village[0], "household_size": size,
                        "household_size_annual": size, "member_count": len(members),
                        **HOUSEHOLD_DEFAULTS, **spec})
        for i, m in enumerate(members):
            person_rows.append({"period": PERIOD, "person_key": f"{key}-p{i}", "household_key": key,
                                "county_code": village[2], "township_code": village[1],
                                "village_code": village[0], **PERSON_DEFAULTS, **m})
    return pd.DataFrame(hh_rows), pd.DataFrame(person_rows)


def population_frame() -> pd.DataFrame:
    return pd.DataFrame([{"year": 2020, "village_code": v[0], "county_code": v[2], "township_code": v[1],
                          "village_name": v[3], "urban_rural_code": "220", "rural_population": v[4]}
                         for v in VILLAGES])


def regions_frame() -> pd.DataFrame:
    rows = [("county", "140521", "沁水县", "1405"), ("county", "140522", "阳城县", "1405"),
            ("township", "140521100", "甲镇", "140521"), ("township", "140521101", "乙镇", "140521"),
            ("township", "140522102", "润城镇", "140522")]
    rows += [("village", v[0], v[3], v[1]) for v in VILLAGES]
    return pd.DataFrame(rows, columns=["level", "code", "name", "parent_code"])


def survey_frame() -> pd.DataFrame:
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
    df = pd.DataFrame(rows, columns=["survey_household_key", "county_code", "village_code", "design_weight",
                                     "household_size", "per_capita_net_income"])
    df.insert(0, "period", PERIOD)
    df["registered"] = False
    return df


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


def load_tiny(con: duckdb.DuckDBPyConnection, specs: list[dict] | None = None, survey: bool = True) -> None:
    """Create households, persons, population, regions (and survey_households) on `con`."""
    households, persons = make_households(specs if specs is not None else standard_specs())
    frames = {"households": households, "persons": persons, "population": population_frame(),
              "regions": regions_frame()}
    if survey:
        frames["survey_households"] = survey_frame()
    for name, df in frames.items():
        con.register(f"_df_{name}", df)
        con.execute(f"create or replace table {name} as select * from _df_{name}")
        con.unregister(f"_df_{name}")
    criteria.household_deprivations(con)  # the shared criteria models (validate stores them)


def write_processed(processed_dir: Path, specs: list[dict] | None = None) -> Path:
    """The tiny tables as canonical Parquet partitions under processed_dir."""
    con = duckdb.connect()
    load_tiny(con, specs)
    for table in ("households", "persons", "survey_households", "population", "regions", "int_household_deprivations"):
        sub = processed_dir / table / (f"period={PERIOD}" if table not in ("population", "regions") else "")
        sub.mkdir(parents=True, exist_ok=True)
        con.execute(f"copy {table} to '{sub / 'data.parquet'}' (format parquet)")
    con.close()
    return processed_dir
