"""A tiny hand-built warehouse for the report tests, written through the shared factory
(benchmarks/factory.py, which knows the canonical columns and fills the ones not given here).

Two quarters (2020Q1, 2020Q2) of ~80 seeded-random households in three counties, with persons,
pairings, population, regions, survey households and ingest side tables, then the committed
measures and risk stages run on it. Used until (and besides) the synthetic `ingested_city`.
"""

from __future__ import annotations

import random
from pathlib import Path

import duckdb

from benchmarks import factory

PERIODS = ("2020Q1", "2020Q2")
VILLAGES = [  # village, township, county, name, rural population 2020
    ("140521100200", "140521100", "140521", "甲村", 900),
    ("140521100201", "140521100", "140521", "乙村", 600),
    ("140521101200", "140521101", "140521", "丙村", 700),
    ("140522102200", "140522102", "140522", "润城村", 1200),
    ("140522102201", "140522102", "140522", "丁村", 400),
    ("140524100200", "140524100", "140524", "崇文村", 800),
]
TOWNSHIPS = {"140521100": "甲镇", "140521101": "乙镇", "140522102": "润城镇", "140524100": "崇文镇"}
COUNTIES = {"140521": "沁水县", "140522": "阳城县", "140524": "陵川县"}


def _households(rng: random.Random, period: str, n: int) -> tuple[list[dict], list[dict], list[dict]]:
    hh, persons, pairings = [], [], []
    late = period == "2020Q2"
    for i in range(n):
        v = VILLAGES[i % len(VILLAGES)]
        key = f"hh{i:03d}"
        size = rng.choice([1, 2, 3, 4, 5])
        status = rng.choices(["poor", "returned", "exited_supported", "exited_unsupported"],
                             [2 if late else 4, 1, 10, 3])[0]
        pci = round(rng.uniform(2500, 12000), 0) if status not in ("poor", "returned") else round(rng.uniform(2000, 5200), 0)
        net = pci * size
        wage = round(net * rng.uniform(0.2, 0.8), 0)
        transfer = round(net * rng.uniform(0.05, 0.3), 0)
        operating = net - wage - transfer
        grade = rng.choices(["A", "B", "C", "D"], [10, 5, 1, 1])[0]
        hh.append({
            "period": period, "household_key": key, "county_code": v[2], "township_code": v[1],
            "village_code": v[0], "household_type": "registered" if i % 9 else "marginal",
            "household_attribute": rng.choice(["ordinary", "ordinary", "dibao", "tekun"]),
            "poverty_status": status, "exit_year": None if status in ("poor", "returned") else 2018,
            "main_cause": rng.choice(["illness", "disability", "lack_labour", "disaster"]),
            "return_cause": "illness" if status == "returned" else None,
            "monitoring_category": "unstable_exited" if i % 11 == 0 else None,
            "household_size": size, "household_size_annual": size, "member_count": size,
            "food_secure": rng.random() > 0.03, "clothing_secure": True,
            "dilapidated": grade in ("C", "D"), "housing_grade": grade,
            "housing_secured_by": "renovated" if grade == "C" and late else None,
            "water_safe": rng.random() > 0.1, "water_difficult": False, "water_scarce_area": False,
            "water_quantity_lpd": rng.choice([50.0, 40.0, 30.0]), "water_quality": rng.choice(["meets", "meets", "basic"]),
            "water_piped": True, "water_fetch_minutes": None, "water_horizontal_m": None,
            "water_vertical_m": None, "water_outage_days": 5.0,
            "relocated": i % 13 == 0, "relocation_mode": "centralised" if i % 13 == 0 else None,
            "relocation_site": "county_town" if i % 13 == 0 else None,
            "relocation_settled": (late or i % 2 == 0) if i % 13 == 0 else None,
            "wage_income": wage, "operating_income": operating, "property_income": 0.0,
            "transfer_income": transfer, "production_cost": 0.0, "gross_income": net, "net_income": net,
            "per_capita_net_income": pci, "per_capita_net_income_derived": pci,
            "medical_out_of_pocket": rng.choice([0.0, 500.0, 25000.0]) if i % 7 == 0 else 0.0,
            "education_spending": 0.0,
        })
        for j in range(size):
            age = rng.randint(30, 70) if j == 0 else rng.randint(1, 80)
            child = 6 <= age <= 15
            migrant = rng.choice([None, None, "within_county", "out_of_province"]) if 16 <= age < 60 else None
            persons.append({
                "period": period, "person_key": f"{key}p{j}", "household_key": key, "county_code": v[2],
                "township_code": v[1], "village_code": v[0], "relation": "head" if j == 0 else "child",
                "sex": rng.choice(["male", "female"]), "age": age,
                "school_status": ("grade_7" if rng.random() > 0.05 else None) if child else None,
                "send_teaching": False, "health_healthy": True, "health_chronic": False,
                "health_serious_illness": rng.random() < 0.05, "health_disabled": rng.random() < 0.05,
                "labour_skill": "ordinary" if 16 <= age < 65 else "none",
                "migrant_status": migrant, "work_location": {"within_county": "本县", "out_of_province": "北京市"}.get(migrant),
                "work_months": float(rng.randint(3, 12)) if migrant else None,
                "resident_med_ins": rng.random() > 0.02, "employee_med_ins": False,
                "critical_illness_ins": True, "medical_assistance": False, "pension_ins": age >= 16,
                "dibao": hh[-1]["household_attribute"] == "dibao", "tekun": hh[-1]["household_attribute"] == "tekun",
                "public_welfare_job": False,
            })
        if i % 5:
            pairings.append({"period": period, "household_key": key, "cadre_id": f"c{i % 17:02d}",
                             "cadre_name": f"干部{i % 17}", "cadre_phone": "13900000000", "cadre_unit": "县扶贫办",
                             "cadre_rank": rng.choice(["county_leader", "section_level", "staff"])})
    return hh, persons, pairings


