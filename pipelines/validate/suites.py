"""The expectation suites, as plain JSON in expectations/ (versioned, readable, byte-stable).

Two kinds, kept apart:
- data_quality.<table>: is the quarter fit to compute on? Blocking (severity critical), except
  plausibility rules (severity warning). Problems ingest already reported in `findings` are
  excluded by each rule (meta.known_findings) and counted separately by the pipeline.
- criteria.households: is each household secured (两不愁三保障 + 饮水安全)? One expectation per
  criterion on the shared criteria model's output table `int_household_deprivations`; a failure is a
  finding for the problem ledger, never an error.

Suites are generated from configuration (code_labels.toml for allowed codes, thresholds.toml
[ingest] for the income tolerance, validate.toml for ranges) by `python -m pipelines.validate.suites`
and committed. Runs only read the files (GX never writes them); a test checks the committed files
equal what the configuration generates. Expectation and suite ids are uuid5 of their names, so
regenerating gives the same bytes.

Expectations are dicts in GX 1.x's own JSON form ({"type", "kwargs", "meta", "severity", ...}),
so this module does not import great_expectations.
"""

from __future__ import annotations

import json
import re
import sys
import uuid
from pathlib import Path

from pipelines.config import EXPECTATIONS_DIR
from pipelines.policy import load_policy

NAMESPACE = uuid.UUID("5b0f4a52-8c0e-4d0e-9f0a-70766d6f6e00")  # fixed: stable ids
DQ_PREFIX = "data_quality."
CRITERIA_SUITE = "criteria.households"

# table -> batch (table in the validation database) for each suite
SUITE_TABLES = {
    "data_quality.persons": "persons",
    "data_quality.households": "households",
    "data_quality.pairings": "pairings",
    CRITERIA_SUITE: "int_household_deprivations",
}

PERSON_COLUMNS = (
    "period", "person_key", "household_key", "county_code", "township_code", "village_code", "relation",
    "sex", "birth_year", "age", "id_valid", "id_flags", "id_type", "identification_standard", "education",
    "school_status", "send_teaching", "health_healthy", "health_chronic", "health_serious_illness",
    "health_disabled", "labour_skill", "migrant_status", "work_location", "work_months", "resident_med_ins",
    "employee_med_ins", "critical_illness_ins", "medical_assistance", "pension_ins", "dibao", "tekun",
    "public_welfare_job", "source_file", "source_row",
)
HOUSEHOLD_COLUMNS = (
    "period", "household_key", "county_code", "township_code", "village_code", "household_type",
    "household_attribute", "poverty_status", "exit_year", "main_cause", "return_cause", "monitoring_category",
    "household_size", "household_size_annual", "member_count", "food_secure", "clothing_secure", "dilapidated",
    "housing_grade", "housing_secured_by", "water_safe", "water_scarce_area", "water_quantity_lpd",
    "water_quality", "water_piped", "water_fetch_minutes", "water_horizontal_m", "water_vertical_m",
    "water_outage_days", "relocated", "relocation_mode", "relocation_site", "relocation_settled",
    "wage_income", "operating_income", "property_income", "transfer_income", "production_cost",
    "gross_income", "net_income", "per_capita_net_income", "per_capita_net_income_derived",
)
PAIRING_COLUMNS = ("period", "household_key", "cadre_id", "cadre_name", "cadre_phone", "cadre_unit",
                   "start_date", "end_date")
# column -> code list in code_labels.toml
PERSON_CODES = {
    "relation": "relation", "sex": "sex", "id_type": "id_type", "identification_standard": "identification_standard",
    "education": "education", "school_status": "school_status", "labour_skill": "labour_skill",
    "migrant_status": "migrant_status",
}
HOUSEHOLD_CODES = {
    "household_type": "household_type", "household_attribute": "household_attribute",
    "poverty_status": "poverty_status", "main_cause": "cause", "return_cause": "cause",
    "monitoring_category": "monitoring_category", "housing_grade": "housing_grade",
    "housing_secured_by": "housing_secured_by", "water_quality": "water_grade",
    "relocation_mode": "relocation_mode", "relocation_site": "relocation_site",
}
NONNEGATIVE_INCOMES = ("wage_income", "property_income", "transfer_income", "production_cost", "gross_income")
# water level of the criteria model -> 饮水安全 label
WATER_LEVELS = {"safe": "安全", "basic": "基本安全", "unsafe": "不安全"}


