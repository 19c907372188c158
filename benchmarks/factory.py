"""Canonical tables for tests and benchmarks, built from one description of their columns.

`COLUMNS` is the one place outside ingest that spells out the canonical tables of
docs/data_contract.md §4 (persons, households, pairings, survey_households, population, regions,
rectification, and ingest's findings, quarantine, ingest_manifest): each column's name and DuckDB type, in the
order ingest writes them. tests/bench/test_factory.py compares it with what a real ingest run
writes, so it cannot drift from the schema.

Small tables, by hand (tests):

    hh, members = household({"key": "h1", "village": "140521100200", "size": 3,
                             "poverty_status": "poor", "per_capita_net_income": 3500.0,
                             "members": [{}, {}, {"age": 9, "school_status": None}]})
    write(processed_dir, {"households": [hh], "persons": members}, period="2020Q2")

  Every column a row does not give takes its `DEFAULTS` value (a secured, exited household of
  healthy, insured adults above every line; water judged by the 饮水安全 flag alone, the detailed
  water measurements left NULL as in exports that lack them); location comes from the village code, sizes from
  the members, and the income identity (net = per capita x size, gross = net + cost, wage =
  gross - the other components) from whatever the spec gives.

Large tables, generated (benches):

    write_generated(processed_dir, n_persons=1_000_000, period="2020Q2")

  DuckDB SQL over range(): deterministic pseudo-random columns (hash of the row number; the same
  arguments give the same rows), clean by default (every data-quality rule and criterion holds),
  with SQL expressions overriding any column.

Every table reaches processed_dir through pipelines.warehouse.write_table, as a folder dropped into
it, then warehouse.recover imports what was written into a snapshot (so readers see it at once,
also in a warehouse a stage has already written).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from pipelines import warehouse
from pipelines.periods import Period


# ---- the schema, once --------------------------------------------------------------------------

@dataclass(frozen=True)
class Table:
    """A canonical table: partition column (None: not partitioned), key, columns {name: type}."""

    name: str
    partition: str | None
    key: tuple[str, ...]
    columns: dict[str, str]


def _table(name: str, partition: str | None, key: tuple[str, ...], spec: str) -> Table:
    pairs = [item.split() for item in spec.replace("\n", " ").split(",") if item.strip()]
    return Table(name, partition, key, {column: kind.upper() for column, kind in pairs})


_PROVENANCE = "source_file varchar, source_row bigint"
_TABLES = [
    _table("persons", "period", ("person_key",), f"""
        period varchar, person_key varchar, household_key varchar,
        county_code varchar, township_code varchar, village_code varchar,
        relation varchar, sex varchar, birth_year integer, age integer, id_valid boolean, id_flags varchar,
        id_type varchar, identification_standard varchar,
        education varchar, school_status varchar, dropout_reason varchar, send_teaching boolean,
        health_healthy boolean, health_chronic boolean, health_serious_illness boolean,
        health_disabled boolean, disability_type varchar, labour_skill varchar, migrant_status varchar,
        work_location varchar, work_months double,
        resident_med_ins boolean, employee_med_ins boolean, critical_illness_ins boolean,
        medical_assistance boolean, pension_ins boolean, dibao boolean, tekun boolean,
        public_welfare_job boolean, {_PROVENANCE}"""),
    _table("households", "period", ("household_key",), f"""
        period varchar, household_key varchar, county_code varchar, township_code varchar,
        village_code varchar, household_size integer, household_size_annual integer,
        household_type varchar, household_attribute varchar, poverty_status varchar, exit_year integer,
        main_cause varchar, return_cause varchar, monitoring_category varchar,
        risk_eliminated boolean, risk_identified_date date, risk_eliminated_date date,
        food_secure boolean, clothing_secure boolean, dilapidated boolean, housing_grade varchar,
        housing_secured_by varchar, water_safe boolean, water_difficult boolean,
        water_scarce_area boolean, water_quantity_lpd double, water_quality varchar, water_piped boolean,
        water_fetch_minutes double, water_horizontal_m double, water_vertical_m double,
        water_outage_days double, relocated boolean, relocation_mode varchar, relocation_site varchar,
        relocation_settled boolean, cultivated_land_mu double, housing_area_m2 double,
        sanitary_toilet boolean, road_type varchar,
        wage_income double, operating_income double, property_income double, transfer_income double,
        family_planning_transfer double, dibao_transfer double, tekun_transfer double,
        pension_transfer double, eco_compensation_transfer double, other_transfer double,
        production_cost double, gross_income double, net_income double, per_capita_net_income double,
        medical_out_of_pocket double, education_spending double,
        member_count integer, per_capita_net_income_derived double, {_PROVENANCE}"""),
    _table("pairings", "period", ("household_key", "cadre_id"), f"""
        period varchar, household_key varchar, cadre_id varchar, cadre_name varchar, cadre_sex varchar,
        cadre_phone varchar, cadre_unit varchar, cadre_affiliation varchar, cadre_rank varchar,
        cadre_political varchar, start_date date, end_date date, resident_team boolean, {_PROVENANCE}"""),
    _table("survey_households", "period", ("survey_household_key",), f"""
        period varchar, survey_household_key varchar, county_code varchar, village_code varchar,
        design_weight double, household_size integer, per_capita_net_income double, registered boolean,
        {_PROVENANCE}"""),
    _table("population", "year", ("village_code",), f"""
        year integer, village_code varchar, county_code varchar, township_code varchar,
        village_name varchar, urban_rural_code varchar, rural_population integer, {_PROVENANCE}"""),
    _table("regions", None, ("level", "code"), "level varchar, code varchar, name varchar, parent_code varchar"),
    _table("rectification", "period", ("household_key", "criterion"), """
        period varchar, household_key varchar, criterion varchar, completed_on date, measure_given boolean,
        unit_given boolean, source_file varchar, sheet varchar, source_row bigint"""),
    _table("projects", "period", ("project_key",), """
        period varchar, project_key varchar, project_id varchar, project_name varchar, project_type varchar,
        fund_source varchar, county_code varchar, township_code varchar, village_code varchar,
        planned double, received double, paid double, started_on date, completed_on date,
        stated_households integer, listed_households integer, registered_households integer,
        source_file varchar, sheet varchar, source_row bigint"""),
    _table("project_beneficiaries", "period", ("project_key", "beneficiary_key"), """
        period varchar, project_key varchar, beneficiary_key varchar, household_key varchar, person_key varchar,
        in_registry boolean, benefit varchar, source_file varchar, sheet varchar, source_row bigint"""),
    _table("findings", "period", ("source_file", "sheet", "source_row", "reason", "column_name"), """
        period varchar, source_kind varchar, source_file varchar, sheet varchar, source_row bigint,
        reason varchar, column_name varchar, detail varchar, raw_value varchar, household_key varchar,
        person_key varchar"""),
    _table("quarantine", "period", ("source_file", "sheet", "source_row", "reason"), """
        period varchar, source_kind varchar, source_file varchar, sheet varchar, source_row bigint,
        reason varchar, column_name varchar, detail varchar, fields varchar"""),
    _table("department_records", "period", ("department", "source_file", "sheet", "source_row"), """
        period varchar, department varchar, person_key varchar, village_code varchar, county_code varchar,
        category varchar, subcategory varchar, amount double, record_date date, source_file varchar,
        sheet varchar, source_row bigint"""),
    _table("ingest_manifest", None, ("source_file", "sheet"), """
        source_file varchar, source_kind varchar, period varchar, sha256 varchar, bytes bigint,
        encoding varchar, sheet varchar, header_row integer, rows_read bigint, rows_loaded bigint,
        rows_quarantined bigint, missing_columns varchar, unmapped_headers varchar, key_fingerprint varchar"""),
]
_TABLES += [  # the rectification tracker's lists (issue 16 part 2: data/raw/tasks)
    _table("tasks", "period", ("task_no",), """
        period varchar, task_no varchar, category varchar, description varchar, responsible_unit varchar,
        lead_official varchar, deadline date, completion_state varchar, completed_on date, source_file varchar,
        sheet varchar, source_row bigint"""),
    _table("instructions", "period", ("doc_no",), """
        period varchar, doc_no varchar, issued_on date, recipient varchar, content varchar, deadline date,
        completion_state varchar, completed_on date, source_file varchar, sheet varchar, source_row bigint"""),
]
_TABLES += [  # the valid IDs of each registry file, keyed (a county re-sent alone: docs/data_contract.md §5)
    _table("person_ids", "period", ("source_file", "person_key"), """
        period varchar, source_file varchar, person_key varchar, rows bigint"""),
]
TABLES: dict[str, Table] = {t.name: t for t in _TABLES}
CANONICAL = ("persons", "households", "pairings", "survey_households", "population", "regions", "rectification")
ACCOUNTING = ("findings", "quarantine", "ingest_manifest", "person_ids")
LEDGERS = ("projects", "project_beneficiaries")  # 项目账 (issue 16 part 3): written by hand in tests, never generated
LEDGERS += ("tasks", "instructions")  # the rectification tracker (issue 16 part 2): likewise
DEPARTMENTS = ("department_records",)  # department lists (issue 16): the crosscheck stage's input


def columns(table: str) -> list[str]:
    """The canonical columns of `table`, in the order ingest writes them."""
    return list(TABLES[table].columns)


# ---- defaults: a clean city ----------------------------------------------------------------------

PROVENANCE = {"source_file": "registry/x.csv", "source_row": 2}
DEFAULTS: dict[str, dict[str, object]] = {
    "persons": dict(
        relation="head", sex="male", age=40, id_valid=True, id_type="resident_id",
        identification_standard="national", education="junior_secondary", send_teaching=False,
        health_healthy=True, health_chronic=False, health_serious_illness=False, health_disabled=False,
        labour_skill="ordinary", resident_med_ins=True, employee_med_ins=False, critical_illness_ins=True,
        medical_assistance=False, pension_ins=True, dibao=False, tekun=False, public_welfare_job=False,
        **PROVENANCE),
    "households": dict(
        household_type="registered", household_attribute="ordinary", poverty_status="exited_supported",
        exit_year=2018, main_cause="illness", food_secure=True, clothing_secure=True, dilapidated=False,
        housing_grade="B", water_safe=True, water_difficult=False, water_scarce_area=False,
        relocated=False, cultivated_land_mu=3.0, housing_area_m2=80.0, sanitary_toilet=True,
        operating_income=0.0, property_income=0.0, transfer_income=0.0, production_cost=0.0,
        per_capita_net_income=10_000.0, medical_out_of_pocket=0.0, education_spending=0.0, **PROVENANCE),
    "pairings": dict(
        cadre_name="干部", cadre_phone="13900000000", cadre_unit="县扶贫办", cadre_affiliation="county",
        cadre_rank="staff", start_date=dt.date(2019, 1, 1), resident_team=False,
        source_file="pairing/x.csv", source_row=2),
    "survey_households": dict(design_weight=100.0, household_size=3, per_capita_net_income=10_000.0,
                              registered=False, source_file="survey/x.csv", source_row=2),
    "population": dict(urban_rural_code="220", rural_population=1000,
                       source_file="reference/农村户籍人口.csv", source_row=2),
    "regions": {},
    "rectification": dict(measure_given=True, unit_given=True, source_file="rectification/x.xlsx", sheet="乡镇",
                          source_row=3),
    "projects": dict(project_type="industry", fund_source="central", planned=0.0, received=0.0, paid=0.0,
                     listed_households=0, registered_households=0, source_file="projects/x.xlsx", sheet="项目清单",
                     source_row=3),
    "project_beneficiaries": dict(in_registry=True, source_file="projects/x.xlsx", sheet="受益户名单", source_row=2),
    "tasks": dict(category="inspection", completion_state="open", source_file="tasks/x.xlsx", sheet="台账",
                  source_row=3),
    "instructions": dict(completion_state="open", source_file="tasks/x.xlsx", sheet="指令", source_row=2),
    "findings": dict(source_kind="registry", **PROVENANCE),
    "quarantine": dict(source_kind="registry", fields="{}", **PROVENANCE),
    "ingest_manifest": dict(source_kind="registry", encoding="utf-8", header_row=1, rows_read=0,
                            rows_loaded=0, rows_quarantined=0, source_file="registry/x.csv"),
}
RELATIONS = (("head", "male"), ("spouse", "female"), ("son", "male"), ("daughter", "female"))


def row(table: str, values: Mapping[str, object] = {}) -> dict:
    """A full row of `table`: its DEFAULTS overlaid with `values` (a column it does not have is an error)."""
    cols = TABLES[table].columns
    unknown = sorted(set(values) - set(cols))
    if unknown:
        raise KeyError(f"{table} has no column {', '.join(unknown)} (canonical columns: benchmarks/factory.py)")
    return {c: None for c in cols} | DEFAULTS[table] | dict(values)


def _location(village: str) -> dict:
    """county, township and village codes of a 12-digit village code (统计用区划代码 prefixes)."""
    return {"county_code": village[:6], "township_code": village[:9], "village_code": village}


def _plus(*values):
    return None if any(v is None for v in values) else sum(values)


def household_row(key: str, village: str, *, size: int = 1, period: str | None = None, **fields) -> dict:
    """A household row: DEFAULTS, the village's codes, sizes, then `fields`; income columns not
    given follow the identity: net = per capita x household_size, gross = net + production_cost,
    wage = gross - operating - property - transfer (NULL when a part is NULL)."""
    base = {"household_key": key, **_location(village), "household_size": size,
            "household_size_annual": size, "member_count": size}
    if period is not None:
        base["period"] = period
    out = row("households", base | fields)
    if "per_capita_net_income_derived" not in fields:
        out["per_capita_net_income_derived"] = out["per_capita_net_income"]
    pci, n = out["per_capita_net_income"], out["household_size"]
    if "net_income" not in fields:
        out["net_income"] = None if pci is None or n is None else pci * n
    if "gross_income" not in fields:
        out["gross_income"] = _plus(out["net_income"], out["production_cost"])
    if "wage_income" not in fields:
        other = _plus(out["operating_income"], out["property_income"], out["transfer_income"])
        out["wage_income"] = None if out["gross_income"] is None or other is None else out["gross_income"] - other
    return out


def person_row(household_key: str, person_key: str, village: str, *, position: int = 0,
               period: str | None = None, **fields) -> dict:
    """A member row: DEFAULTS, relation and sex by position in the household (户主 male, 配偶
    female, then 之子 / 之女), birth year = period year - age unless given."""
    relation, sex = RELATIONS[min(position, 2) + (position > 2 and position % 2 == 1)]
    base = {"person_key": person_key, "household_key": household_key, **_location(village),
            "relation": relation, "sex": sex}
    if period is not None:
        base["period"] = period
    out = row("persons", base | fields)
    if "birth_year" not in fields and out["age"] is not None:
        year = Period.parse(out["period"]).year if out.get("period") else 2020
        out["birth_year"] = year - out["age"]
    return out


def household(spec: Mapping[str, object], *, period: str | None = None, defaults: Mapping[str, object] = {},
              member_defaults: Mapping[str, object] = {}) -> tuple[dict, list[dict]]:
    """A household and its members from a spec {key, village, size | members: [overrides], column: value}.

    `size` is household_size as recorded (default: the number of members); members default to
    `size` rows of `member_defaults`; person keys are `<key>-p<i>` unless a member gives one.
    `defaults` are household columns a test module wants for every spec (the spec wins)."""
    spec = dict(spec)
    key, village = spec.pop("key"), spec.pop("village")
    members = spec.pop("members", None)
    size = spec.pop("size", len(members) if members else 1)
    members = [dict(m) for m in members] if members else [{} for _ in range(size)]
    hh = household_row(key, village, size=size, period=period, **{"member_count": len(members), **defaults, **spec})
    people = [person_row(key, m.pop("person_key", f"{key}-p{i}"), village, position=i, period=period,
                         **{**member_defaults, **m}) for i, m in enumerate(members)]
    return hh, people


def region_rows(counties: Mapping[str, str], townships: Mapping[str, str], villages: Mapping[str, str]) -> list[dict]:
    """regions rows from {code: name} per level; parents from the code prefixes (city = county[:4])."""
    return ([{"level": "county", "code": c, "name": n, "parent_code": c[:4]} for c, n in counties.items()]
            + [{"level": "township", "code": t, "name": n, "parent_code": t[:6]} for t, n in townships.items()]
            + [{"level": "village", "code": v, "name": n, "parent_code": v[:9]} for v, n in villages.items()])


def population_rows(villages: Mapping[str, tuple[str, int]], year: int = 2020) -> list[dict]:
    """population rows from {village code: (name, rural population)} for one year."""
    return [row("population", {"year": year, **_location(v), "village_name": name, "rural_population": n})
            for v, (name, n) in villages.items()]


# ---- small tables: rows -> DuckDB / Parquet -----------------------------------------------------

_ARROW = {"VARCHAR": pa.string(), "DOUBLE": pa.float64(), "INTEGER": pa.int32(), "BIGINT": pa.int64(),
          "BOOLEAN": pa.bool_(), "DATE": pa.date32()}


def arrow_table(table: str, rows: Iterable[Mapping[str, object]], *, period: object = None) -> pa.Table:
    """Rows as an Arrow table with exactly the canonical columns and types (defaults filled in;
    the partition column set to `period` where a row has none)."""
    spec = TABLES[table]
    full = [row(table, r) for r in rows]
    if spec.partition == "period" and period is not None:
        for r in full:
            if r[spec.partition] is None:
                r[spec.partition] = period
    return pa.table({c: pa.array([r[c] for r in full], type=_ARROW[t]) for c, t in spec.columns.items()})


def load(con: duckdb.DuckDBPyConnection, tables: Mapping[str, Iterable[Mapping[str, object]]], *,
         period: object = None) -> None:
    """Create each table on `con` (create or replace) from its rows."""
    for name, rows in tables.items():
        con.register("_factory_rows", arrow_table(name, rows, period=period))
        con.execute(f"create or replace table {name} as select * from _factory_rows")
        con.unregister("_factory_rows")


def write(processed_dir: Path | str, tables: Mapping[str, Iterable[Mapping[str, object]]], *,
          period: object = None) -> Path:
    """Write each table's rows to processed_dir as ingest lays it out (a partition per period or
    year, ordered by its key), through pipelines.warehouse.write_table. With `period`, rows
    without one get it, and an empty list still writes that period's (empty) partition."""
    processed_dir = Path(processed_dir)
    with duckdb.connect() as con:
        for name, rows in tables.items():
            spec = TABLES[name]
            data = arrow_table(name, rows, period=period)
            order = [*spec.key, *(c for c in spec.columns if c not in spec.key)]
            con.register("rows", data)
            if spec.partition is None:
                warehouse.write_table(con, "rows", processed_dir, name, order_by=order)
            else:
                given = {period} if period is not None and spec.partition == "period" else set()
                values = set(data.column(spec.partition).to_pylist()) | given
                if None in values:
                    raise ValueError(f"{name}: a row has no {spec.partition} (give one, or period=)")
                for value in sorted(values):
                    warehouse.write_table(con, f"select * from rows where {spec.partition} = {_sql(value)}",
                                          processed_dir, name, value, key=spec.partition, order_by=order)
            con.unregister("rows")
    warehouse.recover(processed_dir)
    return processed_dir


