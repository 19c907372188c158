"""Yardsticks for the measures + risk stages (issue #12 part 3), over the same canonical Parquet:

    bind(con, processed_dir, period, previous, policy)   views + the small parameter tables
    run_reference(con)                                    benchmarks/reference_measures_risk.sql
    run_pandas(processed_dir, period, previous, policy)  the same columns with plain pandas

Both compute the core the stages publish: administrative incidence at every level, registry FGT0-2
by county and city at every line measures uses (named + sensitivity), Gini and mean income, the
risk income position per household (ratios, band, below lines, income drop, members), transitions
per household (presence, split/merged, statuses, flow) and the transition matrix (households,
persons). tests/bench/test_reference.py checks at a small size that the numbers EQUAL the
pipeline's, so the timing comparison in benchmarks/measures_risk.py is a fair one.
"""

from __future__ import annotations

import statistics
from decimal import ROUND_HALF_UP, Decimal
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
OUTPUTS = ("ref_incidence", "ref_fgt", "ref_gini", "ref_position", "ref_transitions", "ref_matrix",
           "ref_profile", "ref_water", "ref_survey")
# the registry profile's dimensions, as the script unpivots them (config/measures.toml [profile])
PROFILE_DIMENSIONS = ("household_attribute", "main_cause", "size_band", "has_disabled_or_ill", "relocated")


def parameters(policy: Policy, period: str) -> dict[str, list[tuple]]:
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
    design = survey_design(policy)[0]
    shipped = ("county_code", "village_code", "design_weight * household_size", "per_capita_net_income",
               {"county": "county_code"})
    if (design.stratum, design.psu, design.weight, design.income, design.domains) != shipped:
        raise ValueError(f"benchmarks/reference_measures_risk.sql estimates the shipped survey design {shipped}, "
                         f"config/measures.toml [survey] design is {design}")
    z = statistics.NormalDist().inv_cdf(0.5 + cfg.survey.confidence_level / 2)
    bands = [(lo, hi, str(lo) if lo == hi else (f"{lo}+" if hi >= 99 else f"{lo}-{hi}"))
             for lo, hi in cfg.profile.size_bands]
    return {
        "ref_run": [(year, policy.city.code)],
        "ref_lines": list(lines.items()),
        "ref_roles": roles,
        "ref_status": [(g, c) for g, codes in policy.groups.items() for c in codes],
        "ref_bands": [(i, b.code, b.line) for i, b in enumerate(policy.risk.bands, start=1)],
        "ref_codes": [("labour_capable", c) for c in sig.labour_capable]
                     + [("migrant_statuses", c) for c in sig.migrant_statuses],
        "ref_named_lines": list(named.items()),
        "ref_size_bands": bands,
        "ref_survey_run": [(*design.total, design.lonely_psu, z)],
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
           "ref_survey_run": "total_level varchar, total_code varchar, lonely_psu varchar, ci_z double"}


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
    for name, rows in parameters(policy, period).items():
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
    return x.map(lambda v: float(Decimal(v).quantize(MICRO, rounding=ROUND_HALF_UP)), na_action="ignore").astype(float)