def build(processed: Path, seed: int = 11, households: int = 80, run_stages: bool = True) -> Path:
    """Write the tiny canonical tables under `processed` and run measures + risk for each period."""
    processed = Path(processed)
    for period in PERIODS:
        rng = random.Random(f"{seed}-{period}")
        hh, persons, pairings = _households(rng, period, households)
        survey = [{"survey_household_key": f"s{k}", "county_code": v[2], "village_code": v[0],
                   "design_weight": 50.0 + k, "household_size": 1 + k % 4,
                   "per_capita_net_income": 3000.0 + 700 * ((k * 7) % 11), "registered": k % 3 == 0}
                  for k, v in enumerate(VILLAGES * 3)]
        factory.write(processed, {
            "households": hh, "persons": persons, "pairings": pairings, "survey_households": survey,
            "quarantine": [{"source_row": 7, "reason": "missing_key", "column_name": "户编号", "detail": "empty"}],
            "findings": [{"source_row": 9, "reason": "id_checksum_invalid", "column_name": "证件号码",
                          "detail": "bad check", "household_key": "hh001", "person_key": "hh001p0"}],
        }, period=period)
    factory.write(processed, {
        "ingest_manifest": [{"source_file": f"registry/{period}/140521_沁水县.csv", "period": period,
                             "sha256": "0" * 64, "bytes": 1000, "rows_read": 101, "rows_loaded": 100,
                             "rows_quarantined": 1} for period in PERIODS],
        "population": factory.population_rows({v[0]: (v[3], v[4]) for v in VILLAGES}, year=2020),
        "regions": factory.region_rows(COUNTIES, TOWNSHIPS, {v[0]: v[3] for v in VILLAGES}),
    })
    duckdb.connect(str(processed / "povmon.duckdb")).close()
    if run_stages:
        run_stages_on(processed, PERIODS)
    return processed


def run_stages_on(processed: Path, periods) -> None:
    """The committed measures and risk stages, period by period (risk needs the previous quarter,
    and the shared 两不愁三保障 model validate would store)."""
    from pipelines.measures.pipeline import run as measures
    from pipelines.policy import load_policy
    from pipelines.risk.pipeline import run as risk

    policy = load_policy()
    for period in periods:
        factory.store_deprivations(processed, period, policy)
        measures(processed, period)
        risk(processed, period, policy=policy)


if __name__ == "__main__":
    import sys

    print(build(Path(sys.argv[1])))