def store_deprivations(processed_dir: Path | str, period: str, policy=None) -> None:
    """The period's int_person_deprivations and int_household_deprivations partitions from the
    shared criteria models, as `povmon validate` stores them (for runs without validate)."""
    from pipelines import criteria

    with duckdb.connect() as con:
        for table in ("households", "persons"):
            con.execute(f"create view {table} as select * from {warehouse.scan(processed_dir, table, period)}")
        criteria.household_deprivations(con, policy)
        for model in criteria.MODELS:
            warehouse.write_table(con, model, processed_dir, model, period, order_by=criteria.GRAPH.models[model].key)
    warehouse.recover(processed_dir)


# ---- large tables: generated in DuckDB SQL -------------------------------------------------------

COUNTIES = ("140502", "140521", "140522", "140524", "140525", "140581")  # 晋城市's six
TOWNSHIPS_PER_COUNTY = 5

# SQL per column over the unit table `_units(i, v, size, pci)` (household i in village v), the
# macros h(x, k) and hk(key, j, k) (pseudo-random 0..99 per row and salt) and, for persons, the
# household's columns and the member's position j. Columns not listed take DEFAULTS.
_GEOGRAPHY = {
    "county_code": f"{list(COUNTIES)}[v % {len(COUNTIES)} + 1]",
    "township_code": (f"{list(COUNTIES)}[v % {len(COUNTIES)} + 1] "
                      f"|| cast(100 + (v // {len(COUNTIES)}) % {TOWNSHIPS_PER_COUNTY} as varchar)"),
}
_GEOGRAPHY["village_code"] = (f"{_GEOGRAPHY['township_code']} "
                              f"|| cast(200 + v // {len(COUNTIES) * TOWNSHIPS_PER_COUNTY} as varchar)")