# ---- building blocks -------------------------------------------------------------------------

def _known(reasons: list[str]) -> str:
    """SQL: the row's person or household carries one of the ingest finding reasons."""
    listed = ", ".join(f"'{r}'" for r in reasons)
    return f"f.reason in ({listed})"


def _not_reported(alias: str, key: str, reasons: list[str]) -> str:
    return (f"not exists (select 1 from findings as f where f.{key} = {alias}.{key} and {_known(reasons)})")


def expectation(kind: str, title: str, *, severity: str = "critical", known: list[str] | None = None,
                **kwargs) -> dict:
    """One expectation in GX JSON form; `title` (Chinese) is what the gate message and Data Docs say."""
    meta = {"title": title}
    if known:
        meta["known_findings"] = sorted(known)
    return {"type": kind, "kwargs": kwargs, "meta": meta, "severity": severity, "description": title}


def rows(title: str, query: str, **opts) -> dict:
    """UnexpectedRowsExpectation: the query lists the offending rows (works in DuckDB SQL).

    GX substitutes {batch} by an already aliased subquery (or by a bare one when the query has a
    join), so the batch is wrapped once more to take our own alias: `(select * from {batch}) as p`."""
    query = re.sub(r"\{batch\} as (\w+)", r"(select * from {batch}) as \1", query)
    return expectation("unexpected_rows_expectation", title, unexpected_rows_query=" ".join(query.split()),
                       **opts)


def codes(code_labels: dict, list_name: str) -> list[str]:
    """Allowed canonical codes of a code list (sorted)."""
    return sorted(code_labels[list_name])


# ---- the suites ------------------------------------------------------------------------------

def persons_suite(code_labels: dict, cfg: dict) -> list[dict]:
    r, pl = cfg["ranges"], cfg["plausibility"]
    exps = [
        expectation("expect_table_columns_to_match_set", "persons 表结构符合数据约定",
                    column_set=list(PERSON_COLUMNS), exact_match=False),
        *[expectation("expect_column_values_to_not_be_null", f"{c} 不为空", column=c)
          for c in ("person_key", "household_key", "village_code")],
        expectation("expect_column_values_to_be_unique", "人员键唯一", column="person_key"),
        rows("每个成员都属于一个户", "select p.* from {batch} as p where not exists "
             "(select 1 from households as h where h.household_key = p.household_key)"),
        *[expectation("expect_column_values_to_be_in_set", f"{c} 在代码表 [{lst}] 内", column=c,
                      value_set=codes(code_labels, lst)) for c, lst in PERSON_CODES.items()],
        rows("健康状况不为空", "select p.* from {batch} as p where not coalesce(p.health_healthy, false) "
             "and not coalesce(p.health_chronic, false) and not coalesce(p.health_serious_illness, false) "
             "and not coalesce(p.health_disabled, false) and "
             + _not_reported("p", "person_key", ["unknown_code_label"]), known=["unknown_code_label"]),
        rows("证件号码有效（未报告的无效证件）", "select p.* from {batch} as p where not coalesce(p.id_valid, false) and "
             + _not_reported("p", "person_key", ["id_checksum_invalid", "id_nonstandard_length",
                                                 "id_birthdate_mismatch"]),
             known=["id_birthdate_mismatch", "id_checksum_invalid", "id_nonstandard_length"]),
        expectation("expect_column_values_to_be_between", "年龄在合理范围", column="age",
                    min_value=r["age_min"], max_value=r["age_max"]),
        expectation("expect_column_values_to_be_between", "务工时间 0–12 个月", column="work_months",
                    min_value=r["work_months_min"], max_value=r["work_months_max"]),
        rows("务工所在地与务工时间同时填写或同时为空", "select p.* from {batch} as p "
             "where (nullif(trim(p.work_location), '') is null) <> (p.work_months is null)"),
        rows("城乡居民与城镇职工基本医疗保险互斥", "select p.* from {batch} as p "
             "where coalesce(p.resident_med_ins, false) and coalesce(p.employee_med_ins, false)"),
        rows("劳动年龄、非在校、健康却记为无劳动力/弱劳动力",
             "select p.* from {batch} as p where p.age between "
             f"{pl['working_age_min']} and {pl['working_age_max']} "
             "and (p.school_status is null or p.school_status = 'not_in_school') "
             "and coalesce(p.health_healthy, false) and p.labour_skill in ('none', 'weak')",
             severity="warning"),
        rows("无劳动力/丧失劳动力却有务工记录", "select p.* from {batch} as p "
             "where p.labour_skill in ('none', 'incapacitated') and p.migrant_status is not null",
             severity="warning"),
    ]
    return exps


