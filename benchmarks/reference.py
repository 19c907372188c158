"""Yardsticks for the measures + risk stages (issue #12 part 3), over the same canonical Parquet:

    bind(con, processed_dir, period, previous, policy)   views + the small parameter tables
    run_reference(con)                                    benchmarks/reference_measures_risk.sql
    run_pandas(processed_dir, period, previous, policy)  the same columns with plain pandas

Both compute every number the two stages publish, written independently of the stages' model SQL:
measures' administrative incidence at every level, registry FGT0-2 by county and city at every line
(named + sensitivity), Gini and mean income, the profile by subgroup, Alkire-Foster (H, A, M0,
censored / uncensored headcounts, contributions), water-level shares, the survey's FGT0-2 and mean
income with linearised SEs and CIs (stratified cluster design, lonely PSUs), incidence_survey and the
survey Gini (in wide tables: measures' long table, region names and measures.csv are not built);
risk's whole tables: risk (every signal, level, reasons, category, watch group, 风险消除),
watch_group_counts, assistance_gaps, assistance_coverage, transitions and transition_matrix. The
rules of config/risk.toml are written out for the shipped configuration (SHIPPED_RISK; another is
refused), thresholds, lines, code lists and labels are bound from the policy.
tests/bench/test_reference.py checks at a small size that the numbers EQUAL the pipeline's (floats
within 1e-9), so the timing comparison in benchmarks/measures_risk.py is a fair one.
"""

from __future__ import annotations

import math
import statistics
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from pipelines import warehouse
from pipelines.measures.pipeline import sensitivity_lines, survey_design
from pipelines.periods import Period
from pipelines.policy import Policy

MICRO = Decimal("0.000001")
SCRIPT = Path(__file__).with_name("reference_measures_risk.sql")
OUTPUTS = ("ref_incidence", "ref_fgt", "ref_gini", "ref_transitions", "ref_matrix",
           "ref_profile", "ref_water", "ref_survey", "ref_af", "ref_af_uncensored", "ref_risk", "ref_watch_counts",
           "ref_gaps", "ref_coverage")
# the registry profile's dimensions, as the script unpivots them (config/measures.toml [profile])
PROFILE_DIMENSIONS = ("household_attribute", "main_cause", "size_band", "has_disabled_or_ill", "relocated")
# the Alkire-Foster indicators, as the script flags them (config/measures.toml [multidimensional])
AF_INDICATORS = ("food", "clothing", "education", "medical", "housing", "water")


# the households' columns the risk table reads or carries
RISK_COLUMNS = ["period", "household_attribute", "household_type", "exit_year", "main_cause", "return_cause",
                "monitoring_category", "relocated", "relocation_settled", "gross_income", "wage_income",
                "operating_income", "property_income", "transfer_income", "medical_out_of_pocket",
                "education_spending", "net_income"]
GAPS = ("food", "clothing", "education", "medical", "housing", "water")
# the rules of config/risk.toml the script writes out (signals, levels, bands, categories, watch groups,
# 风险消除, columns read, department cross-checks): risk_rules(policy) must equal this
SHIPPED_RISK = {
    "signals": ["below_national", "below_guideline", "near_threshold", "income_drop", "rigid_spending",
                "large_medical", "disaster_shock", "illness_disability", "no_labour", "high_transfer_share",
                "single_migrant_income", "relocation_unsettled", "gap_food", "gap_clothing", "gap_education",
                "gap_medical", "gap_housing", "gap_water", "xc_insured_not_enrolled", "xc_high_out_of_pocket",
                "xc_assistance_not_in_registry", "xc_assistance_not_in_civil", "xc_new_disability",
                "xc_child_not_on_roster", "xc_unsafe_housing_grade", "xc_water_not_covered", "xc_dead_in_registry"],
    "levels": [("high", ["below_national", "below_guideline", "income_drop", "rigid_spending", "disaster_shock"], 3),
               ("medium", ["near_threshold", "large_medical", "relocation_unsettled", "gap_food", "gap_clothing",
                           "gap_education", "gap_medical", "gap_housing", "gap_water"], 2),
               ("low", [], 1)],
    "bands": [("below_national", "national", "below_national"), ("below_guideline", "guideline", "below_guideline"),
              ("near_threshold", "monitoring", "near_threshold"), ("above_monitoring", "", None)],
    "categories": {"not_proposed_group": "poor", "exited_group": "exited",
                   "unstable_signals": ["income_drop", "rigid_spending", "large_medical", "disaster_shock",
                                        "relocation_unsettled", "single_migrant_income"],
                   "sudden_signals": ["income_drop", "rigid_spending", "large_medical", "disaster_shock"]},
    "watch_groups": [("not_exited", [{"status_group_in": ["poor"]}]),
                     ("monitored_exited", [{"category_in": ["unstable_exited"]}]),
                     ("marginal", [{"household_type_in": ["marginal"]}, {"category_in": ["marginal"]}]),
                     ("exited_below_guideline", [{"status_group_in": ["exited"], "below_line": "guideline"}]),
                     ("sudden_shock", [{"signals_any": ["disaster_shock", "income_drop", "rigid_spending",
                                                        "large_medical"]}, {"category_in": ["sudden_hardship"]}])],
    "elimination": (["rigid_spending", "large_medical", "gap_food", "gap_clothing", "gap_education", "gap_medical",
                     "gap_housing", "gap_water"], ["no_labour"]),
    "columns": (["per_capita_net_income_derived", "per_capita_net_income"], ["health_serious_illness", "health_disabled"],
                ["return_cause"], []),
    "requirements": [("poor_county_leader", {"status_group_in": ["poor"]}, ["county_leader"]),
                     ("below_guideline_cadre", {"below_line": "guideline"}, ["section_level", "township_cadre"]),
                     ("monitored_any", {"monitored": True}, [])],
}


def risk_rules(policy: Policy) -> dict:
    """The rules of config/risk.toml in SHIPPED_RISK's shape."""
    r = policy.risk
    return {"signals": [s.code for s in r.signal],
            "levels": [(lv.code, list(lv.any_of), lv.min_signals) for lv in r.levels],
            "bands": [(b.code, b.line, b.signal) for b in r.bands],
            "categories": r.categories.model_dump(),
            "watch_groups": [(g.code, [c.model_dump(exclude_none=True) for c in g.when]) for g in r.watch_groups],
            "elimination": (list(r.elimination.blocking_signals), list(r.elimination.keep_tracking_signals)),
            "columns": (list(r.income.columns), list(r.signals.illness_disability_columns),
                        list(r.signals.shock_cause_columns), list(r.signals.shock_flag_columns)),
            "requirements": [(q.code, q.applies_to.model_dump(exclude_none=True), list(q.ranks))
                             for q in r.assistance.requirements]}