GENERATED: dict[str, dict[str, str]] = {
    "households": {
        "household_key": "'h' || lpad(cast(i as varchar), 10, '0')",
        **_GEOGRAPHY,
        "household_size": "size", "household_size_annual": "size", "member_count": "size",
        "household_type": "case when h(i, 1) < 85 then 'registered' else 'marginal' end",
        "poverty_status": ("case when h(i, 1) >= 85 then null when h(i, 2) < 5 then 'poor' "
                           "when h(i, 2) < 8 then 'returned' else 'exited_supported' end"),
        "exit_year": "case when h(i, 1) < 85 and h(i, 2) >= 5 then 2016 + h(i, 3) % 4 end",
        "main_cause": "case when h(i, 3) < 10 then 'disaster' when h(i, 3) < 40 then 'illness' else 'lack_skills' end",
        "return_cause": "case when h(i, 1) < 85 and h(i, 2) between 5 and 7 then 'illness' end",
        "wage_income": "pci * size * 0.6", "operating_income": "pci * size * 0.2",
        "transfer_income": "pci * size * 0.2", "gross_income": "pci * size", "net_income": "pci * size",
        "per_capita_net_income": "pci", "per_capita_net_income_derived": "pci",
        "source_row": "i + 2",
    },
    "persons": {
        "person_key": "household_key || '-p' || cast(j as varchar)",
        "household_key": "household_key", "county_code": "county_code", "township_code": "township_code",
        "village_code": "village_code",
        "relation": ("case when j = 0 then 'head' when j = 1 then 'spouse' when j % 2 = 0 then 'son' "
                     "else 'daughter' end"),
        "sex": "case when j = 0 or (j > 1 and j % 2 = 0) then 'male' else 'female' end",
        "age": "case when j < 2 then 30 + hk(household_key, j, 1) % 40 else 6 + hk(household_key, j, 1) % 10 end",
        "education": "case when j < 2 then 'junior_secondary' end",
        "school_status": ("case when j < 2 then null when 6 + hk(household_key, j, 1) % 10 < 12 then 'primary' "
                          "else 'grade_7' end"),
        "labour_skill": "case when j < 2 then 'ordinary' end",
        "source_row": "source_row",
    },
    "pairings": {
        "household_key": "household_key",
        "cadre_id": "'c' || lpad(cast(i // 8 as varchar), 8, '0')",
        "cadre_rank": "case when h(i, 21) < 30 then 'county_leader' else 'township_cadre' end",
        "source_row": "i + 2",
    },
    "survey_households": {
        "survey_household_key": "'s' || lpad(cast(i as varchar), 10, '0')",
        "county_code": "county_code", "village_code": "village_code", "design_weight": "50.0 + h(i, 31)",
        "household_size": "size", "per_capita_net_income": "pci", "registered": "h(i, 32) < 30",
        "source_row": "i + 2",
    },
}
PERSONS_PER_HOUSEHOLD = 3  # n_persons // 3 households; a `size` expression should average 3
SIZE = "3"  # persons per household unless a bench says otherwise (SQL over i)
PCI = "cast(3000 + h(i, 11) * 100 as double)"  # yuan per person per year, 3 000 - 12 900
SURVEY_EVERY = 50  # one surveyed household in SURVEY_EVERY


