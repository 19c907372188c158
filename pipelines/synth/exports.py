"""Export frames: the simulated state of one quarter as text tables the way registries export them.

Frames here use canonical (English) column names and text cells, yes/no as 是/否; `layout_frame`
turns one into a county's file layout (header spelling, yes/no style). Helper columns start with
"_" (household index, member order, planted-defect bookkeeping) and are never written.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.synth.dynamics import EXITED, EXITED_UNSUPPORTED, NONE, POOR, RETURNED

YES, NO = "是", "否"
STATUS_LABELS = {POOR: "未脱贫", EXITED: "已脱贫（享受政策）", RETURNED: "返贫", EXITED_UNSUPPORTED: "已脱贫（不再享受政策）", NONE: ""}
ATTRIBUTE_POOR = np.array(["一般贫困户", "低保贫困户", "特困供养贫困户"], dtype=object)
ATTRIBUTE_EXITED = np.array(["一般脱贫户", "低保脱贫户", "特困供养脱贫户"], dtype=object)
RELOCATION_SITES = np.array(["县城", "乡镇", "县外", "村外", "村内"], dtype=object)
HELPER_PREFIX = "_"


# ---------------------------------------------------------------- cell formatting


def cents_text(cents: np.ndarray) -> np.ndarray:
    """Integer cents -> '1234.56' (sign kept)."""
    c = np.asarray(cents, dtype=np.int64)
    a = np.abs(c)
    whole = pd.Series(a // 100).astype(str)
    frac = pd.Series(a % 100).astype(str).str.zfill(2)
    sign = pd.Series(np.where(c < 0, "-", ""))
    return (sign + whole + "." + frac).to_numpy(dtype=object)


def tenths_text(values: np.ndarray) -> np.ndarray:
    """Decimal with one place: 34.9 -> '34.9', 35 -> '35.0'."""
    t = np.rint(np.asarray(values, dtype=float) * 10).astype(np.int64)
    return (pd.Series(t // 10).astype(str) + "." + pd.Series(t % 10).astype(str)).to_numpy(dtype=object)


def int_text(values: np.ndarray, blank_below: int | None = None) -> np.ndarray:
    """Integers as text; values below `blank_below` become ''."""
    v = np.asarray(values, dtype=np.int64)
    out = np.array(pd.Series(v).astype(str).to_numpy(dtype=object), dtype=object, copy=True)
    if blank_below is not None:
        out[v < blank_below] = ""
    return out


def yes_no(flag: np.ndarray) -> np.ndarray:
    return np.where(np.asarray(flag, dtype=bool), YES, NO).astype(object)


# ---------------------------------------------------------------- registry


def registry_frame(ctx: dict) -> pd.DataFrame:
    """Member export of one quarter (present persons only), canonical names, text cells.

    ctx holds: hh, persons, villages, plan, p, period, state, income, spend, monitoring, cfg.
    """
    hh, persons, vil, plan, p = ctx["hh"], ctx["persons"], ctx["villages"], ctx["plan"], ctx["p"]
    state, inc, spend, cfg = ctx["state"], ctx["income"], ctx["spend"], ctx["cfg"]
    keep = state["present"].to_numpy()
    ph = persons["hh"].to_numpy()[keep]
    ps = persons[keep]
    st = state[keep]
    traits = ps  # stable person traits are columns of persons
    v = vil.iloc[hh["village"].to_numpy()[ph]]
    status = plan.status[p][ph]
    registered = plan.registered[p][ph]
    attr = hh["attribute"].to_numpy()[ph]
    head_rows = persons["role"].to_numpy() == 0
    head_id = np.empty(len(hh), dtype=object)
    head_id[persons["hh"].to_numpy()[head_rows]] = persons["id_number"].to_numpy()[head_rows]
    age, school = st["age"].to_numpy(), st["school"].to_numpy()
    grade = hh["housing_grade"].to_numpy()[ph]
    relocated = hh["relocated"].to_numpy()[ph]
    settled = relocated & ~(hh["relocation_unsettled"].to_numpy()[ph] & (p < 2))
    piped = hh["water_piped"].to_numpy()[ph]
    n = len(ph)
    f = {
        "row_no": np.zeros(n, dtype=object),
        "county_name": v["county_name"].to_numpy(dtype=object),
        "township_name": v["township_name"].to_numpy(dtype=object),
        "village_name": v["village_name"].to_numpy(dtype=object),
        "village_code": v["village_code"].to_numpy(dtype=object),
        "natural_village": (v["village_name"].str[:2] + np.array(["一组", "二组", "三组"], dtype=object)[
            (hh["u_natural"].to_numpy()[ph] * 3).astype(int)]).to_numpy(dtype=object),
        "household_id": hh["household_id"].to_numpy(dtype=object)[ph],
        "person_id": ps["person_id"].to_numpy(dtype=object),
        "name": ps["name"].to_numpy(dtype=object),
        "id_type": np.full(n, "居民身份证", dtype=object),
        "id_number": ps["id_number"].to_numpy(dtype=object),
        "sex": np.where(ps["male"].to_numpy(), "男", "女").astype(object),
        "birth_date": np.asarray(ps["birth"].to_numpy()).astype("datetime64[D]").astype(str).astype(object),
        "household_size": int_text(inc["size"].to_numpy()[ph]),
        "household_size_annual": int_text(inc["size"].to_numpy()[ph]),
        "relation": ps["relation"].to_numpy(dtype=object),
        "ethnicity": np.where(traits["minority"].to_numpy(), "回族", "汉族").astype(object),
        "political": np.where(traits["party"].to_numpy(), "中共党员", "群众").astype(object),
        "year": np.full(n, ctx["period"][:4], dtype=object),
        "identification_standard": np.full(n, "国家标准", dtype=object),
        "phone": hh["phone"].to_numpy(dtype=object)[ph],
        "head_id_number": head_id[ph],
        "education": st["education"].to_numpy(dtype=object),
        "school_status": school.astype(object),
        "dropout_reason": np.full(n, "", dtype=object),
        "send_teaching": np.where((age >= 6) & (age <= 15), NO, "").astype(object),
        "health": st["health"].to_numpy(dtype=object),
        "disability_type": np.where(st["disabled"].to_numpy(), np.array(cfg["names"]["disability_types"], dtype=object)[
            traits["disability_type"].to_numpy()], "").astype(object),
        "labour_skill": st["labour"].to_numpy(dtype=object),
        "migrant_status": st["migrant_status"].to_numpy(dtype=object),
        "work_location": st["work_location"].to_numpy(dtype=object),
        "work_months": int_text(st["work_months"].to_numpy(), blank_below=0),
        "public_welfare_job": yes_no(traits["welfare_job"].to_numpy() & (st["labour"].to_numpy() != "无劳动力")),
        "resident_med_ins": yes_no(~traits["employee_ins"].to_numpy()),
        "employee_med_ins": yes_no(traits["employee_ins"].to_numpy()),
        "critical_illness_ins": np.full(n, YES, dtype=object),
        "medical_assistance": yes_no(st["serious"].to_numpy() & registered),
        "pension_ins": yes_no((age >= 16) & ~st["in_school"].to_numpy()),
        "dibao": yes_no(registered & (attr == 1)),
        "tekun": yes_no(registered & (attr == 2)),
        "household_type": np.where(registered, "贫困户", "边缘户").astype(object),
        "household_attribute": np.where(~registered, "", np.where((status == POOR) | (status == RETURNED),
                                                               ATTRIBUTE_POOR[attr], ATTRIBUTE_EXITED[attr])).astype(object),
        "poverty_status": np.array([STATUS_LABELS[k] for k in (POOR, EXITED, RETURNED, EXITED_UNSUPPORTED, NONE)],
                                   dtype=object)[status],  # NONE (-1) picks the last label, ''
        "exit_year": int_text(plan.exit_year[p][ph], blank_below=1),
        "main_cause": np.where(registered, hh["main_cause"].to_numpy()[ph], "").astype(object),
        "return_cause": plan.return_cause[p][ph].astype(object),
        "monitoring_category": ctx["monitoring"][ph],
        "food_secure": np.full(n, YES, dtype=object),
        "clothing_secure": np.full(n, YES, dtype=object),
        "dilapidated": np.full(n, NO, dtype=object),
        "housing_grade": grade.astype(object),
        "housing_secured_by": np.where(np.isin(grade, ["A", "B"]), "鉴定安全",
                                       np.where(relocated, "保障安全", "改造安全")).astype(object),
        "water_safe": np.full(n, YES, dtype=object),
        "water_difficult": np.full(n, NO, dtype=object),
        "water_scarce_area": yes_no(v["scarce_area"].to_numpy()),
        "water_quantity_lpd": tenths_text(hh["water_quantity"].to_numpy()[ph]),
        "water_quality": np.full(n, "达标", dtype=object),
        "water_piped": yes_no(piped),
        "water_fetch_minutes": int_text(np.where(piped, 0, hh["fetch_minutes"].to_numpy()[ph])),
        "water_horizontal_m": int_text(np.where(piped, 0, hh["horizontal_m"].to_numpy()[ph])),
        "water_vertical_m": int_text(np.where(piped, 0, hh["vertical_m"].to_numpy()[ph])),
        "water_outage_days": int_text(hh["outage_days"].to_numpy()[ph]),
        "relocated": yes_no(relocated),
        "relocation_mode": np.where(relocated, np.where(hh["relocation_centralised"].to_numpy()[ph], "集中安置", "分散安置"), "").astype(object),
        "relocation_site": np.where(relocated, RELOCATION_SITES[hh["relocation_site"].to_numpy()[ph]], "").astype(object),
        "relocation_settled": np.where(relocated, yes_no(settled), "").astype(object),
        "cultivated_land_mu": tenths_text(hh["land_mu"].to_numpy()[ph]),
        "housing_area_m2": tenths_text(hh["area_m2"].to_numpy()[ph]),
        "sanitary_toilet": yes_no(hh["toilet"].to_numpy()[ph]),
        "road_type": np.array(cfg["names"]["road_types"], dtype=object)[hh["road"].to_numpy()[ph]],
    }
    for col in ["wage_income", "operating_income", "property_income", "transfer_income", "family_planning_transfer",
                "dibao_transfer", "tekun_transfer", "pension_transfer", "eco_compensation_transfer", "other_transfer",
                "production_cost", "gross_income", "net_income", "per_capita_net_income"]:
        f[col] = cents_text(inc[col].to_numpy())[ph]
    for col in ["medical_out_of_pocket", "education_spending"]:
        f[col] = cents_text(spend[col].to_numpy())[ph]
    frame = pd.DataFrame(f)
    frame["_hh"] = ph
    frame["_person"] = np.flatnonzero(keep)
    frame["_order"] = ps["seq"].to_numpy()
    return frame


# ---------------------------------------------------------------- layout of a county's file


def header_map(columns: list[str], aliases: dict, variant: dict) -> dict:
    """Canonical name -> header as written (variant override, else the standard first alias)."""
    return {c: variant.get(c, aliases[c]["aliases"][0]) for c in columns}


def yes_no_columns(aliases: dict) -> list[str]:
    return [c for c, spec in aliases.items() if spec.get("kind") == "yes_no"]


def apply_yes_no_style(frame: pd.DataFrame, columns: list[str], style: list[str]) -> pd.DataFrame:
    """Rewrite 是/否 cells of yes/no columns in a county's style (e.g. √/blank, 1/0, 有/无)."""
    out = frame.copy()
    for c in columns:
        if c in out:
            col = out[c].to_numpy(dtype=object)
            out[c] = np.where(col == YES, style[0], np.where(col == NO, style[1], col))
    return out