def af_parameters(weights: dict, cutoffs: list) -> tuple[list[tuple], list[tuple]]:
    """(indicator, integer weight) rows (relative weights over their common denominator) and
    (k_name, k_num, k_den) rows: "any" = at least the smallest weight, else the share k."""
    fractions = {k: Fraction(v) if not isinstance(v, float) else Fraction(v).limit_denominator(10**6)
                 for k, v in weights.items()}
    lcm = math.lcm(*(f.denominator for f in fractions.values()))
    ints = {k: int(f * lcm) for k, f in fractions.items()}
    g = math.gcd(*ints.values())
    ints = {k: v // g for k, v in ints.items()}
    total = sum(ints.values())
    rows = []
    for k in cutoffs:
        if str(k).strip().lower() in ("any", "union"):
            rows.append(("k=any", min(v for v in ints.values() if v > 0), total))
        else:
            f = Fraction(k) if not isinstance(k, float) else Fraction(k).limit_denominator(10**6)
            rows.append((f"k={f}", f.numerator, f.denominator))
    return list(ints.items()), [(name, a // math.gcd(a, b), b // math.gcd(a, b)) for name, a, b in rows]


def parameters(policy: Policy, period: str, previous: str | None = None) -> dict[str, list[tuple]]:
    """The rows of the reference's parameter tables, from the policy (as the stages read it)."""
    year = Period.parse(period).year
    cfg = policy.measures
    named = {n: v.value for n, v in policy.lines.for_year(year, cfg.lines.named).items()}
    lines = dict(named)
    s = cfg.sensitivity
    if s.base_line in named:
        lines.update(sensitivity_lines(s.base_line, named[s.base_line], s.start_pct, s.stop_pct, s.step_pct))
    roles = [(role, value) for y, role, value, _ in policy.lines.role_rows() if y == year]
    sig = policy.risk.signals
    if tuple(cfg.profile.dimensions) != PROFILE_DIMENSIONS:
        raise ValueError(f"benchmarks/reference_measures_risk.sql profiles {PROFILE_DIMENSIONS}, "
                         f"config/measures.toml [profile] dimensions are {cfg.profile.dimensions}")
    if risk_rules(policy) != SHIPPED_RISK:
        changed = [k for k, v in risk_rules(policy).items() if SHIPPED_RISK[k] != v]
        raise ValueError(f"benchmarks/reference_measures_risk.sql writes out the shipped config/risk.toml rules; "
                         f"these differ: {', '.join(changed)}")
    md = cfg.multidimensional
    if tuple(md.indicators) != AF_INDICATORS:
        raise ValueError(f"benchmarks/reference_measures_risk.sql flags the indicators {AF_INDICATORS}, "
                         f"config/measures.toml [multidimensional] indicators are {md.indicators}")
    af_weights, af_cutoffs = af_parameters({n: md.weights[n] for n in md.indicators}, list(md.cutoffs))
    design = survey_design(policy)[0]
    shipped = ("county_code", "village_code", "design_weight * household_size", "per_capita_net_income",
               {"county": "county_code"})
    if (design.stratum, design.psu, design.weight, design.income, design.domains) != shipped:
        raise ValueError(f"benchmarks/reference_measures_risk.sql estimates the shipped survey design {shipped}, "
                         f"config/measures.toml [survey] design is {design}")
    z = statistics.NormalDist().inv_cdf(0.5 + cfg.survey.confidence_level / 2)
    bands = [(lo, hi, str(lo) if lo == hi else (f"{lo}+" if hi >= 99 else f"{lo}-{hi}"))
             for lo, hi in cfg.profile.size_bands]
    now = Period.parse(period)
    window = policy.risk.elimination.consecutive_quarters
    history = sorted({now.shift(-k) for k in range(window)} | {now.shift(-1), now.shift(-4)})
    return {
        "ref_run": [(year, policy.city.code)],
        "ref_quarters": [(str(q), q.year, q.year * 4 + q.quarter, q == now) for q in history],
        "ref_roles_by_year": [(y, role, value) for y, role, value, _ in policy.lines.role_rows()],
        "ref_thresholds": [(sig.income_drop_min, sig.rigid_spending_ratio, sig.large_medical_min, sig.transfer_share_min,
                            sig.single_migrant_wage_share_min, window,
                            policy.risk.assistance.max_households_per_cadre)],
        "ref_cadre_limits": list(policy.risk.assistance.max_households_by_rank.items()),
        "ref_labels": [(d, c, label) for d, c, label, _ in policy.labels.rows()]
                      + [("transition_status", c, label) for c, label in
                         [*policy.labels.of("poverty_status").items(),
                          ("not_registered", policy.risk.transitions.not_registered_label),
                          ("absent", policy.risk.transitions.absent_label)]],
        "ref_periods": [(str(now), str(Period.parse(previous)) if previous else str(now.previous), now.end_date)],
        "ref_lines": list(lines.items()),
        "ref_roles": roles,
        "ref_status": [(g, c) for g, codes in policy.groups.items() for c in codes],
        "ref_bands": [(i, b.code, b.line) for i, b in enumerate(policy.risk.bands, start=1)],
        "ref_codes": [("labour_capable", c) for c in sig.labour_capable]
                     + [("migrant_statuses", c) for c in sig.migrant_statuses]
                     + [("shock_causes", c) for c in sig.shock_causes],
        "ref_named_lines": list(named.items()),
        "ref_size_bands": bands,
        "ref_survey_run": [(*design.total, design.lonely_psu, z)],
        "ref_af_weights": af_weights,
        "ref_af_cutoffs": af_cutoffs,
    }


SURVEY_COLUMNS = ["county_code", "village_code", "design_weight", "household_size", "per_capita_net_income"]
SURVEY_NONE = "(cast(null as varchar), cast(null as varchar), cast(null as double), cast(null as integer), " \
              "cast(null as double))"
COLUMNS = {"ref_run": "year integer, city_code varchar", "ref_lines": "line_name varchar, line_value double",
           "ref_roles": "role varchar, value double", "ref_status": "group_name varchar, code varchar",
           "ref_bands": "band_order integer, code varchar, role varchar",
           "ref_codes": "list_name varchar, code varchar",
           "ref_named_lines": "line_name varchar, line_value double",
           "ref_size_bands": "min_size integer, max_size integer, label varchar",
           "ref_survey_run": "total_level varchar, total_code varchar, lonely_psu varchar, ci_z double",
           "ref_af_weights": "indicator varchar, weight bigint",
           "ref_af_cutoffs": "k_name varchar, k_num bigint, k_den bigint",
           "ref_quarters": "period varchar, year integer, quarter_index integer, is_current boolean",
           "ref_roles_by_year": "year integer, role varchar, value double",
           "ref_thresholds": "income_drop_min double, rigid_spending_ratio double, large_medical_min double, "
                             "transfer_share_min double, single_migrant_wage_share_min double, "
                             "consecutive_quarters integer, max_households_per_cadre integer",
           "ref_labels": "domain varchar, code varchar, label varchar",
           "ref_periods": "period varchar, previous_period varchar, period_end date",
           "ref_cadre_limits": "cadre_rank varchar, max_households integer"}
PAIRINGS_NONE = ("(select cast(null as varchar) as household_key, cast(null as varchar) as cadre_id, "
                 "cast(null as varchar) as cadre_rank, cast(null as date) as start_date, cast(null as date) as end_date "
                 "where false)")
CROSSCHECK_NONE = ("(select cast(null as varchar) as household_key, cast(null as varchar) as rule, "
                   "cast(null as varchar) as rule_label, cast(null as varchar) as department_label, "
                   "cast(null as date) as record_date where false)")


def bind(con: duckdb.DuckDBPyConnection, processed_dir: Path, period: str, previous: str,
         policy: Policy) -> None:
    """Views households, persons, households_prev, persons_prev, population and
    int_household_deprivations (validate's stored criteria: the water level) over the Parquet, and
    the parameter tables."""
    for name, table, part in (("households", "households", period), ("persons", "persons", period),
                              ("households_prev", "households", previous), ("persons_prev", "persons", previous),
                              ("population", "population", None),
                              ("int_household_deprivations", "int_household_deprivations", period),
                              ("survey_households", "survey_households", period)):
        source = warehouse.scan(processed_dir, table, part)
        if source is None and name == "survey_households":  # no survey this quarter: no survey estimate
            source = f"(select * from (values {SURVEY_NONE}) as s({', '.join(SURVEY_COLUMNS)}) where false)"
        con.execute(f"create or replace temp view {name} as select * from {source}")
    found = warehouse.scan(processed_dir, "pairings", period)
    con.execute(f"create or replace temp view pairings as select * from {found or PAIRINGS_NONE}")
    found = warehouse.scan(processed_dir, "crosscheck_findings", period)
    con.execute(f"create or replace temp view crosscheck_findings as select * from {found or CROSSCHECK_NONE}")
    params = parameters(policy, period, previous)
    periods = [q for q, *_ in params["ref_quarters"]]
    files = [f for q, f in warehouse.partitions(processed_dir, "households").items() if q in periods]
    con.execute(f"create or replace temp view households_history as select * from {warehouse.read_files(files)}")
    for name, rows in params.items():
        con.execute(f"create or replace temp table {name} ({COLUMNS[name]})")
        con.executemany(f"insert into {name} values ({', '.join('?' * len(rows[0]))})", rows)


def write_outputs(con: duckdb.DuckDBPyConnection, out_dir: Path) -> None:
    """Publish the reference's tables as the stages publish theirs: one Parquet file each, sorted by
    its key, deterministic bytes (the same writer, warehouse.write_parquet)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for table in OUTPUTS:
        warehouse.write_parquet(con, table, out_dir / f"{table}.parquet", order_by=KEYS[table])


def write_pandas_outputs(outputs: dict[str, pd.DataFrame], out_dir: Path) -> None:
    """The pandas baseline's tables as Parquet, sorted by their keys (pyarrow, no index)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for table in OUTPUTS:
        tidy(outputs[table], table).to_parquet(out_dir / f"{table}.parquet", index=False)


def run_reference(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Run the hand-written script; returns the rows of each output table."""
    for statement in SCRIPT.read_text(encoding="utf-8").split(";\n"):
        if statement.strip() and not all(line.startswith("--") for line in statement.strip().splitlines()):
            con.execute(statement).fetchall()
    return {t: con.execute(f"select count(*) from {t}").fetchall()[0][0] for t in OUTPUTS}


# ---- the pandas baseline: the same columns --------------------------------------------------------

def _read(processed_dir: Path, table: str, period: str | None, columns: list[str]) -> pd.DataFrame:
    files = warehouse.table_files(processed_dir, table, [period] if period else None)
    return pd.concat([pd.read_parquet(f, columns=columns) for f in files], ignore_index=True)


def _levels(frame: pd.DataFrame, city: str) -> pd.DataFrame:
    """Incidence: village rows -> every level."""
    out = []
    for level, column in (("village", "village_code"), ("township", "township_code"), ("county", "county_code")):
        g = frame.groupby(column).agg(poor_persons=("poor_persons", "sum"),
                                      rural_population=("rural_population", lambda s: s.sum(min_count=1)),
                                      missing=("rural_population", lambda s: s.isna().sum()))
        out.append(g.rename_axis("domain_code").reset_index().assign(domain_level=level))
    out.append(pd.DataFrame({"domain_level": ["city"], "domain_code": [city],
                             "poor_persons": [frame.poor_persons.sum()],
                             "rural_population": [frame.rural_population.sum(min_count=1)],
                             "missing": [frame.rural_population.isna().sum()]}))
    res = pd.concat(out, ignore_index=True)
    res["estimate"] = np.where(res.missing == 0, res.poor_persons / res.rural_population, np.nan)
    return res.drop(columns="missing")


def _round6(x: pd.Series) -> pd.Series:
    """DuckDB's round(x, 6) on doubles: the double's exact value rounded half away from zero
    (numpy's round(6) scales by 1e6 first and differs in the last digit for about 1 in 3 000
    incomes; Python's round() takes exact ties to even: 3.6640625 -> 3.664062, DuckDB 3.664063)."""
    x = x.astype(float)
    scaled = x.to_numpy() * 1e6
    out = np.sign(scaled) * np.floor(np.abs(scaled) + 0.5) / 1e6
    # the product is inexact by far less than 1e-6: only values this close to a tie need the exact rule
    near = np.abs(np.abs(scaled) % 1.0 - 0.5) < 1e-6
    out[near] = [float(Decimal(v).quantize(MICRO, rounding=ROUND_HALF_UP)) for v in x.to_numpy()[near]]
    return pd.Series(out, index=x.index)


def _gini(income: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    order = np.argsort(income, kind="stable")
    y, w = income[order], w[order]
    wy = w * y
    before = np.concatenate(([0.0], np.cumsum(wy)[:-1]))
    return 1.0 - float((w * (2.0 * before + wy)).sum() / (w.sum() * wy.sum())), float(wy.sum() / w.sum())


def run_pandas(processed_dir: Path, period: str, previous: str, policy: Policy) -> dict[str, pd.DataFrame]:
    """The reference's outputs computed with pandas (same names, same columns)."""
    p = parameters(policy, period, previous)
    year, city = p["ref_run"][0]
    groups = {c: g for g, c in p["ref_status"]}
    roles = dict(p["ref_roles"])
    codes = {name: {c for n, c in p["ref_codes"] if n == name} for name in ("labour_capable", "migrant_statuses")}
    hcols = ["household_key", "county_code", "township_code", "village_code", "poverty_status",
             "per_capita_net_income_derived", "per_capita_net_income", "household_size", "member_count"]
    hh = _read(processed_dir, "households", period, hcols + RISK_COLUMNS)
    hp = _read(processed_dir, "households", previous, hcols + ["monitoring_category"])
    pc = _read(processed_dir, "persons", period, ["person_key", "household_key", "county_code", "township_code",
                                                   "village_code", "labour_skill", "migrant_status",
                                                   "health_serious_illness", "health_disabled"])
    pp = _read(processed_dir, "persons", previous, ["person_key", "household_key"])
    pop = _read(processed_dir, "population", None, ["year", "county_code", "township_code", "village_code",
                                                    "rural_population"])
    out: dict[str, pd.DataFrame] = {}

    # household base
    pc["capable"] = pc.labour_skill.isin(codes["labour_capable"])
    pc["migrant"] = pc.migrant_status.isin(codes["migrant_statuses"])
    pc["ill"] = pc.health_serious_illness.fillna(False).astype(bool) | pc.health_disabled.fillna(False).astype(bool)
    members = pc.groupby("household_key").agg(members=("person_key", "size"), capable_members=("capable", "sum"),
                                              migrant_members=("migrant", "sum"), ill_or_disabled_members=("ill", "sum"))
    base = hh.join(members, on="household_key")
    base["status"] = base.poverty_status.fillna("not_registered")
    base["income"] = base.per_capita_net_income_derived.fillna(base.per_capita_net_income)
    base["persons"] = base.household_size.fillna(base.member_count).astype(float)
    base["persons_counted"] = base.member_count.fillna(base.members).fillna(base.household_size)

    # incidence
    poor_keys = hh.household_key[hh.poverty_status.isin([c for c, g in groups.items() if g == "poor"])]
    geo = ["county_code", "township_code", "village_code"]
    poor = pc[pc.household_key.isin(poor_keys)].groupby(geo).size().rename("poor_persons").reset_index()
    popv = pop[pop.year == year].groupby(geo, as_index=False).rural_population.sum()
    villages = poor.merge(popv, on="village_code", how="outer", suffixes=("", "_p"))
    for c in ("county_code", "township_code"):
        villages[c] = villages[c].fillna(villages[f"{c}_p"])
    villages["poor_persons"] = villages.poor_persons.fillna(0)
    out["ref_incidence"] = _levels(villages, city)

    # FGT by county and city at every line
    units = base.loc[base.income.notna() & base.persons.notna(), ["county_code", "income", "persons"]]
    inc, w = units.income.to_numpy(), units.persons.to_numpy()
    rows = []
    for name, z in p["ref_lines"]:
        gap = np.where(inc < z, (z - inc) / z, 0.0)
        f = pd.DataFrame({"county_code": units.county_code.to_numpy(), "w": w, "p0": w * (inc < z), "p1": w * gap,
                          "p2": w * gap * gap, "n": 1})
        s = f.groupby("county_code").sum()
        s.loc[city] = s.sum()
        s["domain_level"] = ["county"] * (len(s) - 1) + ["city"]
        rows.append(pd.DataFrame({"domain_level": s.domain_level, "domain_code": s.index, "line_name": name,
                                  "fgt0": s.p0 / s.w, "fgt1": s.p1 / s.w, "fgt2": s.p2 / s.w,
                                  "n_units": s.n, "w_total": s.w}))
    out["ref_fgt"] = pd.concat(rows, ignore_index=True)

    # Gini and mean
    gini = [("county", code, *_gini(g.income.to_numpy(), g.persons.to_numpy()))
            for code, g in units.groupby("county_code")]
    gini.append(("city", city, *_gini(inc, w)))
    out["ref_gini"] = pd.DataFrame(gini, columns=["domain_level", "domain_code", "gini", "mean_income"])

    # the risk table
    dep = _read(processed_dir, "int_household_deprivations", period,
                ["household_key", "county_code", "household_size", "water_level"]
                + [f"{i}_deprived" for i in AF_INDICATORS])
    out["ref_risk"] = _risk(base, p, _history(processed_dir, p["ref_quarters"]), dep,
                            _crosscheck(processed_dir, period))

    # transitions
    moves = pc[["person_key", "household_key"]].merge(pp, on="person_key", how="outer", suffixes=("_now", "_before"))
    moved = moves[moves.household_key_now.notna() & moves.household_key_before.notna()
                  & (moves.household_key_now != moves.household_key_before)]
    prev_members = pp.groupby("household_key").size().rename("members")
    pb = hp.join(prev_members, on="household_key")
    pb["status"] = pb.poverty_status.fillna("not_registered")
    pb["persons_counted"] = pb.member_count.fillna(pb.members).fillna(pb.household_size)
    pb["income"] = pb.per_capita_net_income_derived.fillna(pb.per_capita_net_income)
    side = ["household_key", "county_code", "township_code", "village_code", "status", "monitoring_category",
            "persons_counted", "income"]
    j = base[side + ["main_cause", "return_cause"]].merge(pb[side], on="household_key", how="outer",
                                                          suffixes=("_to", "_from"), indicator=True)
    presence = j._merge.map({"left_only": "appeared", "right_only": "disappeared", "both": "both"}).astype(str)
    split = j.household_key.isin(set(moved.household_key_now))
    merged = j.household_key.isin(set(moved.household_key_before))
    detail = np.select([(presence == "appeared") & split, presence == "appeared",
                        (presence == "disappeared") & merged, presence == "disappeared"],
                       ["split", "new", "merged", "gone"], default=None)
    fs, ts = j.status_from.fillna("absent"), j.status_to.fillna("absent")
    fg, tg = fs.map(groups), ts.map(groups)
    flow = np.select([(presence == "appeared") & (detail == "new") & (tg == "poor"), presence == "appeared",
                      presence == "disappeared", (fg == "poor") & (tg == "poor"), (fg == "poor") & (tg == "exited"),
                      (fg == "exited") & (tg == "poor"), (fs == "not_registered") & (tg == "poor"),
                      (fg == "exited") & (tg == "exited"), (fs == "not_registered") & (ts == "not_registered")],
                     ["newly_poor", "appeared", "disappeared", "stayed_poor", "exited", "returned_to_poverty",
                      "newly_poor", "stayed_exited", "stayed_not_registered"], default="other")
    fm, tm = j.monitoring_category_from, j.monitoring_category_to
    monitoring_flow = np.select(
        [fm.isna() & tm.notna(), fm.notna() & tm.isna() & (presence == "disappeared"),
         fm.notna() & tm.isna() & (tg == "poor"), fm.notna() & tm.isna(), fm.notna() & tm.notna() & (fm != tm),
         fm.notna()],
        ["entered_monitoring", "left_monitoring_gone", "left_monitoring_to_poverty", "risk_eliminated",
         "changed_category", "stayed_monitored"], default=None)
    risk = out["ref_risk"].set_index("household_key")
    change = j.income_to - j.income_from
    tr = pd.DataFrame({
        "period": period, "previous_period": previous, "household_key": j.household_key,
        **{c: j[f"{c}_to"].fillna(j[f"{c}_from"]) for c in ("county_code", "township_code", "village_code")},
        "presence": presence, "presence_detail": detail, "from_status": fs, "to_status": ts, "status_flow": flow,
        "from_monitoring_category": fm, "to_monitoring_category": tm, "monitoring_flow": monitoring_flow,
        "persons_from": j.persons_counted_from, "persons_to": j.persons_counted_to,
        "income_from": j.income_from, "income_to": j.income_to, "income_change": change,
        "income_change_pct": _round6((change / j.income_from).where(j.income_from > 0)),
        "main_cause": j.main_cause, "return_cause": j.return_cause,
        "risk_level": j.household_key.map(risk.risk_level), "reasons_text": j.household_key.map(risk.reasons_text)})
    out["ref_transitions"] = tr

    # transition matrix
    st_now = hh.set_index("household_key").poverty_status
    st_before = hp.set_index("household_key").poverty_status
    to = np.where(moves.household_key_now.isna(), "absent",
                  moves.household_key_now.map(st_now).fillna("not_registered"))
    fr = np.where(moves.household_key_before.isna(), "absent",
                  moves.household_key_before.map(st_before).fillna("not_registered"))
    pf = pd.DataFrame({"from_status": fr, "to_status": to}).groupby(["from_status", "to_status"]).size() \
        .rename("persons")
    hf = tr.assign(pf=tr.persons_from.fillna(0), pt=tr.persons_to.fillna(0)).groupby(["from_status", "to_status"]) \
        .agg(households=("household_key", "size"), persons_in_households_from=("pf", "sum"),
             persons_in_households_to=("pt", "sum"), mean_income_change=("income_change", "mean"))
    matrix = pd.concat([hf, pf], axis=1).reset_index()
    for c in ("households", "persons", "persons_in_households_from", "persons_in_households_to"):
        matrix[c] = matrix[c].fillna(0).astype("int64")
    status_label = {c: label for d, c, label in p["ref_labels"] if d == "transition_status"}
    out["ref_matrix"] = matrix.assign(period=period, previous_period=previous,
                                      from_status_label=matrix.from_status.map(status_label),
                                      to_status_label=matrix.to_status.map(status_label))

    risk = out["ref_risk"]
    out["ref_watch_counts"] = _watch_counts(risk, p, period)
    out["ref_gaps"] = _gaps(risk, _pairings(processed_dir, period), p, period)
    out["ref_coverage"] = _coverage(risk, out["ref_gaps"], p, period)
    out["ref_profile"] = _profile(base, p["ref_named_lines"], p["ref_size_bands"])
    out["ref_water"] = _water(dep, city)
    out["ref_af"], out["ref_af_uncensored"] = _af(dep, city, dict(p["ref_af_weights"]), p["ref_af_cutoffs"])
    if warehouse.table_files(processed_dir, "survey_households", [period]):
        survey = _read(processed_dir, "survey_households", period, SURVEY_COLUMNS)
        out["ref_survey"] = _survey(survey, p["ref_lines"], {n for n, _ in p["ref_named_lines"]},
                                    *p["ref_survey_run"][0])
    else:  # no survey this quarter: no survey estimate
        out["ref_survey"] = pd.DataFrame(columns=["domain_level", "domain_code", "measure", "line_name", "estimate",
                                                  "std_error", "ci_low", "ci_high", "n_units", "w_total", "design_df"])
    return out


def _ratios(long: pd.DataFrame, psus: pd.DataFrame, lonely_psu: str) -> pd.DataFrame:
    """Ratio means sum(w y) / sum(w) per (key, domain) with linearised SEs for a stratified cluster
    design, with replacement: z_i = w_i (y_i - R) / W in the domain, summed per PSU over every PSU
    of the sample (0 where the domain has no unit), var = sum_h n_h / (n_h - 1) sum_j (z_hj -
    mean_h)^2; a stratum of one PSU: centred at the mean of all PSU totals ('adjust') or none."""
    long = long.assign(wy=long.w * long.y)
    e = long.groupby(["key", "domain"]).agg(n_units=("w", "size"), w_total=("w", "sum"), wy=("wy", "sum"))
    e["estimate"] = e.wy / e.w_total.where(e.w_total != 0)
    f = long.join(e[["estimate", "w_total"]], on=["key", "domain"])
    f["z"] = f.w * (f.y - f.estimate) / f.w_total
    z = f.groupby(["key", "domain", "stratum", "psu"], dropna=False).z.sum().rename("z_sum").reset_index()
    grid = e.index.to_frame(index=False).merge(psus, how="cross")
    g = grid.merge(z, on=["key", "domain", "stratum", "psu"], how="left")
    g["z"] = g.z_sum.fillna(0.0)
    g = g.merge(psus.groupby("stratum", dropna=False).size().rename("n_h").reset_index(), on="stratum")
    g["z_mean"] = g.groupby(["key", "domain", "stratum"], dropna=False).z.transform("mean")
    g["z_grand"] = g.groupby(["key", "domain"]).z.transform("sum") / len(psus)
    g["v"] = np.where(g.n_h > 1, g.n_h / (g.n_h - 1.0) * (g.z - g.z_mean) ** 2,
                      (g.z - g.z_grand) ** 2 if lonely_psu == "adjust" else 0.0)
    e["std_error"] = np.sqrt(g.groupby(["key", "domain"]).v.sum())
    return e.reset_index()


def _survey(sv: pd.DataFrame, lines: list[tuple], named: set, total_level: str, total_code: str,
            lonely_psu: str, ci_z: float) -> pd.DataFrame:
    """The survey's FGT0-2 at every line and mean income (design-weighted, linearised SEs),
    incidence_survey and the Gini point estimate, for the design's total and its counties."""
    u = pd.DataFrame({"stratum": sv.county_code, "psu": sv.village_code,
                      "w": (sv.design_weight * sv.household_size).astype(float),
                      "income": sv.per_capita_net_income.astype(float), "county": sv.county_code})
    psus = u[["stratum", "psu"]].drop_duplicates().reset_index(drop=True)
    inc = u.income.to_numpy()
    keys, ys = [("mean_income", None)], [inc]
    for name, z in lines:
        gap = np.where(np.isnan(inc), np.nan, np.where(inc < z, (z - inc) / z, 0.0))
        keys += [("fgt0", name), ("fgt1", name), ("fgt2", name)]
        ys += [np.where(np.isnan(inc), np.nan, (inc < z) * 1.0), gap, gap * gap]
    n, k = len(u), len(keys)
    long = pd.DataFrame({"key": np.repeat(np.arange(k), n), "stratum": np.tile(u.stratum.to_numpy(), k),
                         "psu": np.tile(u.psu.to_numpy(), k), "w": np.tile(u.w.to_numpy(), k),
                         "county": np.tile(u.county.to_numpy(), k), "y": np.concatenate(ys)})
    long = long[long.y.notna() & long.w.notna()]
    parts = [_ratios(long.assign(domain=total_code), psus, lonely_psu).assign(domain_level=total_level),
             _ratios(long[long.county.notna()].assign(domain=lambda f: f.county), psus, lonely_psu)
             .assign(domain_level="county")]
    rows = pd.concat(parts, ignore_index=True).rename(columns={"domain": "domain_code"})
    rows["measure"] = rows.key.map(lambda i: keys[i][0])
    rows["line_name"] = rows.key.map(lambda i: keys[i][1])
    incidence = rows[(rows.measure == "fgt0") & rows.line_name.isin(named)].assign(measure="incidence_survey")
    known = u[u.income.notna() & u.w.notna()]
    gini = [(total_level, total_code, len(known), known.w.sum(), _gini(known.income.to_numpy(), known.w.to_numpy())[0])]
    gini += [("county", code, len(g), g.w.sum(), _gini(g.income.to_numpy(), g.w.to_numpy())[0])
             for code, g in known[known.county.notna()].groupby("county")]
    gini = pd.DataFrame(gini, columns=["domain_level", "domain_code", "n_units", "w_total", "estimate"]).assign(
        measure="gini", line_name=None, std_error=np.nan)
    out = pd.concat([rows, incidence, gini], ignore_index=True)
    se = out.std_error
    out["ci_low"] = np.where(se.notna(), np.maximum(0.0, out.estimate - ci_z * se), np.nan)
    high = out.estimate + ci_z * se
    out["ci_high"] = np.where(out.measure == "mean_income", high, np.minimum(1.0, high))
    out["design_df"] = len(psus) - psus.stratum.nunique(dropna=False)
    return out[["domain_level", "domain_code", "measure", "line_name", "estimate", "std_error", "ci_low", "ci_high",
                "n_units", "w_total", "design_df"]]


def _history(processed_dir: Path, quarters: list[tuple]) -> pd.DataFrame:
    """Income per capita and net income of the households of the quarters the rules look back to."""
    columns = ["household_key", "per_capita_net_income_derived", "per_capita_net_income", "net_income"]
    parts = [_read(processed_dir, "households", q, columns).assign(year=y, quarter_index=i)
             for q, y, i, _ in quarters if warehouse.table_files(processed_dir, "households", [q])]
    h = pd.concat(parts, ignore_index=True)
    return h.assign(income=h.per_capita_net_income_derived.fillna(h.per_capita_net_income))


def _crosscheck(processed_dir: Path, period: str) -> pd.DataFrame:
    columns = ["household_key", "rule", "rule_label", "department_label", "record_date"]
    if not warehouse.table_files(processed_dir, "crosscheck_findings", [period]):
        return pd.DataFrame(columns=columns)
    return _read(processed_dir, "crosscheck_findings", period, columns)


def _joined(flags: list, labels: list[str], sep: str) -> pd.Series:
    """concat_ws(sep, label_i where flag_i ...) per row: each distinct combination of flags is
    joined once (a bit mask per row), then mapped to its rows."""
    mask = sum(np.asarray(f, dtype=np.int64) << i for i, f in enumerate(flags))
    texts = {m: sep.join(label for i, label in enumerate(labels) if m >> i & 1) for m in np.unique(mask)}
    return pd.Series(mask, index=flags[0].index if hasattr(flags[0], "index") else None).map(texts)


def _risk(base: pd.DataFrame, p: dict, history: pd.DataFrame, dep: pd.DataFrame, xc: pd.DataFrame) -> pd.DataFrame:
    """The whole risk table (shipped config/risk.toml rules, SHIPPED_RISK): income position, the 27
    signals, level and reasons, category proposal, watch groups, 风险消除."""
    t = dict(zip(["income_drop_min", "rigid_spending_ratio", "large_medical_min", "transfer_share_min",
                  "single_migrant_wage_share_min", "consecutive_quarters", "max_households_per_cadre"],
                 p["ref_thresholds"][0]))
    ((year, qi),) = [(y, i) for _, y, i, current in p["ref_quarters"] if current]
    lines = {role: v for y, role, v in p["ref_roles_by_year"] if y == year}
    monitoring = {y: v for y, role, v in p["ref_roles_by_year"] if role == "monitoring"}
    labels = {(d, c): label for d, c, label in p["ref_labels"]}
    of = lambda domain: {c: label for (d, c), label in labels.items() if d == domain}  # noqa: E731
    status = {g: {c for gg, c in p["ref_status"] if gg == g} for g in ("poor", "exited")}
    shock = {c for n, c in p["ref_codes"] if n == "shock_causes"}
    r = base.reset_index(drop=True)
    key, inc = r.household_key, r.income
    prev = key.map(history[history.quarter_index == qi - 1].set_index("household_key").income)
    year_ago = key.map(history[history.quarter_index == qi - 4].set_index("household_key").net_income)
    window = history[history.quarter_index.between(qi - (t["consecutive_quarters"] - 1), qi)]
    above = (window.income >= window.year.map(monitoring)).groupby(window.household_key).sum()
    quarters_above = key.map(above).fillna(0).astype("int64")
    gross = r.gross_income.fillna(r.wage_income.fillna(0) + r.operating_income.fillna(0)
                                  + r.property_income.fillna(0) + r.transfer_income.fillna(0))
    transfer_share = _round6(r.transfer_income / gross.where(gross != 0))
    wage_share = _round6(r.wage_income / gross.where(gross != 0))
    rigid = r.medical_out_of_pocket.fillna(0) + r.education_spending.fillna(0)
    last_year = year_ago.fillna(r.net_income)
    drop = _round6(((prev - inc) / prev).where(prev > 0))
    band_role = pd.Series(np.select([inc < lines["national"], inc < lines["guideline"], inc < lines["monitoring"],
                                     inc.notna()], ["national", "guideline", "monitoring", ""], default=None))
    band = band_role.map({role: code for _, code, role in p["ref_bands"]})
    below_monitoring = (inc < lines["monitoring"]).fillna(False)
    flags = dep.set_index("household_key")
    boolean = lambda v: v.fillna(False).astype(bool)  # noqa: E731 - coalesce(x, false)
    sig = {"below_national": band_role == "national", "below_guideline": band_role == "guideline",
           "near_threshold": band_role == "monitoring",
           "income_drop": drop >= t["income_drop_min"],
           "rigid_spending": rigid > t["rigid_spending_ratio"] * last_year,
           "large_medical": r.medical_out_of_pocket > t["large_medical_min"],
           "disaster_shock": r.return_cause.isin(shock),
           "illness_disability": r.ill_or_disabled_members > 0,
           "no_labour": (r.members > 0) & (r.capable_members == 0),
           "high_transfer_share": transfer_share >= t["transfer_share_min"],
           "single_migrant_income": (r.migrant_members == 1) & (wage_share >= t["single_migrant_wage_share_min"]),
           "relocation_unsettled": boolean(r.relocated) & ~boolean(r.relocation_settled),
           **{f"gap_{g}": boolean(key.map(flags[f"{g}_deprived"])) for g in GAPS},
           **{s: key.isin(set(xc.household_key[xc.rule == s[3:]])) for s in SHIPPED_RISK["signals"]
              if s.startswith("xc_")}}
    sig = {c: pd.Series(np.asarray(v, dtype=bool), index=r.index) for c, v in sig.items()}
    n_signals = sum(v.astype("int64") for v in sig.values())
    reasons_text = _joined([sig[c] for c in SHIPPED_RISK["signals"]],
                           [labels[("signal", c)] for c in SHIPPED_RISK["signals"]], "；")
    any_of = lambda codes: np.logical_or.reduce([sig[c] for c in codes])  # noqa: E731
    (high, h_min), (medium, m_min), (_, l_min) = [(any_of_, least) for _, any_of_, least in SHIPPED_RISK["levels"]]
    level = np.select([any_of(high) | (n_signals >= h_min), any_of(medium) | (n_signals >= m_min), n_signals >= l_min],
                      ["high", "medium", "low"], "none")
    cats = SHIPPED_RISK["categories"]
    unstable, sudden = any_of(cats["unstable_signals"]), any_of(cats["sudden_signals"])
    st = r.poverty_status
    proposed = pd.Series(np.select(
        [st.isin(status["poor"]), st.isin(status["exited"]) & (below_monitoring | unstable),
         st.isna() & below_monitoring, sudden, ((r.household_type == "marginal") | st.isna()) & unstable],
        [None, "unstable_exited", "marginal", "sudden_hardship", "marginal"], None), index=r.index)
    mc = r.monitoring_category
    in_category = lambda c: (mc == c) | (proposed == c)  # noqa: E731
    wg = {"not_exited": st.isin(status["poor"]), "monitored_exited": in_category("unstable_exited"),
          "marginal": (r.household_type == "marginal") | in_category("marginal"),
          "exited_below_guideline": st.isin(status["exited"]) & (inc < lines["guideline"]).fillna(False),
          "sudden_shock": any_of(["disaster_shock", "income_drop", "rigid_spending", "large_medical"])
                          | in_category("sudden_hardship")}
    wg_text = _joined(list(wg.values()), [labels[("watch_group", g)] for g in wg], "、")
    blocking, keep = SHIPPED_RISK["elimination"]
    stably = quarters_above >= t["consecutive_quarters"]
    blocked = any_of(blocking)
    elimination = np.select([mc.isna(), stably & ~blocked & any_of(keep), stably & ~blocked],
                            [None, "keep_tracking", "eliminate"], "stay_monitored")
    blockers = _joined([~stably] + [sig[c] for c in blocking + keep],
                       [f"收入未连续{t['consecutive_quarters']}个季度高于监测线"]
                       + [labels[("signal", c)] for c in blocking] + [labels[("signal", c)] + "(保持跟踪)" for c in keep],
                       "；")
    items = xc[xc.household_key.notna()].assign(item=lambda f: f.rule_label + "(" + f.department_label + " "
                                                 + f.record_date.astype(str).where(f.record_date.notna(), "日期不详") + ")")
    evidence = items[["household_key", "item"]].drop_duplicates().sort_values("item").groupby("household_key") \
        .item.agg("；".join)
    return pd.DataFrame({
        "period": r.period, "household_key": key, "county_code": r.county_code, "township_code": r.township_code,
        "village_code": r.village_code, "household_type": r.household_type, "poverty_status": st,
        "exit_year": r.exit_year, "main_cause": r.main_cause, "return_cause": r.return_cause,
        "monitoring_category": mc, "persons": r.persons_counted, "income_per_capita": inc,
        **{f"line_{role}": lines[role] for role in ("national", "guideline", "monitoring")},
        **{f"ratio_{role}": _round6(inc / lines[role]) for role in ("national", "guideline", "monitoring")},
        "income_band": band, "income_band_label": band.map(of("income_band")),
        "below_guideline": (inc < lines["guideline"]).fillna(False), "below_monitoring": below_monitoring,
        "prev_income_per_capita": prev, "income_drop_pct": drop, "transfer_share": transfer_share,
        "wage_share": wage_share, "migrant_members": r.migrant_members, "capable_members": r.capable_members,
        "ill_or_disabled_members": r.ill_or_disabled_members, "rigid_spending_amount": rigid,
        "last_year_net_income": last_year,
        "last_year_income_source": np.where(year_ago.notna(), "year_ago_quarter", "current"),
        "deprivation_source": np.where(key.isin(set(dep.household_key)), "shared", None),
        **{f"sig_{c}": sig[c] for c in SHIPPED_RISK["signals"]},
        "n_signals": n_signals, "risk_level": level,
        "risk_level_label": pd.Series(level).map(of("risk_level")),
        "reasons": [text.split("；") if n > 0 else [] for text, n in zip(reasons_text, n_signals)],
        "reasons_text": reasons_text, "crosscheck_evidence": key.map(evidence),
        "proposed_category": proposed,
        "proposed_category_label": proposed.map(of("proposed_category")),
        "monitored": mc.notna() | proposed.notna(),
        **{f"wg_{g}": v for g, v in wg.items()}, "watch_groups_text": wg_text,
        "quarters_above_monitoring": quarters_above, "elimination_status": elimination,
        "elimination_blockers": blockers.where(mc.notna(), None)})


WATCH_GROUPS = ("not_exited", "monitored_exited", "marginal", "exited_below_guideline", "sudden_shock")


def _watch_counts(risk: pd.DataFrame, p: dict, period: str) -> pd.DataFrame:
    """Households and persons per watch group by township, county and city."""
    labels = {c: label for d, c, label in p["ref_labels"] if d == "watch_group"}
    persons = risk.persons.fillna(0)
    parts = []
    for order, g in enumerate(WATCH_GROUPS, start=1):
        held = risk[risk[f"wg_{g}"]].assign(persons=persons)
        for level, by in (("township", ["county_code", "township_code"]), ("county", ["county_code"]), ("city", [])):
            if by:
                c = held.groupby(by, dropna=False).agg(households=("household_key", "size"), persons=("persons", "sum"))
                c = c.reset_index()
            else:
                c = pd.DataFrame({"households": [len(held)], "persons": [held.persons.sum()]}) if len(held) else \
                    pd.DataFrame(columns=["households", "persons"])
            parts.append(c.assign(region_level=level, watch_group=g, watch_group_label=labels.get(g),
                                  watch_group_order=order))
    out = pd.concat(parts, ignore_index=True)
    for c in ("county_code", "township_code"):
        out[c] = out[c].where(out[c].notna(), None) if c in out else None
    return out.assign(period=period, persons=out.persons.astype("int64"), households=out.households.astype("int64"))


def _pairings(processed_dir: Path, period: str) -> pd.DataFrame:
    columns = ["household_key", "cadre_id", "cadre_rank", "start_date", "end_date"]
    if not warehouse.table_files(processed_dir, "pairings", [period]):
        return pd.DataFrame(columns=columns)
    return _read(processed_dir, "pairings", period, columns)


REQUIREMENT_RANKS = {"poor_county_leader": {"county_leader"}, "below_guideline_cadre": {"section_level", "township_cadre"},
                     "monitored_any": None}  # None: any rank


def _required(risk: pd.DataFrame, p: dict) -> dict[str, pd.Series]:
    """Which requirement applies to which household (the shipped [assistance] requirements)."""
    poor = {c for g, c in p["ref_status"] if g == "poor"}
    return {"poor_county_leader": risk.poverty_status.isin(poor),
            "below_guideline_cadre": (risk.income_per_capita < risk.line_guideline).fillna(False),
            "monitored_any": risk.monitored.astype(bool)}


def _gaps(risk: pd.DataFrame, pairings: pd.DataFrame, p: dict, period: str) -> pd.DataFrame:
    """帮扶责任人 gaps at the end of the quarter: no pairing, wrong level, overloaded cadre, lapsed."""
    ((_, _, end),) = p["ref_periods"]
    end = pd.Timestamp(end)
    labels = {(d, c): label for d, c, label in p["ref_labels"]}
    t = dict(zip(["income_drop_min", "rigid_spending_ratio", "large_medical_min", "transfer_share_min",
                  "single_migrant_wage_share_min", "consecutive_quarters", "max_households_per_cadre"],
                 p["ref_thresholds"][0]))
    pr = pairings.assign(start_date=pd.to_datetime(pairings.start_date), end_date=pd.to_datetime(pairings.end_date))
    active = pr[(pr.start_date.isna() | (pr.start_date <= end)) & (pr.end_date.isna() | (pr.end_date >= end))]
    paired = set(active.household_key.dropna())
    required = pd.concat([pd.DataFrame({"household_key": risk.household_key[mask], "requirement": code, "order": i})
                          for i, (code, mask) in enumerate(_required(risk, p).items(), start=1)], ignore_index=True)
    codes = list(REQUIREMENT_RANKS)
    required["label"] = required.requirement.map({c: labels.get(("requirement", c)) for c in codes})
    # no pairing: one row per household, its requirements' labels in order, the first code by name
    unpaired = required[~required.household_key.isin(paired)]
    bits = unpaired.assign(bit=np.int64(1) << (unpaired.order - 1)).groupby("household_key").bit.sum()
    text = {m: "；".join(labels.get(("requirement", c)) for i, c in enumerate(codes) if m >> i & 1) for m in bits.unique()}
    first = {m: min(c for i, c in enumerate(codes) if m >> i & 1) for m in bits.unique()}
    no_pairing = pd.DataFrame({"household_key": bits.index, "requirement": bits.map(first).to_numpy(),
                               "detail": bits.map(text).to_numpy(), "gap": "no_pairing"})
    # wrong level: a requirement none of the household's active pairings meets
    with_pair = required[required.household_key.isin(paired)]
    allowed = pd.DataFrame([(q, rank) for q, ranks in REQUIREMENT_RANKS.items() for rank in ranks or ()],
                           columns=["requirement", "cadre_rank"]).assign(allowed=True)
    m = with_pair[["household_key", "requirement"]].merge(active[["household_key", "cadre_rank"]], on="household_key")
    m = m.merge(allowed, on=["requirement", "cadre_rank"], how="left")
    m["ok"] = m.allowed.fillna(False).astype(bool) | m.requirement.isin(
        [q for q, ranks in REQUIREMENT_RANKS.items() if ranks is None])
    met = m.groupby(["household_key", "requirement"]).ok.any().rename("met").reset_index()
    with_pair = with_pair.merge(met, on=["household_key", "requirement"], how="left")
    wrong = with_pair[~with_pair.met.fillna(False).astype(bool)].assign(gap="wrong_level", detail=lambda f: f.label)
    cadres = active.groupby("cadre_id").agg(cadre_rank=("cadre_rank", "max"),
                                           cadre_households=("household_key", "nunique"))
    limits = dict(p["ref_cadre_limits"])
    cadres["max_households"] = cadres.cadre_rank.map(lambda r: limits.get(r, t["max_households_per_cadre"]))
    heavy = cadres[cadres.cadre_households > cadres.max_households]
    over = active[active.cadre_id.isin(heavy.index)].join(heavy[["cadre_households", "max_households"]], on="cadre_id")
    over = over[["household_key", "cadre_id", "cadre_rank", "end_date", "cadre_households", "max_households"]] \
        .drop_duplicates().assign(gap="cadre_overloaded", detail=lambda f: "结对" + f.cadre_households.astype(str)
                                  + "户，上限" + f.max_households.astype(str) + "户")
    lapsed = pr[pr.end_date.notna() & (pr.end_date < end)][["household_key", "cadre_id", "cadre_rank", "end_date"]] \
        .drop_duplicates().assign(gap="pairing_lapsed",
                                  detail=lambda f: "帮扶结束时间" + f.end_date.dt.strftime("%Y-%m-%d"))
    gaps = pd.concat([no_pairing, wrong[["household_key", "requirement", "gap", "detail"]],
                      over.drop(columns="max_households"), lapsed], ignore_index=True)
    ctx = risk.set_index("household_key")
    key = gaps.household_key
    return pd.DataFrame({
        "period": period, "household_key": key,
        **{c: key.map(ctx[c]) for c in ("county_code", "township_code", "village_code")},
        "gap": gaps.gap, "gap_label": gaps.gap.map({c: label for (d, c), label in labels.items()
                                                    if d == "assistance_gap"}),
        "requirement": gaps.requirement, "detail": gaps.detail, "cadre_id": gaps.cadre_id,
        "cadre_rank": gaps.cadre_rank, "end_date": gaps.end_date,
        "cadre_households": gaps.cadre_households,
        **{c: key.map(ctx[c]) for c in ("poverty_status", "risk_level", "below_guideline")}})


def _coverage(risk: pd.DataFrame, gaps: pd.DataFrame, p: dict, period: str) -> pd.DataFrame:
    """帮扶 coverage per township: households needing assistance, covered, each gap."""
    needs = np.logical_or.reduce(list(_required(risk, p).values()))
    per = gaps.assign(no_pairing=gaps.gap == "no_pairing", wrong_level=gaps.gap == "wrong_level",
                      overloaded=gaps.gap == "cadre_overloaded", lapsed=gaps.gap == "pairing_lapsed") \
        .groupby("household_key")[["no_pairing", "wrong_level", "overloaded", "lapsed"]] \
        .agg({"no_pairing": "any", "wrong_level": "any", "overloaded": "any", "lapsed": "sum"})
    h = risk[["household_key", "county_code", "township_code"]].assign(needs=needs).join(per, on="household_key")
    for c in ("no_pairing", "wrong_level", "overloaded"):
        h[c] = h[c].fillna(False).astype(bool)
    h["lapsed"] = h.lapsed.fillna(0)
    h["covered"] = h.needs & ~h.no_pairing & ~h.wrong_level
    by = ["county_code", "township_code"]
    t = h.groupby(by, dropna=False).agg(households=("household_key", "size"), households_needing_assistance=("needs", "sum"),
                                        households_covered=("covered", "sum"), households_no_pairing=("no_pairing", "sum"),
                                        households_wrong_level=("wrong_level", "sum"),
                                        households_with_overloaded_cadre=("overloaded", "sum"),
                                        lapsed_pairings=("lapsed", "sum"))
    heavy = gaps[gaps.gap == "cadre_overloaded"][["household_key", "cadre_id"]].merge(
        h[["household_key"] + by], on="household_key")
    t["overloaded_cadres"] = heavy.groupby(by, dropna=False).cadre_id.nunique().reindex(t.index).fillna(0)
    t = t.reset_index().assign(period=period)
    for c in t.columns.drop(["period", "county_code", "township_code"]):
        t[c] = t[c].astype("int64")
    return t


def _af(dep: pd.DataFrame, city: str, weights: dict, cutoffs: list[tuple]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Alkire-Foster H, A, M0, censored headcounts and contributions by cutoff, and the uncensored
    headcounts, person-weighted, by county and for the city."""
    total = sum(weights.values())
    d = pd.DataFrame({i: dep[f"{i}_deprived"].fillna(False).astype(bool).astype(int) for i in AF_INDICATORS})
    score = sum(d[i] * weights[i] for i in AF_INDICATORS)
    w = dep.household_size.astype(float)
    domains = [("county", dep.county_code), ("city", pd.Series(city, index=dep.index))]
    af, unc = [], []
    for level, code in domains:
        keep = code.notna()
        frame = pd.DataFrame({"code": code[keep], "w": w[keep], **{f"u_{i}": (w * d[i])[keep] for i in AF_INDICATORS}})
        g = frame.groupby("code").agg(n_units=("w", "size"), w_total=("w", "sum"),
                                      **{f"u_{i}": (f"u_{i}", "sum") for i in AF_INDICATORS})
        unc.append(pd.DataFrame({"domain_level": level, "domain_code": g.index, "n_units": g.n_units,
                                 "w_total": g.w_total,
                                 **{f"uncensored_{i}": g[f"u_{i}"] / g.w_total.where(g.w_total != 0)
                                    for i in AF_INDICATORS}}))
        for name, num, den in cutoffs:
            poor = (score * den >= num * total)[keep]
            f = frame.assign(w_poor=frame.w.where(poor, 0.0), w_ps=(frame.w * score[keep]).where(poor, 0.0),
                             **{f"c_{i}": frame[f"u_{i}"].where(poor, 0.0) for i in AF_INDICATORS})
            c = f.groupby("code").agg(n_units=("w", "size"), w_total=("w", "sum"), w_poor=("w_poor", "sum"),
                                      w_ps=("w_ps", "sum"), **{f"c_{i}": (f"c_{i}", "sum") for i in AF_INDICATORS})
            c["w_ps"] = c.w_ps / total
            wt, wp = c.w_total.where(c.w_total != 0), c.w_poor.where(c.w_poor != 0)
            af.append(pd.DataFrame({
                "domain_level": level, "domain_code": c.index, "line_name": name, "line_value": num / den,
                "af_h": c.w_poor / wt, "af_a": c.w_ps / wp, "af_m0": c.w_ps / wt,
                **{f"censored_{i}": c[f"c_{i}"] / wt for i in AF_INDICATORS},
                **{f"contribution_{i}": weights[i] * c[f"c_{i}"] / (c.w_ps * total).where(c.w_ps != 0)
                   for i in AF_INDICATORS},
                "n_units": c.n_units, "w_total": c.w_total}))
    return pd.concat(af, ignore_index=True), pd.concat(unc, ignore_index=True)


def _profile(base: pd.DataFrame, lines: list[tuple], bands: list[tuple]) -> pd.DataFrame:
    """Registry FGT0, FGT1 and share of the poor by each profile dimension's groups at the named
    lines (person-weighted; households with an income and a size)."""
    units = base.loc[base.income.notna() & base.persons.notna()]
    size = units.household_size.fillna(units.member_count)
    band = pd.Series("unknown", index=units.index, dtype=object)
    for lo, hi, label in bands:
        band[(size >= lo) & (size <= hi)] = label
    groups = {"household_attribute": units.household_attribute.fillna("unknown"),
              "main_cause": units.main_cause.fillna("unknown"), "size_band": band,
              "has_disabled_or_ill": pd.Series(np.where(units.ill_or_disabled_members.fillna(0) > 0, "true", "false"),
                                               index=units.index),
              "relocated": units.relocated.map({True: "true", False: "false"}).fillna("unknown")}
    inc, w = units.income.to_numpy(), units.persons.to_numpy()
    rows = []
    for name, z in lines:
        poor = inc < z
        frame = pd.DataFrame({"w": w, "w_poor": np.where(poor, w, 0.0), "w_gap": np.where(poor, w * (z - inc) / z, 0.0)})
        all_poor = frame.w_poor.sum()
        for dimension, values in groups.items():
            g = frame.groupby(values.to_numpy()).agg(n_units=("w", "size"), w_total=("w", "sum"),
                                                     w_poor=("w_poor", "sum"), w_gap=("w_gap", "sum"))
            rows.append(pd.DataFrame({"dimension": dimension, "group_value": g.index, "line_name": name,
                                      "fgt0": g.w_poor / g.w_total, "fgt1": g.w_gap / g.w_total,
                                      "share_of_poor": g.w_poor / all_poor if all_poor != 0 else np.nan,
                                      "n_units": g.n_units, "w_total": g.w_total}))
    return pd.concat(rows, ignore_index=True)


def _water(dep: pd.DataFrame, city: str) -> pd.DataFrame:
    """Person-weighted shares of households at each 饮水安全 level by county and for the city."""
    w = dep.household_size.astype(float)
    level = dep.water_level.fillna("unknown")
    frame = pd.DataFrame({"w": w, **{lvl: w.where(level == lvl, 0.0) for lvl in ("safe", "basic", "unsafe", "unknown")}})
    county = frame.groupby(dep.county_code.to_numpy()).agg(
        n_units=("w", "size"), w_total=("w", lambda s: s.sum(min_count=1)),
        **{lvl: (lvl, lambda s: s.sum(min_count=1)) for lvl in ("safe", "basic", "unsafe", "unknown")})
    county.index.name = "domain_code"
    county = county.reset_index().assign(domain_level="county")
    total = {"domain_level": "city", "domain_code": city, "n_units": len(frame),
             "w_total": frame.w.sum(min_count=1),
             **{lvl: frame[lvl].sum(min_count=1) for lvl in ("safe", "basic", "unsafe", "unknown")}}
    res = pd.concat([county, pd.DataFrame([total])], ignore_index=True)
    for lvl in ("safe", "basic", "unsafe", "unknown"):
        res[lvl] = res[lvl] / res.w_total.where(res.w_total != 0)
    return res


# ---- the pipeline's published tables, in the reference's shape ------------------------------------

PIPELINE_SQL = {
    "ref_incidence": """
        select i.region_level as domain_level, i.region_code as domain_code, p.estimate as poor_persons,
               i.n_weighted as rural_population, i.estimate
        from measures as i
        inner join measures as p on p.region_level = i.region_level and p.region_code = i.region_code
         and p.measure = 'poor_persons_administrative'
        where i.measure = 'incidence_administrative'""",
    "ref_fgt": """
        pivot (select region_level as domain_level, region_code as domain_code, line_name, measure, estimate,
                      n_unweighted as n_units, n_weighted as w_total
               from measures where data_source = 'registry' and population_group = 'all'
                and measure in ('fgt0', 'fgt1', 'fgt2'))
        on measure in ('fgt0', 'fgt1', 'fgt2') using first(estimate)""",
    "ref_gini": """
        pivot (select region_level as domain_level, region_code as domain_code, measure, estimate
               from measures where data_source = 'registry' and population_group = 'all'
                and measure in ('gini', 'mean_income'))
        on measure in ('gini', 'mean_income') using first(estimate)""",
    "ref_transitions": "select * from transitions",
    "ref_matrix": "select * from transition_matrix",
    "ref_profile": """
        select split_part(population_group, '=', 1) as dimension,
               substr(population_group, strpos(population_group, '=') + 1) as group_value, line_name,
               max(case when measure = 'fgt0' then estimate end) as fgt0,
               max(case when measure = 'fgt1' then estimate end) as fgt1,
               max(case when measure = 'share_of_poor' then estimate end) as share_of_poor,
               max(case when measure = 'fgt0' then n_unweighted end) as n_units,
               max(case when measure = 'fgt0' then n_weighted end) as w_total
        from measures
        where data_source = 'registry' and region_level = 'city' and population_group like '%=%'
        group by all""",
    "ref_survey": """
        select region_level as domain_level, region_code as domain_code, measure, line_name, estimate, std_error,
               ci_low, ci_high, n_unweighted as n_units, n_weighted as w_total, design_df
        from measures where data_source = 'survey'""",
    "ref_risk": "select * from risk",
    "ref_watch_counts": "select * from watch_group_counts",
    "ref_gaps": "select * from assistance_gaps",
    "ref_coverage": "select * from assistance_coverage",
    "ref_af": """
        select region_level as domain_level, region_code as domain_code, line_name, line_value,
               max(case when measure = 'af_H' then estimate end) as af_h,
               max(case when measure = 'af_A' then estimate end) as af_a,
               max(case when measure = 'af_M0' then estimate end) as af_m0,
               max(case when measure = 'af_censored_headcount.food' then estimate end) as censored_food,
               max(case when measure = 'af_censored_headcount.clothing' then estimate end) as censored_clothing,
               max(case when measure = 'af_censored_headcount.education' then estimate end) as censored_education,
               max(case when measure = 'af_censored_headcount.medical' then estimate end) as censored_medical,
               max(case when measure = 'af_censored_headcount.housing' then estimate end) as censored_housing,
               max(case when measure = 'af_censored_headcount.water' then estimate end) as censored_water,
               max(case when measure = 'af_contribution.food' then estimate end) as contribution_food,
               max(case when measure = 'af_contribution.clothing' then estimate end) as contribution_clothing,
               max(case when measure = 'af_contribution.education' then estimate end) as contribution_education,
               max(case when measure = 'af_contribution.medical' then estimate end) as contribution_medical,
               max(case when measure = 'af_contribution.housing' then estimate end) as contribution_housing,
               max(case when measure = 'af_contribution.water' then estimate end) as contribution_water,
               max(n_unweighted) as n_units, max(n_weighted) as w_total
        from measures
        where data_source = 'registry' and measure like 'af%' and line_name is not null
        group by all""",
    "ref_af_uncensored": """
        select region_level as domain_level, region_code as domain_code,
               max(case when measure = 'af_uncensored_headcount.food' then estimate end) as uncensored_food,
               max(case when measure = 'af_uncensored_headcount.clothing' then estimate end) as uncensored_clothing,
               max(case when measure = 'af_uncensored_headcount.education' then estimate end) as uncensored_education,
               max(case when measure = 'af_uncensored_headcount.medical' then estimate end) as uncensored_medical,
               max(case when measure = 'af_uncensored_headcount.housing' then estimate end) as uncensored_housing,
               max(case when measure = 'af_uncensored_headcount.water' then estimate end) as uncensored_water,
               max(n_unweighted) as n_units, max(n_weighted) as w_total
        from measures
        where data_source = 'registry' and measure like 'af_uncensored_headcount.%'
        group by all""",
    "ref_water": """
        select region_level as domain_level, region_code as domain_code,
               max(case when measure = 'water_level_share.safe' then estimate end) as safe,
               max(case when measure = 'water_level_share.basic' then estimate end) as basic,
               max(case when measure = 'water_level_share.unsafe' then estimate end) as unsafe,
               max(case when measure = 'water_level_share.unknown' then estimate end) as unknown,
               max(n_unweighted) as n_units, max(n_weighted) as w_total
        from measures
        where data_source = 'registry' and measure like 'water_level_share.%'
        group by all""",
}
KEYS = {"ref_incidence": ["domain_level", "domain_code"], "ref_fgt": ["domain_level", "domain_code", "line_name"],
        "ref_gini": ["domain_level", "domain_code"], "ref_transitions": ["household_key"],
        "ref_matrix": ["from_status", "to_status"], "ref_profile": ["dimension", "group_value", "line_name"],
        "ref_water": ["domain_level", "domain_code"], "ref_survey": ["domain_level", "domain_code", "measure", "line_name"],
        "ref_af": ["domain_level", "domain_code", "line_name"], "ref_af_uncensored": ["domain_level", "domain_code"],
        "ref_risk": ["household_key"],
        "ref_watch_counts": ["watch_group_order", "region_level", "county_code", "township_code"],
        "ref_gaps": ["household_key", "gap", "requirement", "cadre_id", "end_date"],
        "ref_coverage": ["county_code", "township_code"]}


def pipeline_outputs(processed_dir: Path, period: str) -> dict[str, pd.DataFrame]:
    """The stored measures / risk / transitions / transition_matrix of `period` as the reference's
    tables (same names and columns), sorted by their keys."""
    with duckdb.connect() as con:
        for table in ("measures", "risk", "transitions", "transition_matrix", "watch_group_counts",
                      "assistance_gaps", "assistance_coverage"):
            con.execute(f"create view {table} as select * from {warehouse.scan(processed_dir, table, period)}")
        return {name: tidy(con.sql(sql).df(), name) for name, sql in PIPELINE_SQL.items()}


def tidy(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """Sorted by the table's key, plain index, columns in the pipeline's order; a list column
    (risk.reasons) as a tuple per row, so that rows compare as values."""
    frame = frame.sort_values(KEYS[name]).reset_index(drop=True)
    for column in frame.columns[frame.dtypes == object]:
        if frame[column].map(lambda v: isinstance(v, (list, np.ndarray))).any():
            frame[column] = frame[column].map(lambda v: tuple(v) if isinstance(v, (list, np.ndarray)) else v)
    return frame


def differences(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame], tolerance: float = 1e-9) -> list[str]:
    """One line per table whose rows, columns or values differ (floats within `tolerance`)."""
    out = []
    for name in OUTPUTS:
        x, y = tidy(a[name], name), tidy(b[name], name)
        if len(x) != len(y) or set(x.columns) != set(y.columns):
            out.append(f"{name}: {len(x)} rows {list(x.columns)} vs {len(y)} rows {list(y.columns)}")
            continue
        y = y[list(x.columns)]
        for column in x.columns:
            u, v = x[column], y[column]
            if pd.api.types.is_float_dtype(u) or pd.api.types.is_float_dtype(v):
                u, v = u.astype(float).to_numpy(), v.astype(float).to_numpy()
                bad = ~((np.isnan(u) & np.isnan(v)) | (np.abs(u - v) <= tolerance))
            else:
                bad = ~((u.isna() & v.isna()) | (u.astype(object) == v.astype(object))).to_numpy()
            if bad.any():
                i = int(np.argmax(bad))
                out.append(f"{name}.{column}: {int(bad.sum())} rows differ, e.g. {x.iloc[i].to_dict()} vs {v[i]}")
    return out