def _sql(value: object) -> str:
    """A Python value as a SQL literal."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, dt.date):
        return f"date '{value.isoformat()}'"
    return warehouse.sql_literal(value)


def _select(table: str, constants: Mapping[str, object], overrides: Mapping[str, str], source: str) -> str:
    """select <every canonical column, typed> from source: overrides, then GENERATED, then constants / DEFAULTS."""
    spec = TABLES[table]
    unknown = sorted(set(overrides) - set(spec.columns))
    if unknown:
        raise KeyError(f"{table} has no column {', '.join(unknown)}")
    fixed = DEFAULTS[table] | dict(constants)
    exprs = [f"cast({overrides.get(c) or GENERATED.get(table, {}).get(c) or _sql(fixed.get(c))} as {t}) as {c}"
             for c, t in spec.columns.items()]
    return "select\n    " + ",\n    ".join(exprs) + f"\nfrom {source}"


def _macros(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create or replace macro h(x, k) as cast(hash(x, k) % 100 as integer)")
    con.execute("create or replace macro hk(x, j, k) as cast(hash(x, j, k) % 100 as integer)")


def generate(con: duckdb.DuckDBPyConnection, n_persons: int, period: str, *, size: str = SIZE, pci: str = PCI,
             villages: int = 60, tables: Iterable[str] = CANONICAL + ("findings",),
             overrides: Mapping[str, Mapping[str, str]] = {}, views: bool = False) -> dict[str, int | None]:
    """Create generated canonical tables of about n_persons for `period` on `con` (named as the
    canonical ones; with `views`, temp views that generate their rows when read, so nothing but
    the households' units is held in memory). `size` and `pci` are SQL over the household number
    i (and the macro h(i, k)); `overrides` maps table -> {column: SQL}. Returns the rows per
    table (None for views)."""
    tables = tuple(tables)
    n_households = max(1, n_persons // PERSONS_PER_HOUSEHOLD)
    year = Period.parse(period).year
    _macros(con)
    con.execute(f"create or replace temp table _units as select i, i % {int(villages)} as v, "
                f"cast({size} as integer) as size, cast({pci} as double) as pci from range({n_households}) as t(i)")
    where = ", ".join(f"{GENERATED['households'][c]} as {c}"
                      for c in ("household_key", "county_code", "township_code", "village_code"))
    con.execute(f"create or replace temp table _hh as select u.*, {where}, i + 2 as source_row from _units as u")
    period_col = {"period": period}
    sources = {
        "households": ("_hh", period_col),
        "persons": ("(select _hh.*, unnest(range(size)) as j from _hh)", period_col),
        "pairings": ("_hh where h(i, 22) < 90", period_col),
        "survey_households": (f"_hh where i % {SURVEY_EVERY} = 0", period_col),
    }
    kind = "temp view" if views else "table"
    counts: dict[str, int | None] = {}
    for name in tables:
        if name in sources:
            source, constants = sources[name]
            query = _select(name, constants, overrides.get(name, {}), source)
        elif name == "regions":
            query = _regions_sql()
        elif name == "population":
            query = _population_sql(year, overrides.get(name, {}))
        elif name in ("findings", "quarantine", "rectification"):  # none: a clean city, no returned sheets
            query = f"{_select(name, period_col, overrides.get(name, {}), '_units')} where false"
        else:
            raise ValueError(f"generate: no generator for table {name}")
        if name == "persons" and "birth_year" not in overrides.get(name, {}):  # follows the age
            query = f"select * replace (cast({year} - age as integer) as birth_year) from ({query})"
        con.execute(f"create or replace {kind} {name} as {query}")
        counts[name] = None if views else con.execute(f"select count(*) from {name}").fetchall()[0][0]
    return counts


def _regions_sql() -> str:
    """Every county, township and village of the generated units (names are made up)."""
    return """
        select distinct 'county' as level, county_code as code, '县' || county_code as name,
            substr(county_code, 1, 4) as parent_code from _hh
        union all
        select distinct 'township', township_code, '镇' || township_code, county_code from _hh
        union all
        select distinct 'village', village_code, '村' || village_code, township_code from _hh"""


def _population_sql(year: int, overrides: Mapping[str, str]) -> str:
    source = ("(select village_code, any_value(county_code) as county_code, any_value(township_code) "
              "as township_code, 2 * sum(size) as persons, row_number() over (order by village_code) as i "
              "from _hh group by village_code)")
    return _select("population", {"year": year}, {
        "village_code": "village_code", "county_code": "county_code", "township_code": "township_code",
        "village_name": "'村' || village_code", "rural_population": "persons", "source_row": "i + 1",
        **overrides}, source)


def write_generated(processed_dir: Path | str, n_persons: int, period: str, *,
                    tables: Iterable[str] = CANONICAL + ("findings",), **kwargs) -> dict[str, int]:
    """generate() on a fresh connection, then each table to processed_dir through
    pipelines.warehouse.write_table (ordered by its key; the same arguments give the same bytes).
    Returns the rows per table."""
    counts = {}
    with duckdb.connect() as con:
        con.execute("set enable_progress_bar = false")
        for name in generate(con, n_persons, period, tables=tables, views=True, **kwargs):
            spec = TABLES[name]
            value = {"period": period, "year": Period.parse(period).year, None: None}[spec.partition]
            counts[name] = warehouse.write_table(con, name, processed_dir, name, value,
                                                 key=spec.partition or "period", order_by=list(spec.key))
    warehouse.recover(processed_dir)
    return counts
