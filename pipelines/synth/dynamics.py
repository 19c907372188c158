"""Quarter-to-quarter evolution: poverty status, exits, shocks, returns, incomes, monitoring.

The whole configured period range is always simulated (so a seed gives the same city whatever
subset of periods is written). Status codes: 0 未脱贫, 1 已脱贫（享受政策）, 2 返贫,
3 已脱贫（不再享受政策）, -1 none (边缘户 not registered).
Incomes are integer cents so the identities hold exactly:
年收入 = 工资性 + 生产经营性 + 财产性 + 转移性; 转移性 = its six items; 纯收入 = 年收入 − 生产经营性支出;
人均纯收入 = round(纯收入 ÷ 年度家庭人口数) (年度家庭人口数 = 人数 = members present at the quarter end).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

POOR, EXITED, RETURNED, EXITED_UNSUPPORTED, NONE = 0, 1, 2, 3, -1
NEVER = 10_000  # "period index" meaning: not happened


def period_index(periods: list[str], period: str) -> int:
    return periods.index(period)


def period_end(period: str) -> np.datetime64:
    """Quarter-end date of 'YYYYQn'."""
    year, q = int(period[:4]), int(period[5])
    month_after = np.datetime64(f"{year}-{3 * q:02d}", "M") + 1
    return month_after.astype("datetime64[D]") - 1


def all_periods(first: str, last: str) -> list[str]:
    """Quarters from first to last inclusive."""
    out, (y, q) = [], (int(first[:4]), int(first[5]))
    while True:
        out.append(f"{y}Q{q}")
        if out[-1] == last:
            return out
        y, q = (y + 1, 1) if q == 4 else (y, q + 1)


def line_value(lines: dict, section: str, year: int) -> float:
    """Line of a year from config/lines.toml (nearest earlier year if missing)."""
    values = {v["year"]: v["value"] for v in lines[section]["values"]}
    return float(values[max(y for y in values if y <= year)])


def completed_years(birth: np.ndarray, on: np.datetime64) -> np.ndarray:
    """Age in completed years (周岁) at date `on` for datetime64[D] births."""
    b = pd.DatetimeIndex(birth)
    d = pd.Timestamp(on)
    before = (b.month > d.month) | ((b.month == d.month) & (b.day > d.day))
    return (d.year - b.year - before.astype(int)).to_numpy()


def count_for(spec: dict, base: int) -> int:
    """Planted count: max(min, round(rate x base))."""
    return max(int(spec["min"]), int(round(spec["rate"] * base)))


@dataclass
class Plan:
    """Per-period household state (arrays shaped periods x households) and events."""

    status: np.ndarray
    exit_year: np.ndarray
    return_cause: np.ndarray
    registered: np.ndarray
    newly_poor_from: np.ndarray
    disaster_from: np.ndarray
    reexited: np.ndarray
    ill_from: np.ndarray  # per person
    events: list = field(default_factory=list)


def initial_status(hh: pd.DataFrame, cfg: dict, rng) -> tuple[np.ndarray, np.ndarray]:
    """2019Q4 status and exit year: ~initial_poor_person_share of registered persons still poor."""
    pv = cfg["poverty"]
    reg = hh["registered"].to_numpy()
    size = hh["size_ref"].to_numpy()
    n = len(hh)
    order = rng.permutation(np.flatnonzero(reg))
    target = pv["initial_poor_person_share"] * size[reg].sum()
    poor = np.zeros(n, dtype=bool)
    poor[order[np.cumsum(size[order]) <= max(target, size[order[0]] if len(order) else 0)]] = True
    years = np.array(list(pv["exit_year_weights"]), dtype=int)
    w = np.array(list(pv["exit_year_weights"].values()))
    exit_year = years[np.searchsorted(np.cumsum(w) / w.sum(), rng.random(n))]
    unsupported = (exit_year <= 2016) & (rng.random(n) < pv["no_longer_supported_share"])
    status = np.where(~reg, NONE, np.where(poor, POOR, np.where(unsupported, EXITED_UNSUPPORTED, EXITED)))
    return status, np.where((status == EXITED) | (status == EXITED_UNSUPPORTED), exit_year, 0)


def pick(candidates: np.ndarray, k: int, rng) -> np.ndarray:
    """Up to k distinct elements of candidates."""
    return rng.choice(candidates, size=min(k, len(candidates)), replace=False) if k > 0 else candidates[:0]


def simulate_status(hh: pd.DataFrame, persons: pd.DataFrame, periods: list[str], cfg: dict, rng) -> Plan:
    """Exits, returns to poverty (illness, disaster), newly poor 边缘户 over the periods."""
    n, n_p = len(hh), len(periods)
    sh, pv = cfg["shocks"], cfg["poverty"]
    status0, exit0 = initial_status(hh, cfg, rng)
    status = np.empty((n_p, n), dtype=int)
    exit_year = np.empty((n_p, n), dtype=int)
    ret_cause = np.full((n_p, n), "", dtype=object)
    registered = np.empty((n_p, n), dtype=bool)
    newly = np.full(n, NEVER)
    disaster = np.full(n, NEVER)
    returned_at = np.full(n, NEVER)
    reexited = np.zeros((n_p, n), dtype=bool)
    ill_from = np.full(len(persons), NEVER)
    status[0], exit_year[0], registered[0] = status0, exit0, hh["registered"].to_numpy()
    shocked = np.zeros(n, dtype=bool)
    events = []
    n_reg = int(hh["registered"].sum())
    adult = ((persons["age_ref"] >= 19) & (persons["age_ref"] <= 69)).to_numpy()
    p_hh = persons["hh"].to_numpy()
    for p in range(1, n_p):
        year = int(periods[p][:4])
        st, ey, reg = status[p - 1].copy(), exit_year[p - 1].copy(), registered[p - 1].copy()
        ret_cause[p] = np.where(st == RETURNED, ret_cause[p - 1], "")
        hazard = pv["exit_hazard"].get(periods[p], 0.0)
        exiting = (st == POOR) & (rng.random(n) < hazard)
        re_exit = (st == RETURNED) & (p - returned_at >= pv["return_duration_periods"])
        for h in np.flatnonzero(exiting | re_exit):
            events.append((periods[p], h, "exit", ""))
        reexited[p] = reexited[p - 1] | re_exit
        st[exiting | re_exit], ey[exiting | re_exit] = EXITED, year
        ret_cause[p][re_exit] = ""
        exited_prev = ((status[p - 1] == EXITED) | (status[p - 1] == EXITED_UNSUPPORTED)) & ~shocked
        has_adult = np.bincount(p_hh, weights=adult, minlength=n) > 0
        ill_h = pick(np.flatnonzero(exited_prev & has_adult), count_for(sh["illness_return"], n_reg), rng)
        shocked[ill_h] = True
        dis_h = pick(np.flatnonzero(exited_prev & ~shocked), count_for(sh["disaster_return"], n_reg), rng)
        shocked[dis_h] = True
        for hs, cause, label in [(ill_h, "illness", "因病"), (dis_h, "disaster", "因灾")]:
            st[hs], returned_at[hs] = RETURNED, p
            ret_cause[p][hs] = label
            events.extend((periods[p], h, "return_to_poverty", cause) for h in hs)
        disaster[dis_h] = p
        for h in ill_h:
            members = np.flatnonzero((p_hh == h) & adult)
            ill_from[members[rng.integers(0, len(members))]] = p
        new_h = pick(np.flatnonzero(~reg & ~shocked), count_for(sh["newly_poor_marginal"], n_reg), rng)
        shocked[new_h], newly[new_h], reg[new_h], st[new_h] = True, p, True, POOR
        events.extend((periods[p], h, "newly_poor", "") for h in new_h)
        status[p], exit_year[p], registered[p] = st, np.where(st == POOR, 0, ey), reg
    return Plan(status, exit_year, ret_cause, registered, newly, disaster, reexited, ill_from, events)


# ---------------------------------------------------------------- person state per period


def school_and_education(age: np.ndarray, u_school: np.ndarray, u_edu: np.ndarray, cfg: dict):
    """(在校生状况, 文化程度) by age; exactly one is non-empty. Ages 6-15 always in school."""
    p = cfg["person"]
    hs = np.where(u_school < 0.6, "普通高中", "中职")
    senior = np.char.add(hs.astype(str), np.array(["一年级", "二年级", "三年级"])[np.clip(age - 15, 0, 2)])
    tertiary = np.where(u_school < 0.15, "本科", "高职高专")
    tert_label = np.char.add(tertiary.astype(str), np.array(["一年级", "二年级", "三年级", "三年级"])[np.clip(age - 18, 0, 3)])
    school = np.select(
        [age < 3, age < 6, age < 12, age == 12, age == 13, age == 14, age == 15,
         (age <= 17) & (u_school < p["senior_school_share"]), (age >= 18) & (age <= 21) & (u_school < p["tertiary_share"])],
        [np.full(len(age), "学龄前儿童"), np.where(u_school < p["preschool_education_share"], "学前教育", "学龄前儿童"),
         np.full(len(age), "小学"), np.full(len(age), "七年级"), np.full(len(age), "八年级"),
         np.full(len(age), "九年级"), senior, senior, tert_label],
        default="",
    ).astype(object)
    levels = np.array(["文盲或半文盲", "小学", "初中", "高中", "大专", "本科及以上"], dtype=object)
    cum_tables = np.array([[.02, .14, .70, .90, .97, 1], [.08, .43, .90, 1, 1, 1], [.35, .80, .97, 1, 1, 1]])
    cum = cum_tables[(age >= 40).astype(int) + (age >= 60).astype(int)]
    adult_level = levels[(u_edu[:, None] > cum).sum(axis=1).clip(0, 5)]
    young_level = np.where(age <= 17, "初中", "高中")
    education = np.where(school != "", "", np.where(age < 22, young_level, adult_level)).astype(object)
    return school, education


def labour_skill(age, in_school, serious, disabled, chronic, u, cfg) -> np.ndarray:
    """劳动技能 from age, schooling and health (never 无/弱 for a healthy 16-59 non-pupil)."""
    return np.select(
        [(age < 16) | in_school, (serious | disabled) & (u < 0.6), serious | disabled | chronic,
         age >= 70, age >= 60, u < cfg["person"]["skilled_share"]],
        ["无劳动力", "丧失劳动力", "弱劳动力或半劳动力", "无劳动力", "弱劳动力或半劳动力", "技能劳动力"],
        default="普通劳动力",
    ).astype(object)


def health_label(disabled, chronic, serious) -> np.ndarray:
    """健康状况, comma-joined, never empty: 健康 when nothing else applies."""
    combos = np.array(["健康", "残疾", "长期慢性病", "残疾,长期慢性病", "患有大病", "残疾,患有大病",
                       "长期慢性病,患有大病", "残疾,长期慢性病,患有大病"], dtype=object)
    return combos[disabled.astype(int) + 2 * chronic.astype(int) + 4 * serious.astype(int)]


def person_state(persons: pd.DataFrame, traits: pd.DataFrame, p: int, end: np.datetime64,
                 ill_from: np.ndarray, cfg: dict) -> pd.DataFrame:
    """Per-person conditions at a quarter end (all persons; `present` marks those born by then)."""
    age = completed_years(persons["birth"].to_numpy(), end)
    serious = traits["serious"].to_numpy() | (ill_from <= p)
    disabled, chronic = traits["disabled"].to_numpy(), traits["chronic"].to_numpy()
    school, education = school_and_education(age, traits["u_school"].to_numpy(), traits["u_edu"].to_numpy(), cfg)
    in_school = school != ""
    in_school_age = (age >= 6)
    labour = labour_skill(age, in_school & in_school_age, serious, disabled, chronic, traits["u_labour"].to_numpy(), cfg)
    able = (labour == "普通劳动力") | (labour == "技能劳动力")
    migrant = able & (age >= 18) & (age <= 59) & (traits["u_migrant"].to_numpy() < cfg["person"]["migrant_share"])
    mw = cfg["names"]["migrant_status_weights"]
    statuses = np.array(list(mw), dtype=object)
    status = statuses[np.searchsorted(np.cumsum(list(mw.values())) / sum(mw.values()), traits["u_mig_status"].to_numpy())]
    places = {k: np.array(v, dtype=object) for k, v in cfg["names"]["work_places"].items()}
    place = np.empty(len(age), dtype=object)
    for k, v in places.items():
        m = status == k
        place[m] = v[(traits["u_place"].to_numpy()[m] * len(v)).astype(int)]
    return pd.DataFrame({
        "present": persons["birth"].to_numpy() <= end, "age": age, "school": school, "education": education,
        "health": health_label(disabled, chronic, serious), "serious": serious, "chronic": chronic,
        "disabled": disabled, "labour": labour, "migrant": migrant,
        "migrant_status": np.where(migrant, status, ""), "work_location": np.where(migrant, place, ""),
        "work_months": np.where(migrant, traits["work_months"].to_numpy(), -1),
        "shock_ill": ill_from <= p, "in_school": in_school & (age >= 3) & (school != "学龄前儿童"),
    })


# ---------------------------------------------------------------- incomes


def target_per_capita(hh: pd.DataFrame, plan: Plan, p: int, year: int, cfg: dict, lines: dict) -> np.ndarray:
    """Target per-capita net income (yuan) by status: poor below the national line, exited above."""
    pv = cfg["poverty"]
    nat, prov = line_value(lines, "national", year), line_value(lines, "provincial_guideline", year)
    growth = pv["income_growth_2020"] if year >= 2020 else 1.0
    f0, f1 = pv["poor_income_factor"]
    poor_pc = nat * (f0 + hh["u_poor_income"].to_numpy() * (f1 - f0))
    exited_pc = np.maximum(pv["exited_income_median"] * np.exp(pv["exited_income_sigma"] * hh["z_income"].to_numpy()) * growth,
                           pv["exited_income_floor_factor"] * prov)
    m0, m1 = pv["marginal_income"]
    marginal_pc = (m0 + hh["u_income"].to_numpy() * (m1 - m0)) * growth
    st = plan.status[p]
    return np.select([(st == POOR) | (st == RETURNED), st == NONE], [poor_pc, marginal_pc], default=exited_pc)


def household_incomes(hh: pd.DataFrame, state: pd.DataFrame, persons_hh: np.ndarray, pc_target: np.ndarray,
                      poor: np.ndarray, shock: bool, mountain: np.ndarray, cfg: dict) -> pd.DataFrame:
    """Income components in integer cents; identities hold exactly (see module docstring)."""
    ic, n = cfg["income"], len(hh)
    pres = state["present"].to_numpy()
    size = np.bincount(persons_hh, weights=pres, minlength=n)
    elders = np.bincount(persons_hh, weights=pres & (state["age"].to_numpy() >= 60), minlength=n)
    migrants = np.bincount(persons_hh, weights=pres & state["migrant"].to_numpy(), minlength=n)
    workers = np.bincount(persons_hh, weights=pres & np.isin(state["labour"].to_numpy(),
                          ["普通劳动力", "技能劳动力", "弱劳动力或半劳动力"]), minlength=n)
    attr = hh["attribute"].to_numpy()
    items = {
        "family_planning_transfer": np.where(hh["u_fp"].to_numpy() < ic["family_planning_share"], ic["family_planning_amount"], 0.0),
        "dibao_transfer": np.where(attr == 1, ic["dibao_per_person"] * size, 0.0),
        "tekun_transfer": np.where(attr == 2, ic["tekun_per_person"] * size, 0.0),
        "pension_transfer": ic["pension_per_elder"] * elders,
        "eco_compensation_transfer": np.where(mountain & (hh["u_eco"].to_numpy() < ic["eco_compensation_share_mountain"]),
                                              ic["eco_compensation_range"][0] + hh["u_eco_amount"].to_numpy()
                                              * np.diff(ic["eco_compensation_range"])[0], 0.0),
        "other_transfer": ic["other_transfer_range"][0] + hh["u_other"].to_numpy() * np.diff(ic["other_transfer_range"])[0],
    }
    total_target = pc_target * size
    transfers = sum(items.values())
    cap = np.where(poor & (transfers > ic["poor_transfer_cap"] * total_target),
                   ic["poor_transfer_cap"] * total_target / np.maximum(transfers, 1), 1.0)
    cents = {k: np.rint(v * cap * 100).astype(np.int64) for k, v in items.items()}
    transfer = sum(cents.values())
    rest = np.maximum(total_target * 100 - transfer, 0)
    prop = np.rint(rest * ic["property_share"]).astype(np.int64)
    wshare = np.where(workers == 0, 0.0, np.where(migrants > 0, ic["wage_share_with_migrant"], ic["wage_share_without_migrant"]))
    wage = np.rint((rest - prop) * wshare).astype(np.int64)
    op_net = np.rint(rest).astype(np.int64) - prop - wage
    op_gross = np.rint(op_net / (1 - ic["operating_cost_share"])).astype(np.int64)
    cost = op_gross - op_net
    if shock:
        wage = np.where(migrants > 0, np.rint(wage * (1 - cfg["shocks"]["migrant_wage_cut"])).astype(np.int64), wage)
    gross = wage + op_gross + prop + transfer
    net = gross - cost
    size_i = size.astype(np.int64)
    pc = np.rint(net / np.maximum(size_i, 1)).astype(np.int64)
    out = pd.DataFrame({"wage_income": wage, "operating_income": op_gross, "property_income": prop,
                        "transfer_income": transfer, **cents, "production_cost": cost, "gross_income": gross,
                        "net_income": net, "per_capita_net_income": pc})
    out["size"] = size_i
    out["migrants"] = migrants
    return out


def spending(state: pd.DataFrame, traits: pd.DataFrame, persons_hh: np.ndarray, n: int, cfg: dict) -> pd.DataFrame:
    """医疗自付费用 (high for ill members, very high after an illness shock) and 教育支出, cents."""
    ic = cfg["income"]
    u = traits["u_oop"].to_numpy()
    pres = state["present"].to_numpy()

    def span(r):
        return r[0] + u * (r[1] - r[0])

    oop = np.select([state["shock_ill"].to_numpy(), state["serious"].to_numpy(), state["chronic"].to_numpy()],
                    [span(ic["medical_oop_shock"]), span(ic["medical_oop_serious"]), span(ic["medical_oop_chronic"])],
                    default=span(ic["medical_oop_other"]))
    edu = np.where(state["in_school"].to_numpy() & (state["age"].to_numpy() >= 6), span(ic["education_spending_per_student"]), 0)
    return pd.DataFrame({
        "medical_out_of_pocket": np.rint(np.bincount(persons_hh, weights=oop * pres * 100, minlength=n)).astype(np.int64),
        "education_spending": np.rint(np.bincount(persons_hh, weights=edu * pres * 100, minlength=n)).astype(np.int64),
    })


def monitoring_category(plan: Plan, p: int, pc_cents: np.ndarray, monitoring_line: float, active: bool) -> np.ndarray:
    """监测对象类别: 边缘户 → 边缘易致贫户; exited below the monitoring line or re-exited → 脱贫不稳定户."""
    st = plan.status[p]
    if not active:
        return np.full(len(st), "", dtype=object)
    exited = (st == EXITED) | (st == EXITED_UNSUPPORTED)
    unstable = exited & ((pc_cents < monitoring_line * 100) | plan.reexited[p])
    return np.select([st == NONE, unstable], ["边缘易致贫户", "脱贫不稳定户"], default="").astype(object)
