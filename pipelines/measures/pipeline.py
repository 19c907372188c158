"""Measures stage: canonical tables of one period -> the long `measures` table.

    run(processed_dir, period) reads the period's canonical tables (pipelines.warehouse.scan),
    computes every measure in DuckDB SQL (sql/*.sql, pipelines/criteria/sql/*.sql) and publishes
    the `measures` partition of the period (data.parquet + measures.csv, tidy, UTF-8 with BOM) in
    one warehouse transaction (pipelines.warehouse: one writer at a time, all or nothing).

Wiring only: each step is a function from nodes.py on an in-memory DuckDB connection.
"""

from __future__ import annotations

import time
from pathlib import Path

import duckdb

from pipelines import criteria, inert, warehouse
from pipelines import params
from pipelines.measures import nodes
from pipelines.periods import Period
from pipelines.policy import Policy, load_policy

ORDER_BY = ("data_source, region_level, region_code, population_group, measure, "
            "line_name nulls first, line_value nulls first")
MEASURES_COLUMNS = ("period", "region_level", "region_code", "region_name", "population_group",
                    "measure", "line_name", "line_value", "estimate", "std_error", "ci_low", "ci_high",
                    "n_unweighted", "n_weighted", "data_source", "design_df")


# ---- configuration ---------------------------------------------------------------------------

def sensitivity_lines(base_name: str, base_value: float, start_pct: int, stop_pct: int,
                      step_pct: int) -> dict[str, float]:
    """{f"{base}_pct_050": base x 50 / 100, ...} from start to stop percent inclusive."""
    return {f"{base_name}_pct_{pct:03d}": base_value * pct / 100
            for pct in range(start_pct, stop_pct + 1, step_pct)}


# ---- I/O at the edges --------------------------------------------------------------------------

CANONICAL = ("households", "persons", "survey_households", "population", "regions", "int_household_deprivations")
# the period's partition of these; the rest: every year (population) or no period (regions)
PERIOD_TABLES = ("households", "persons", "survey_households", "int_household_deprivations")
MADE_BY = {"int_household_deprivations": "validate"}  # inputs another stage writes


def load_canonical(con: duckdb.DuckDBPyConnection, processed_dir: Path, period: str) -> dict[str, bool]:
    """Views households, persons, survey_households, int_household_deprivations (the period's
    partition), population (every year; the SQL picks the period's) and regions on `con`.
    Returns {table: found}; only the survey may be missing."""
    found = {}
    for table in CANONICAL:
        source = warehouse.scan(processed_dir, table, period if table in PERIOD_TABLES else None)
        found[table] = source is not None
        if source is not None:
            con.execute(f"create or replace temp view {table} as select * from {source}")
    missing = [t for t in CANONICAL if t != "survey_households" and not found[t]]
    if missing:
        hints = "; ".join(f"run povmon {MADE_BY.get(t, 'ingest')} --period {period} first" if t in MADE_BY
                          else "run povmon ingest first" for t in missing[:1])
        raise FileNotFoundError(f"measures {period}: input {', '.join(missing)} for {period} not found under "
                                f"{processed_dir}: {hints}")
    criteria.check_covers(con, "measures", period)  # the stored household table is this ingest's
    return found


def write_csv_atomic(con: duckdb.DuckDBPyConnection, table: str, path: Path) -> None:
    """Tidy CSV (one row per estimate), UTF-8 with BOM so Excel opens the Chinese names; text
    that a spreadsheet would run as a formula gets a leading apostrophe (pipelines/inert.py)."""
    df = inert.csv_frame(con.sql(f"select {', '.join(MEASURES_COLUMNS)} from {table} order by {ORDER_BY}").df())
    with warehouse.atomic_path(path) as tmp:
        # CRLF line ends (RFC 4180): a field holding a bare CR or LF is then quoted, not a row break
        df.to_csv(tmp, index=False, encoding="utf-8-sig", float_format="%.12g", lineterminator="\r\n")


# ---- steps -----------------------------------------------------------------------------------