def layout_frame(frame: pd.DataFrame, columns: list[str], headers: dict, yn_columns: list[str],
                 style: list[str]) -> pd.DataFrame:
    """County file layout: selected columns in order, yes/no restyled, Chinese headers; row_no 1..n."""
    out = frame[columns] if list(style) == [YES, NO] else apply_yes_no_style(frame[columns], yn_columns, style)
    if "row_no" in out:
        out["row_no"] = pd.Series(np.arange(1, len(out) + 1)).astype(str).to_numpy(dtype=object)
    return out.rename(columns=headers)


# ---------------------------------------------------------------- 帮扶责任人结对


CADRE_RANKS = np.array(["县级领导", "科级干部", "乡镇干部", "一般干部"], dtype=object)
RANK_AFFILIATION = np.array(["县", "县", "乡镇", "县"], dtype=object)


def cadre_pool(county_codes: list[str], county_names: list[str], households_per_county: np.ndarray,
               chunk: int, cfg: dict, rng) -> pd.DataFrame:
    """Assistance cadres per county: id, rank, name, sex, phone, unit, affiliation, party, resident."""
    from pipelines.synth.population import person_names, phones

    pc = cfg["pairing"]
    rows = []
    for code, name, n_h in zip(county_codes, county_names, households_per_county):
        n = max(8, int(np.ceil(n_h / pc["households_per_cadre"])))
        rank = np.r_[np.arange(4), rng.choice(4, size=n - 4, p=[0.1, 0.25, 0.35, 0.3])]
        rows.append(pd.DataFrame({"county_code": code, "county_name": name, "rank": rank,
                                  "cadre_id": [f"{code}{chunk:02d}{i:04d}" for i in range(1, n + 1)]}))
    pool = pd.concat(rows, ignore_index=True)
    n = len(pool)
    male = rng.random(n) < 0.7
    pool["cadre_name"] = person_names(np.arange(n), np.zeros(n, dtype=int), male, cfg, rng)
    pool["cadre_sex"] = np.where(male, "男", "女")
    pool["cadre_phone"] = phones(n, rng)
    units = np.array(pc["units"], dtype=object)[rng.integers(0, len(pc["units"]), n)]
    pool["cadre_unit"] = np.where(pool["rank"] == 2, pool["county_name"] + "乡镇人民政府", pool["county_name"] + units)
    pool["cadre_affiliation"] = RANK_AFFILIATION[pool["rank"].to_numpy()]
    pool["cadre_political"] = np.where(rng.random(n) < 0.85, "中共党员", "群众")
    pool["resident_team"] = np.where(rng.random(n) < pc["resident_team_share"], YES, NO)
    pool["cadre_rank"] = CADRE_RANKS[pool["rank"].to_numpy()]
    return pool