def _gini(income: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    order = np.argsort(income, kind="stable")
    y, w = income[order], w[order]
    wy = w * y
    before = np.concatenate(([0.0], np.cumsum(wy)[:-1]))
    return 1.0 - float((w * (2.0 * before + wy)).sum() / (w.sum() * wy.sum())), float(wy.sum() / w.sum())


def run_pandas(processed_dir: Path, period: str, previous: str, policy: Policy) -> dict[str, pd.DataFrame]:
    """The reference's outputs computed with pandas (same names, same columns)."""
    p = parameters(policy, period)
    year, city = p["ref_run"][0]
    groups = {c: g for g, c in p["ref_status"]}
    roles = dict(p["ref_roles"])
    codes = {name: {c for n, c in p["ref_codes"] if n == name} for name in ("labour_capable", "migrant_statuses")}
    hcols = ["household_key", "county_code", "township_code", "village_code", "poverty_status",
             "per_capita_net_income_derived", "per_capita_net_income", "household_size", "member_count"]
    hh = _read(processed_dir, "households", period, hcols + ["household_attribute", "main_cause", "relocated"])
    hp = _read(processed_dir, "households", previous, hcols)
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

    # income position
    prev_income = hp.set_index("household_key").per_capita_net_income_derived.fillna(
        hp.set_index("household_key").per_capita_net_income).rename("prev_income_per_capita")
    pos = base.join(prev_income, on="household_key")
    band_role = np.select([pos.income < roles["national"], pos.income < roles["guideline"],
                           pos.income < roles["monitoring"], pos.income.notna()],
                          ["national", "guideline", "monitoring", ""], default=None)
    band_of = {role: code for _, code, role in p["ref_bands"]}
    prev = pos.prev_income_per_capita
    out["ref_position"] = pd.DataFrame({
        "household_key": pos.household_key, "persons": pos.persons_counted, "income_per_capita": pos.income,
        **{f"ratio_{r}": _round6(pos.income / roles[r]) for r in ("national", "guideline", "monitoring")},
        "income_band": pd.Series(band_role, index=pos.index).map(band_of),
        "below_guideline": (pos.income < roles["guideline"]).fillna(False),
        "below_monitoring": (pos.income < roles["monitoring"]).fillna(False),
        "prev_income_per_capita": prev,
        "income_drop_pct": _round6(((prev - pos.income) / prev).where(prev > 0)),
        "capable_members": pos.capable_members, "migrant_members": pos.migrant_members,
        "ill_or_disabled_members": pos.ill_or_disabled_members})

    # transitions
    moves = pc[["person_key", "household_key"]].merge(pp, on="person_key", how="outer", suffixes=("_now", "_before"))
    moved = moves[moves.household_key_now.notna() & moves.household_key_before.notna()
                  & (moves.household_key_now != moves.household_key_before)]
    prev_members = pp.groupby("household_key").size().rename("members")
    pb = hp.join(prev_members, on="household_key")
    pb["status"] = pb.poverty_status.fillna("not_registered")
    pb["persons_counted"] = pb.member_count.fillna(pb.members).fillna(pb.household_size)
    j = base[["household_key", "status", "persons_counted"]].merge(
        pb[["household_key", "status", "persons_counted"]], on="household_key", how="outer",
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
    tr = pd.DataFrame({"household_key": j.household_key, "presence": presence, "presence_detail": detail,
                       "from_status": fs, "to_status": ts, "persons_from": j.persons_counted_from,
                       "persons_to": j.persons_counted_to, "status_flow": flow})
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
    hf = tr.groupby(["from_status", "to_status"]).size().rename("households")
    out["ref_matrix"] = pd.concat([hf, pf], axis=1).fillna(0).astype("int64").reset_index()

    out["ref_profile"] = _profile(base, p["ref_named_lines"], p["ref_size_bands"])
    dep = _read(processed_dir, "int_household_deprivations", period, ["county_code", "household_size", "water_level"])
    out["ref_water"] = _water(dep, city)
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
    "ref_position": """
        select household_key, persons, income_per_capita, ratio_national, ratio_guideline, ratio_monitoring,
               income_band, below_guideline, below_monitoring, prev_income_per_capita, income_drop_pct,
               capable_members, migrant_members, ill_or_disabled_members
        from risk""",
    "ref_transitions": """
        select household_key, presence, presence_detail, from_status, to_status, persons_from, persons_to,
               status_flow
        from transitions""",
    "ref_matrix": "select from_status, to_status, households, persons from transition_matrix",
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
        "ref_gini": ["domain_level", "domain_code"], "ref_position": ["household_key"],
        "ref_transitions": ["household_key"], "ref_matrix": ["from_status", "to_status"],
        "ref_profile": ["dimension", "group_value", "line_name"], "ref_water": ["domain_level", "domain_code"],
        "ref_survey": ["domain_level", "domain_code", "measure", "line_name"]}


def pipeline_outputs(processed_dir: Path, period: str) -> dict[str, pd.DataFrame]:
    """The stored measures / risk / transitions / transition_matrix of `period` as the reference's
    tables (same names and columns), sorted by their keys."""
    with duckdb.connect() as con:
        for table in ("measures", "risk", "transitions", "transition_matrix"):
            con.execute(f"create view {table} as select * from {warehouse.scan(processed_dir, table, period)}")
        return {name: tidy(con.sql(sql).df(), name) for name, sql in PIPELINE_SQL.items()}


def tidy(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """Sorted by the table's key, plain index, columns in the pipeline's order."""
    return frame.sort_values(KEYS[name]).reset_index(drop=True)


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