def _as_part(con, rel, name: str, source: str, *, group: str = "'all'", region: tuple[str, str] | None = None,
             measure: str = "measure") -> str:
    """Project a nodes.* result onto the measure_parts columns as temp table `name`."""
    level, code = ("domain_level", "domain_code") if region is None else (f"'{region[0]}'", f"'{region[1]}'")
    se = "std_error" if "std_error" in rel.columns else "cast(null as double)"
    line = ("line_name, line_value" if "line_name" in rel.columns
            else "cast(null as varchar) as line_name, cast(null as double) as line_value")
    rel.project(f"{level} as region_level, {code} as region_code, {group} as population_group, "
                f"{measure} as measure, {line}, estimate, {se} as std_error, n_unweighted, n_weighted, "
                f"'{source}' as data_source").to_table(name)
    return name


def survey_design(policy: Policy):
    """(Design, by column, by level) of the survey ingest loads ([survey].design); the sample
    city's design has one domain level (its counties)."""
    from pipelines.measures import design as svy

    name = policy.measures.survey.design
    if name is None:
        return (svy.Design(weight="design_weight * household_size", income="per_capita_net_income",
                           stratum="county_code", psu="village_code", lonely_psu=policy.measures.survey.lonely_psu,
                           total=("city", policy.city.code)), "county_code", "county")
    design = svy.from_policy(name, policy)
    domains = list((design.domains or {}).items())
    if len(domains) > 1:
        raise ValueError(f"config/surveys/{name}.toml [domains]: the measures stage estimates one domain level "
                         f"for the survey it ingests, got {len(domains)} (povmon survey estimates any number)")
    by_level, by = domains[0] if domains else (None, None)
    return design, by, by_level


def build_measures(con: duckdb.DuckDBPyConnection, period: str, has_survey: bool,
                   policy: Policy | None = None) -> dict:
    """Compute every measure from the canonical views on `con` (households, persons, population,
    regions, int_household_deprivations, survey_households when has_survey) into `measures_final`."""
    policy = policy or load_policy()
    cfg = policy.measures
    year = Period.parse(period).year
    city = ("city", policy.city.code)
    lines = {name: v.value for name, v in policy.lines.for_year(year, cfg.lines.named).items()}
    sens = cfg.sensitivity
    all_lines = dict(lines)
    if sens.base_line in lines:
        all_lines.update(sensitivity_lines(sens.base_line, lines[sens.base_line],
                                           sens.start_pct, sens.stop_pct, sens.step_pct))
    parts: list[str] = []

    # administrative incidence (registry)
    inc = nodes.administrative_incidence(con, year, city[1], policy.groups[cfg.incidence.poor_group])
    parts.append(_as_part(con, inc.project("*, 'registry_status' as line_name, cast(null as double) as line_value"),
                          "part_incidence", "registry", group="'registered'"))

    # registry incomes: FGT at named + sensitivity lines, Gini and mean, subgroup profile
    params.bind(con, policy, ["size_bands"])
    nodes.GRAPH.run(con, ["int_household_incomes"])
    fgt_reg = nodes.fgt(con, "int_household_incomes", all_lines, weight="persons", by="county_code",
                        by_level="county", total=city)
    parts.append(_as_part(con, fgt_reg, "part_fgt_registry", "registry"))
    parts.append(_as_part(con, nodes.gini(con, "int_household_incomes", weight="persons", by="county_code",
                                          by_level="county", total=city), "part_gini_registry", "registry"))
    for i, dim in enumerate(cfg.profile.dimensions):
        prof = nodes.fgt(con, "int_household_incomes", lines, weight="persons", by=dim, total=None)
        prof = prof.filter("measure in ('fgt0', 'fgt1', 'share_of_poor')")
        parts.append(_as_part(con, prof, f"part_profile_{i}", "registry",
                              group="domain_level || '=' || domain_code", region=city))

    # multidimensional (registry households, person-weighted) and water levels
    deprivations = "int_household_deprivations"  # stored by the validate stage
    md = cfg.multidimensional
    weights = {name: md.weights[name] for name in md.indicators}
    af = nodes.alkire_foster(con, deprivations, weights, md.cutoffs, weight="household_size",
                             by="county_code", by_level="county", total=city)
    parts.append(_as_part(con, af, "part_af", "registry"))
    water = nodes.water_levels(con, deprivations, weight="household_size", by="county_code",
                               by_level="county", total=city)
    parts.append(_as_part(con, water, "part_water", "registry"))

    # survey: design-based FGT / mean with SEs, the design's total and domains; Gini point estimate.
    # The design (config/surveys/<name>.toml, [survey].design) names the columns of survey_households.
    if has_survey:
        design, by, by_level = survey_design(policy)
        svy = nodes.survey_fgt(con, "survey_households", all_lines, stratum=design.stratum or "'1'",
                               psu=design.psu or "survey_household_key", weight=design.weight,
                               income=design.income, by=by, by_level=by_level, lonely_psu=design.lonely_psu,
                               total=design.total)
        parts.append(_as_part(con, svy, "part_fgt_survey", "survey"))
        named = ", ".join(warehouse.sql_literal(n) for n in lines)
        parts.append(_as_part(con, svy.filter(f"measure = 'fgt0' and line_name in ({named})"),
                              "part_incidence_survey", "survey", measure="'incidence_survey'"))
        parts.append(_as_part(con, nodes.gini(con, "survey_households", income=design.income,
                                              weight=design.weight, by=by, by_level=by_level,
                                              total=design.total).filter("measure = 'gini'"),
                              "part_gini_survey", "survey"))

    con.execute("create or replace temp table measure_parts as "
                + " union all ".join(f"select * from {p}" for p in parts))
    params.bind(con, policy, ["param_measures"], period=period)
    nodes.GRAPH.run(con, ["measures"])
    df = None
    if has_survey:  # the design's degrees of freedom (PSUs - strata), reported with each survey CI
        design, _, _ = survey_design(policy)
        stratum, psu = design.stratum or "'1'", design.psu or "survey_household_key"
        df = con.execute(f"select count(distinct ({stratum}, {psu})) - count(distinct {stratum}) "
                         "from survey_households").fetchone()[0]
    con.execute("create or replace temp table measures_final as select *, cast(case when data_source = 'survey' "
                f"then {'null' if df is None else int(df)} end as bigint) as design_df from measures")
    con.execute("drop table measures")
    return {"lines": lines, "sensitivity_lines": len(all_lines) - len(lines), "survey": has_survey}