def households_suite(code_labels: dict, cfg: dict, thresholds: dict) -> list[dict]:
    r = cfg["ranges"]
    tol = float(thresholds["ingest"]["income_identity_tolerance"])
    members = ("(select household_key, count(*) filter (where relation = 'head') as heads, "
               "count(*) filter (where relation = 'spouse') as spouses from persons group by household_key)")
    identity = ["income_identity_mismatch", "income_not_numeric", "income_negative"]
    return [
        expectation("expect_table_columns_to_match_set", "households 表结构符合数据约定",
                    column_set=list(HOUSEHOLD_COLUMNS), exact_match=False),
        *[expectation("expect_column_values_to_not_be_null", f"{c} 不为空", column=c)
          for c in ("household_key", "village_code")],
        expectation("expect_column_values_to_be_unique", "户键唯一", column="household_key"),
        rows("每户恰有一名户主", f"select h.* from {{batch}} as h left join {members} as m "
             "on m.household_key = h.household_key where coalesce(m.heads, 0) <> 1 and "
             + _not_reported("h", "household_key", ["multiple_heads", "no_head"]),
             known=["multiple_heads", "no_head"]),
        rows("每户至多一名配偶", f"select h.* from {{batch}} as h inner join {members} as m "
             "on m.household_key = h.household_key where m.spouses > 1 and "
             + _not_reported("h", "household_key", ["multiple_spouses"]), known=["multiple_spouses"]),
        rows("户主与配偶性别不同", "select h.* from {batch} as h where exists (select 1 from persons as a "
             "inner join persons as b on a.household_key = b.household_key where a.household_key = h.household_key "
             "and a.relation = 'head' and b.relation = 'spouse' and a.sex = b.sex) and "
             + _not_reported("h", "household_key", ["multiple_heads", "multiple_spouses", "id_sex_mismatch"]),
             known=["id_sex_mismatch", "multiple_heads", "multiple_spouses"]),
        rows("人数与成员行数一致", "select h.* from {batch} as h where h.household_size <> "
             "(select count(*) from persons as p where p.household_key = h.household_key) and "
             + _not_reported("h", "household_key", ["household_size_mismatch"]), known=["household_size_mismatch"]),
        expectation("expect_column_values_to_be_between", "人数在合理范围", column="household_size",
                    min_value=r["household_size_min"], max_value=r["household_size_max"]),
        rows("村代码存在于区划表", "select h.* from {batch} as h where not exists (select 1 from regions as g "
             "where g.level = 'village' and g.code = h.village_code)"),
        *[expectation("expect_column_values_to_be_in_set", f"{c} 在代码表 [{lst}] 内", column=c,
                      value_set=codes(code_labels, lst)) for c, lst in HOUSEHOLD_CODES.items()],
        *[rows(f"{c} 非负且在合理范围", f"select h.* from {{batch}} as h where (h.{c} < 0 or h.{c} > {r['income_max']}) "
               "and " + _not_reported("h", "household_key", ["income_negative"]), known=["income_negative"])
          for c in NONNEGATIVE_INCOMES],
        rows("年收入 = 工资性 + 生产经营性 + 财产性 + 转移性收入", "select h.* from {batch} as h where "
             f"abs(h.gross_income - (h.wage_income + h.operating_income + h.property_income + h.transfer_income)) > {tol} "
             "and " + _not_reported("h", "household_key", identity), known=identity),
        rows("纯收入 = 年收入 − 生产经营性支出", "select h.* from {batch} as h where "
             f"abs(h.net_income - (h.gross_income - h.production_cost)) > {tol} and "
             + _not_reported("h", "household_key", identity), known=identity),
        rows("人均纯收入 = 纯收入 ÷ 人口数", "select h.* from {batch} as h where "
             f"abs(h.per_capita_net_income - h.per_capita_net_income_derived) > {tol} and "
             + _not_reported("h", "household_key", identity), known=identity),
    ]