def pairing_frame(ctx: dict, pool: pd.DataFrame, period_end: np.datetime64, rng) -> tuple[pd.DataFrame, pd.DataFrame]:
    """帮扶责任人结对 rows for registered households; a few gaps and lapsed pairings (also returned)."""
    hh, persons, plan, p, cfg = ctx["hh"], ctx["persons"], ctx["plan"], ctx["p"], ctx["cfg"]
    pc = cfg["pairing"]
    reg = np.flatnonzero(plan.registered[p])
    status = plan.status[p][reg]
    poor = (status == POOR) | (status == RETURNED)
    u_rank = hh["u_pair_rank"].to_numpy()[reg]
    w = pc["rank_weights_exited"]
    exited_rank = 1 + np.searchsorted(np.cumsum(list(w.values())) / sum(w.values()), u_rank)
    rank = np.where(poor, np.where(u_rank < pc["poor_county_leader_share"], 0, 1), exited_rank)
    county = ctx["villages"]["county_code"].to_numpy()[hh["village"].to_numpy()[reg]]
    # cadres of one (county, rank) are contiguous after sorting: pick start + floor(u x count)
    pool_key = pool["county_code"].astype(str).to_numpy() + "|" + pool["rank"].astype(str).to_numpy()
    order = np.argsort(pool_key, kind="stable")
    keys, start, count = np.unique(pool_key[order], return_index=True, return_counts=True)
    key = np.asarray(county, dtype=str).astype(object) + "|" + rank.astype(str)
    g = np.searchsorted(keys, key.astype(str))
    u = hh["u_pair"].to_numpy()[reg]
    cadre = order[start[g] + (u * count[g]).astype(int)]
    heads = persons[persons["role"] == 0].set_index("hh")
    start = (np.datetime64("2016-01-01") + (u * 1400).astype(int)).astype(str)
    frame = pd.DataFrame({"county_name": ctx["villages"]["county_name"].to_numpy()[hh["village"].to_numpy()[reg]],
                          "household_id": hh["household_id"].to_numpy()[reg],
                          "head_name": heads.loc[reg, "name"].to_numpy(),
                          "head_id_number": heads.loc[reg, "id_number"].to_numpy()})
    for c in ["cadre_id", "cadre_name", "cadre_sex", "cadre_phone", "cadre_unit", "cadre_affiliation", "cadre_rank",
              "cadre_political", "resident_team"]:
        frame[c] = pool[c].to_numpy()[cadre]
    frame["start_date"] = start
    frame["end_date"] = ""
    n_reg = len(reg)
    gaps = rng.choice(n_reg, size=min(n_reg, _count(pc["gaps"], n_reg)), replace=False)
    rest = np.setdiff1d(np.arange(n_reg), gaps)
    lapsed = rng.choice(rest, size=min(len(rest), _count(pc["lapsed"], n_reg)), replace=False)
    frame.loc[lapsed, "end_date"] = (period_end - rng.integers(30, 200, len(lapsed))).astype(str)
    frame.loc[lapsed, "start_date"] = (period_end - 400 - rng.integers(0, 400, len(lapsed))).astype(str)
    issues = pd.DataFrame({"household_id": frame["household_id"].to_numpy()[np.r_[gaps, lapsed]],
                           "issue": ["gap"] * len(gaps) + ["lapsed"] * len(lapsed)})
    return frame.drop(index=gaps).reset_index(drop=True), issues