def keep_surveys(con: duckdb.DuckDBPyConnection, processed_dir: Path, period: str) -> None:
    """Carry the rows `povmon survey` wrote (data_source 'survey:<name>') over into measures_final."""
    source = warehouse.scan(processed_dir, "measures", period)
    if source is None:
        return
    have = {r[0] for r in con.execute(f"describe select * from {source}").fetchall()}
    if "design_df" not in have:
        return  # written before survey-only runs existed: no survey:<name> row
    con.execute(f"insert into measures_final by name select {', '.join(MEASURES_COLUMNS)} from {source} "
                "where data_source like 'survey:%'")


def run(processed_dir: Path, period: str, policy: Policy | None = None) -> dict:
    """`povmon measures --period 2020Q2`: the period's partition of `measures` (+ measures.csv)."""
    policy = policy or load_policy()
    processed_dir = Path(processed_dir)
    period = str(Period.parse(period))
    started = time.perf_counter()
    with warehouse.transaction(processed_dir, stage="measures") as tx:
        con = tx.connect()
        try:
            con.execute("set threads = 1")  # deterministic float sums -> deterministic bytes
            found = load_canonical(con, processed_dir, period)
            survey_rows = (con.execute("select count(*) from survey_households").fetchone()[0]
                           if found["survey_households"] else 0)
            summary = build_measures(con, period, has_survey=survey_rows > 0, policy=policy)
            keep_surveys(con, processed_dir, period)
            tx.write_table(con, f"select {', '.join(MEASURES_COLUMNS)} from measures_final", "measures", period,
                           order_by=ORDER_BY)
            write_csv_atomic(con, "measures_final", tx.path("measures", period, name="measures.csv"))
            counts = dict(con.execute("select data_source, count(*) from measures_final group by 1 order by 1")
                          .fetchall())
            city_inc = con.execute("select estimate from measures_final where measure = 'incidence_administrative' "
                                   "and region_level = 'city'").fetchall()
        finally:
            con.close()
    threshold = policy.measures.incidence.below_one_in_ten_thousand
    return {
        "period": period,
        "output": str(tx.stable_path("measures", period)),
        "rows": counts,
        "city_incidence_administrative": nodes.format_incidence(city_inc[0][0] if city_inc else None,
                                                                threshold),
        "view_registered": "measures" in tx.views,
        "seconds": round(time.perf_counter() - started, 2),
        **summary,
        "survey_rows": survey_rows,
        **({"survey_warning": f"survey_households {period} holds no row (every survey row quarantined: see the "
                              "quarantine table); no survey estimate"} if found["survey_households"] and not survey_rows
           else {}),
    }