def pairings_suite() -> list[dict]:
    return [
        expectation("expect_table_columns_to_match_set", "pairings 表结构符合数据约定",
                    column_set=list(PAIRING_COLUMNS), exact_match=False),
        expectation("expect_compound_columns_to_be_unique", "户与帮扶责任人结对唯一",
                    column_list=["household_key", "cadre_id"]),
        rows("帮扶责任人联系电话为 11 位数字", "select p.* from {batch} as p where p.cadre_phone is not null "
             "and not regexp_full_match(p.cadre_phone, '[0-9]{{11}}')"),
        rows("结对户存在于户表", "select p.* from {batch} as p where not exists "
             "(select 1 from households as h where h.household_key = p.household_key)", severity="warning"),
    ]


def criteria_suite(cfg: dict) -> list[dict]:
    """One expectation per criterion on int_household_deprivations (the shared criteria model)."""
    labels = cfg["criteria"]
    exps = []
    for criterion in ("food", "clothing", "education", "medical", "housing"):
        e = rows(labels[criterion], f"select d.* from {{batch}} as d where d.{criterion}_deprived")
        e["meta"]["criterion"] = criterion
        exps.append(e)
    water = expectation("expect_column_values_to_be_in_set",
                        f"{labels['water']}（{WATER_LEVELS['safe']}/{WATER_LEVELS['basic']}，非{WATER_LEVELS['unsafe']}）",
                        column="water_level", value_set=["basic", "safe"])
    water["meta"].update(criterion="water", levels=WATER_LEVELS)
    exps.append(water)
    return exps


def build_suites(code_labels: dict | None = None, cfg: dict | None = None,
                 thresholds: dict | None = None) -> dict[str, dict]:
    """{suite name: suite JSON dict} from configuration, with stable uuid5 ids."""
    policy = load_policy()  # checked first: a suite is never generated from a bad config
    code_labels = code_labels or policy.raw("code_labels")
    cfg = cfg or policy.raw("validate")
    thresholds = thresholds or policy.raw("thresholds")
    bodies = {
        "data_quality.persons": persons_suite(code_labels, cfg),
        "data_quality.households": households_suite(code_labels, cfg, thresholds),
        "data_quality.pairings": pairings_suite(),
        CRITERIA_SUITE: criteria_suite(cfg),
    }
    suites = {}
    for name, exps in bodies.items():
        for i, e in enumerate(exps):
            e["id"] = str(uuid.uuid5(NAMESPACE, f"{name}/{i:03d}/{e['type']}/{e['meta']['title']}"))
            e["rendered_content"] = None  # keep GX's own key, always empty in the file
        suites[name] = {
            "name": name,
            "id": str(uuid.uuid5(NAMESPACE, name)),
            "meta": {"batch_table": SUITE_TABLES[name],
                     "kind": "data_quality" if name.startswith(DQ_PREFIX) else "criteria",
                     "generated_by": "python -m pipelines.validate.suites"},
            "notes": None,
            "expectations": exps,
        }
    return suites


def suite_text(suite: dict) -> str:
    """Canonical file text: sorted keys, 2-space indent, UTF-8 Chinese as is, final newline."""
    return json.dumps(suite, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def write_suites(directory: Path = EXPECTATIONS_DIR) -> list[Path]:
    """(Re)write expectations/<suite>.json; unchanged files are not touched."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, suite in build_suites().items():
        path = directory / f"{name}.json"
        text = suite_text(suite)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def load_suites(directory: Path = EXPECTATIONS_DIR) -> dict[str, dict]:
    """The committed suites {name: JSON dict}; refuses stale files (config changed since)."""
    expected = build_suites()
    found = {}
    for name, suite in expected.items():
        path = directory / f"{name}.json"
        if not path.exists():
            raise FileNotFoundError(f"{path} missing: run `python -m pipelines.validate.suites`")
        text = path.read_text(encoding="utf-8")
        if text != suite_text(suite):
            raise RuntimeError(f"{path} is out of date with the configuration: "
                               "run `python -m pipelines.validate.suites` and commit the result")
        found[name] = json.loads(text)
    return found


if __name__ == "__main__":
    for p in write_suites():
        print(p)
    sys.exit(0)