def _count(spec: dict, base: int) -> int:
    return max(int(spec["min"]), int(round(spec["rate"] * base)))


# ---------------------------------------------------------------- survey and population reference


def rural_frame(villages: pd.DataFrame, total_households: int, cfg: dict, rng) -> pd.DataFrame:
    """Rural households per village (N_v ≫ registry households) and 城乡分类代码."""
    sv = cfg["survey"]
    n = len(villages)
    w = villages["weight"].to_numpy() / villages["weight"].sum()
    share = rng.uniform(*sv["registered_share"], n)
    base = rng.integers(sv["rural_households_per_village"][0], sv["rural_households_per_village"][1] + 1, n)
    rural = np.maximum(base, np.ceil(total_households * w / share)).astype(np.int64)
    codes = sv["urban_rural_village_weights"]
    vil_code = np.array(list(codes), dtype=object)[np.searchsorted(np.cumsum(list(codes.values())) / sum(codes.values()), rng.random(n))]
    com_code = np.array([str(c) for c in sv["urban_rural_committee"]], dtype=object)[rng.integers(0, len(sv["urban_rural_committee"]), n)]
    persons = rng.uniform(*sv["persons_per_household"], n)
    change = rng.uniform(*sv["population_change_2020"], n)
    return pd.DataFrame({"rural_households": rural, "urban_rural_code": np.where(villages["committee"], com_code, vil_code),
                         "persons_per_household": persons, "change_2020": change})


def survey_design(villages: pd.DataFrame, rural: pd.DataFrame, cfg: dict, rng) -> pd.DataFrame:
    """Two-stage sample: villages (PSU) by SRS within county (stratum), then household slots by SRS.

    Slot s (0-based) of village v is the registry household with serial s+1 when that exists,
    else a non-registered rural household. Weight = N_v / n_v × M_c / m_c.
    """
    sv = cfg["survey"]
    rows = []
    for county, idx in villages.groupby("county_code").indices.items():
        m = min(len(idx), max(2, sv["villages_per_county"]))
        for v in np.sort(rng.choice(idx, size=m, replace=False)):
            n_v_total = int(rural["rural_households"].iat[v])
            k = min(n_v_total, sv["households_per_village"])
            slots = np.sort(rng.choice(n_v_total, size=k, replace=False))
            rows.append(pd.DataFrame({"county_code": county, "village": v, "slot": slots,
                                      "weight": n_v_total / k * len(idx) / m}))
    design = pd.concat(rows, ignore_index=True)
    design["village_code"] = villages["village_code"].to_numpy()[design["village"].to_numpy()]
    design["survey_household_id"] = design["village_code"] + design["slot"].map("{:05d}".format)
    design["size"] = rng.integers(1, 7, len(design))
    design["z"] = rng.normal(size=len(design))
    return design


def survey_frame(design: pd.DataFrame, matched: pd.DataFrame, year: int, cfg: dict) -> pd.DataFrame:
    """Sample rows of one period: registry-matched slots use the household's size and income."""
    sv = cfg["survey"]
    growth = cfg["poverty"]["income_growth_2020"] if year >= 2020 else 1.0
    d = design.merge(matched, on=["village", "slot"], how="left")
    own_income = np.rint(sv["nonregistered_income_median"] * np.exp(sv["nonregistered_income_sigma"] * d["z"]) * growth * 100)
    has = d["pc_cents"].notna().to_numpy()
    return pd.DataFrame({
        "survey_household_id": d["survey_household_id"], "county_code": d["county_code"],
        "village_code": d["village_code"], "design_weight": d["weight"].map("{:.4f}".format).to_numpy(dtype=object),
        "household_size": int_text(np.where(has, d["size_matched"].fillna(0), d["size"])),
        "per_capita_net_income": cents_text(np.where(has, d["pc_cents"].fillna(0), own_income).astype(np.int64)),
        "registered": np.where(d["registered"].fillna(False).astype(bool), YES, NO).astype(object),
    })


def population_reference(villages: pd.DataFrame, rural: pd.DataFrame, registry_households: np.ndarray) -> pd.DataFrame:
    """农村户籍人口 by village for 2019 and 2020 (rural households never below registry households)."""
    n_h = np.maximum(rural["rural_households"].to_numpy(), registry_households)
    pop19 = np.rint(n_h * rural["persons_per_household"].to_numpy()).astype(np.int64)
    pop20 = np.rint(pop19 * (1 + rural["change_2020"].to_numpy())).astype(np.int64)
    base = pd.DataFrame({"county_name": villages["county_name"], "township_name": villages["township_name"],
                         "village_name": villages["village_name"], "village_code": villages["village_code"],
                         "urban_rural_code": rural["urban_rural_code"]})
    return pd.concat([base.assign(year="2019", rural_population=int_text(pop19)),
                      base.assign(year="2020", rural_population=int_text(pop20))], ignore_index=True)
