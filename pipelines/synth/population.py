"""Synthetic population: villages, households, members, IDs, names and stable traits.

Everything is vectorised numpy (no per-person Python loop) so a chunk of a few hundred thousand
households builds in seconds. Tunables come from config/synth.toml (passed in as `cfg`).
Tables are plain DataFrames with numeric codes; labels are attached when a snapshot is exported.

Roles (member order inside a household): 0 户主, 1 配偶, 2 之父/之母, 3 之子/之女, 4 之孙子/之孙女.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.idcard import check_chars

ROLE_HEAD, ROLE_SPOUSE, ROLE_PARENT, ROLE_CHILD, ROLE_GRANDCHILD = range(5)
DAY0 = np.datetime64("1900-01-01")
MAX_DAYS = 50_000  # birth dates 1900-01-01 .. 2036: index space of the ID sequence counter
PLANTED_K_FROM = 450  # ID sequence numbers (k, seq = 2k + male) reserved for planted birth dates
PLANTED_K_TO = 500  # exclusive: 50 planted persons per (county, birth date, sex) group


# ---------------------------------------------------------------- villages


def village_names(n: int, syllables: list[str], rng: np.random.Generator) -> np.ndarray:
    """n distinct two-syllable names (e.g. 东峪) drawn without replacement from syllable pairs."""
    pairs = np.array([a + b for a in syllables for b in syllables if a != b], dtype=object)
    return pairs[rng.choice(len(pairs), size=n, replace=False)]


def build_villages(townships: pd.DataFrame, counties: pd.DataFrame, cfg: dict, rng,
                   reference: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per village: 12-digit code (township + 3 digits), name, township/county, traits.

    村委会 get village parts 200-399; 街道 townships (code part 001-099) also get a few 居委会 001-199.
    With `reference` (config/regions/villages.csv: code, name, township_code), the villages are
    those rows (居委会 = village part below 200) and only their traits are drawn; the draws that
    would have made them are still taken, so the seed the reference was written from
    (village_reference) gives the same city with or without it.
    """
    c = cfg["city"]
    lo, hi = c["villages_per_township"]
    n_vil = rng.integers(lo, hi + 1, size=len(townships))
    is_street = townships["code"].astype(str).str[6:9].astype(int).to_numpy() < 100
    n_com = np.where(is_street, rng.integers(c["street_committees"][0], c["street_committees"][1] + 1,
                                             size=len(townships)), 0)
    town_idx = np.repeat(np.arange(len(townships)), n_vil + n_com)
    # position within township: first the committees (001..), then villages (200..)
    first = np.repeat(np.cumsum(n_vil + n_com) - (n_vil + n_com), n_vil + n_com)
    pos = np.arange(len(town_idx)) - first
    ncom_t = n_com[town_idx]
    committee = pos < ncom_t
    part = np.where(committee, pos + 1, 200 + (pos - ncom_t))
    tw = townships.iloc[town_idx].reset_index(drop=True)
    names = village_names(len(town_idx), cfg["names"]["village_syllables"], rng)
    suffix = np.where(committee, "社区居委会", "村委会")
    if reference is not None:
        ref = reference.reset_index(drop=True)
        part = ref["code"].astype(str).str[9:12].astype(int).to_numpy()
        committee = part < 200
        tw = townships.set_index(townships["code"].astype(str)).loc[ref["township_code"].astype(str)].reset_index(drop=True)
        names, suffix = ref["name"].to_numpy(dtype=object), ""
    county_names = dict(zip(counties["code"].astype(str), counties["name"]))
    v = pd.DataFrame({
        "village_code": tw["code"].astype(str) + pd.Series(part).map("{:03d}".format),
        "village_name": pd.Series(names, dtype=str) + suffix,
        "township_code": tw["code"].astype(str),
        "township_name": tw["name"],
        "county_code": tw["county_code"].astype(str),
    })
    v["county_name"] = v["county_code"].map(county_names)
    v["committee"] = committee
    n = len(v)
    mountain = (rng.random(n) < c["mountain_village_share"]) & ~committee
    v["mountain"] = mountain
    v["scarce_area"] = mountain & (rng.random(n) < c["scarce_area_share_mountain"])
    v["seasonal_shortage"] = mountain & (rng.random(n) < c["seasonal_shortage_share_mountain"])
    v["weight"] = rng.gamma(c["village_weight_shape"], 1.0, size=n) * np.where(mountain, 1.5, 1.0)
    v["weight"] = np.where(committee, v["weight"] * 0.3, v["weight"])
    return v


def village_reference(villages: pd.DataFrame, urban_rural_code: pd.Series) -> pd.DataFrame:
    """The rows of config/regions/villages.csv for generated villages: code, name, township_code,
    urban_rural_code (城乡分类代码), synthetic = true (not official codes)."""
    return pd.DataFrame({"code": villages["village_code"], "name": villages["village_name"],
                         "township_code": villages["township_code"],
                         "urban_rural_code": urban_rural_code.astype(str).to_numpy(), "synthetic": "true"})


# ---------------------------------------------------------------- households and members


def assign_households(n_registered: int, n_marginal: int, villages: pd.DataFrame, rng) -> pd.DataFrame:
    """Households placed in villages by weight; sorted by village; `registered` False for 边缘户."""
    n = n_registered + n_marginal
    p = villages["weight"].to_numpy() / villages["weight"].sum()
    village = np.sort(rng.choice(len(villages), size=n, p=p))
    registered = np.ones(n, dtype=bool)
    registered[rng.choice(n, size=n_marginal, replace=False)] = False
    return pd.DataFrame({"village": village, "registered": registered})


def draw_household_shape(n: int, cfg: dict, rng) -> pd.DataFrame:
    """Head age/sex and member counts per role for n households."""
    h = cfg["household"]
    lo, hi = h["head_age_range"]
    head_age = np.clip(np.rint(rng.normal(h["head_age_mean"], h["head_age_sd"], n)), lo, hi).astype(int)
    head_male = rng.random(n) < h["head_male_share"]
    spouse_p = np.where(head_age < 70, h["spouse_share_under_70"], h["spouse_share_70_plus"])
    n_spouse = (rng.random(n) < spouse_p).astype(int)
    spouse_age = np.clip(head_age + np.rint(rng.normal(np.where(head_male, -2, 2), 3)), 20, 95).astype(int)
    young = head_age < 60
    cw_y, cw_o = np.array(h["children_weights_head_under_60"]), np.array(h["children_weights_head_60_plus"])
    u = rng.random(n)
    n_children = np.where(young, np.searchsorted(np.cumsum(cw_y), u * cw_y.sum()),
                          np.searchsorted(np.cumsum(cw_o), u * cw_o.sum()))
    n_parent = ((head_age < 56) & (rng.random(n) < h["parent_share_head_under_56"])).astype(int)
    n_grand = np.where((head_age >= 50) & (rng.random(n) < h["grandchildren_share_head_50_plus"]),
                       rng.integers(1, 3, n), 0)
    return pd.DataFrame({"head_age": head_age, "head_male": head_male, "n_spouse": n_spouse,
                         "spouse_age": spouse_age, "n_children": n_children, "n_parent": n_parent,
                         "n_grandchildren": n_grand})


def expand_members(shape: pd.DataFrame) -> pd.DataFrame:
    """One row per member: household index and role, in household then role order."""
    counts = {ROLE_HEAD: np.ones(len(shape), dtype=int), ROLE_SPOUSE: shape["n_spouse"].to_numpy(),
              ROLE_PARENT: shape["n_parent"].to_numpy(), ROLE_CHILD: shape["n_children"].to_numpy(),
              ROLE_GRANDCHILD: shape["n_grandchildren"].to_numpy()}
    hh = np.concatenate([np.repeat(np.arange(len(shape)), c) for c in counts.values()])
    role = np.concatenate([np.full(c.sum(), r) for r, c in counts.items()])
    order = np.lexsort((role, hh))
    return pd.DataFrame({"hh": hh[order], "role": role[order]})


def member_ages_and_sex(members: pd.DataFrame, shape: pd.DataFrame, rng) -> pd.DataFrame:
    """Ages at the reference date and sex (True = male) consistent with each role."""
    hh, role = members["hh"].to_numpy(), members["role"].to_numpy()
    n = len(hh)
    head_age = shape["head_age"].to_numpy()[hh]
    head_male = shape["head_male"].to_numpy()[hh]
    spouse_age = np.where(shape["n_spouse"].to_numpy()[hh] > 0, shape["spouse_age"].to_numpy()[hh], 200)
    younger_parent = np.minimum(head_age, spouse_age)
    u = rng.random(n)
    age = np.select(
        [role == ROLE_HEAD, role == ROLE_SPOUSE, role == ROLE_PARENT, role == ROLE_CHILD],
        [head_age, shape["spouse_age"].to_numpy()[hh],
         np.minimum(head_age + 20 + np.floor(u * 13), 98),
         np.floor(u * np.minimum(younger_parent - 19, 46))],
        default=np.floor(u * np.maximum(head_age - 44, 1)),
    ).astype(int)
    male = np.select([role == ROLE_HEAD, role == ROLE_SPOUSE], [head_male, ~head_male],
                     default=rng.random(n) < 0.5)
    return pd.DataFrame({"age_ref": np.maximum(age, 0), "male": male})


def birth_dates(age_ref: np.ndarray, ref_date: np.datetime64, rng) -> np.ndarray:
    """Birth dates (datetime64[D]) giving exactly `age_ref` completed years at `ref_date`."""
    ref_year = ref_date.astype("datetime64[Y]").astype(int) + 1970
    year_end = (np.asarray(ref_year - age_ref + 1 - 1970)).astype("datetime64[Y]").astype("datetime64[D]") - 1
    year_start = (np.asarray(ref_year - age_ref - 1970)).astype("datetime64[Y]").astype("datetime64[D]")
    days = (year_end - year_start).astype(int) + 1
    offset = np.floor(rng.random(len(age_ref)) * days).astype(int)
    return year_end - offset


def relation_labels(role: np.ndarray, male: np.ndarray) -> np.ndarray:
    """与户主关系 label from role and sex."""
    labels = np.array(["户主", "配偶", "之母", "之女", "之孙女", "户主", "配偶", "之父", "之子", "之孙子"], dtype=object)
    return labels[role + 5 * male.astype(int)]


# ---------------------------------------------------------------- identifiers


def digits_to_text(digits: np.ndarray) -> np.ndarray:
    """(n, k) array of digits 0-9 -> array of k-character strings."""
    codes = (np.asarray(digits, dtype=np.uint8) + ord("0")).astype(np.uint8)
    return np.ascontiguousarray(codes).view(f"S{digits.shape[1]}").ravel().astype(str)


def int_digits(values: np.ndarray, width: int) -> np.ndarray:
    """(n, width) decimal digits of non-negative integers."""
    values = np.asarray(values, dtype=np.int64)
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return (values[:, None] // powers[None, :]) % 10


def id_sequence_numbers(county_idx, birth, male, counter: np.ndarray) -> np.ndarray:
    """Sequence k per (county, birth date, sex), unique across chunks via `counter` (updated in place)."""
    day = (np.asarray(birth).astype("datetime64[D]") - DAY0).astype(int)
    key = (np.asarray(county_idx) * MAX_DAYS + day) * 2 + np.asarray(male, dtype=int)
    order = np.argsort(key, kind="stable")
    sk = key[order]
    start = np.r_[0, np.flatnonzero(sk[1:] != sk[:-1]) + 1]
    rank_sorted = np.arange(len(sk)) - np.repeat(start, np.diff(np.r_[start, len(sk)]))
    rank = np.empty_like(rank_sorted)
    rank[order] = rank_sorted
    base = (key * 7919) % 40
    k = base + counter[key] + rank
    np.add.at(counter, key, 1)
    if len(k) and k.max() >= PLANTED_K_FROM:
        raise ValueError("ID sequence space exhausted for a (county, birth date, sex) group")
    return k


def id_numbers(county_code: np.ndarray, birth: np.ndarray, male: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Valid 18-character GB 11643 IDs: county address, birth date, sequence 2k+male, check char."""
    ymd = np.asarray(birth).astype("datetime64[D]").astype(str)
    ymd_int = np.char.replace(ymd, "-", "").astype(np.int64)
    seq = 2 * np.asarray(k, dtype=np.int64) + np.asarray(male, dtype=np.int64)
    first17 = np.hstack([int_digits(county_code.astype(np.int64), 6), int_digits(ymd_int, 8), int_digits(seq, 3)])
    return np.char.add(digits_to_text(first17), check_chars(first17))


def household_ids(village_codes: np.ndarray, serial: np.ndarray, digits: int) -> np.ndarray:
    """户编号 = 12-digit village code + zero-padded serial."""
    return np.char.add(village_codes.astype(str), digits_to_text(int_digits(serial, digits)))


def phones(n: int, rng) -> np.ndarray:
    """11-digit mobile numbers (13x/15x/18x prefixes)."""
    prefix = rng.choice(np.array([130, 131, 132, 135, 137, 138, 139, 150, 151, 152, 158, 159, 186, 187, 188]), n)
    return digits_to_text(np.hstack([int_digits(prefix, 3), int_digits(rng.integers(0, 10**8, n), 8)]))


# ---------------------------------------------------------------- names


def person_names(hh: np.ndarray, role: np.ndarray, male: np.ndarray, cfg: dict, rng) -> np.ndarray:
    """Chinese names: children, grandchildren and 之父 share the head's surname."""
    surnames = np.array(cfg["names"]["surnames"], dtype=object)
    given = np.array(cfg["names"]["given"], dtype=object)
    n = len(hh)
    own = rng.integers(0, len(surnames), n)
    head_pos = np.r_[0, np.flatnonzero(hh[1:] != hh[:-1]) + 1]
    head_of = np.repeat(head_pos, np.diff(np.r_[head_pos, n]))
    inherit = (role == ROLE_CHILD) | (role == ROLE_GRANDCHILD) | ((role == ROLE_PARENT) & male)
    sur = surnames[np.where(inherit, own[head_of], own)]
    g1 = given[rng.integers(0, len(given), n)]
    g2 = np.where(rng.random(n) < 0.7, given[rng.integers(0, len(given), n)], "")
    return (pd.Series(sur, dtype=object) + g1 + g2).to_numpy(dtype=object)


def plant_rare_characters(names: np.ndarray, eligible: np.ndarray, cfg: dict, rng) -> np.ndarray:
    """Replace the last character of some eligible names by a rare (non-GBK) character; >= 2 names."""
    idx = np.flatnonzero(eligible)
    if len(idx) == 0:
        return names
    k = min(len(idx), max(2, int(round(len(idx) * cfg["person"]["rare_name_share"]))))
    pick = rng.choice(idx, size=k, replace=False)
    rare = np.array(cfg["person"]["rare_chars"], dtype=object)[rng.integers(0, len(cfg["person"]["rare_chars"]), k)]
    out = names.copy()
    out[pick] = [s[:-1] + r for s, r in zip(names[pick], rare)]
    return out


# ---------------------------------------------------------------- stable traits


def person_traits(persons: pd.DataFrame, cfg: dict, rng) -> pd.DataFrame:
    """Stable per-person draws: health flags and uniforms that later decide school, work, insurance."""
    p = cfg["person"]
    n = len(persons)
    age = persons["age_ref"].to_numpy()
    steps = np.array(p["chronic_share_by_age"])
    chronic_p = steps[np.searchsorted(steps[:, 0], age, side="right") - 1, 1]
    out = pd.DataFrame(index=persons.index)
    out["chronic"] = rng.random(n) < chronic_p
    out["serious"] = (rng.random(n) < p["serious_share"] * (age >= 18))
    out["disabled"] = rng.random(n) < p["disabled_share"] * (age >= 16)
    for name in ["u_edu", "u_school", "u_labour", "u_migrant", "u_mig_status", "u_place", "u_oop"]:
        out[name] = rng.random(n)
    out["work_months"] = rng.integers(3, 13, n)
    out["employee_ins"] = rng.random(n) < p["employee_insurance_share"]
    out["welfare_job"] = rng.random(n) < p["public_welfare_job_share"]
    out["party"] = rng.random(n) < cfg["household"]["party_member_share"] * (age >= 25)
    out["minority"] = rng.random(n) < cfg["household"]["ethnic_minority_share"]
    out["disability_type"] = rng.integers(0, len(cfg["names"]["disability_types"]), n)
    return out


def household_traits(households: pd.DataFrame, persons: pd.DataFrame, villages: pd.DataFrame,
                     cfg: dict, rng) -> pd.DataFrame:
    """Stable per-household draws: attribute, cause, housing, water, relocation, land, phone."""
    n = len(households)
    hh = persons["hh"].to_numpy()
    size = np.bincount(hh, minlength=n)
    always = persons["age_ref"].to_numpy() >= 1  # members present in every period (born before 2020)
    ill = np.bincount(hh, weights=(persons["chronic"] | persons["serious"]).to_numpy() & always, minlength=n) > 0
    disabled = np.bincount(hh, weights=persons["disabled"].to_numpy() & always, minlength=n) > 0
    head_age = persons.loc[persons["role"] == ROLE_HEAD, "age_ref"].to_numpy()
    vil = villages.iloc[households["village"].to_numpy()]
    mountain = vil["mountain"].to_numpy()
    reg = households["registered"].to_numpy()
    h = cfg["household"]
    out = pd.DataFrame(index=households.index)
    tekun = reg & (size == 1) & (head_age >= 60) & (rng.random(n) < h["tekun_share_single_elderly"])
    dibao = reg & ~tekun & (rng.random(n) < h["dibao_share"])
    out["attribute"] = np.where(tekun, 2, np.where(dibao, 1, 0))  # 0 一般 1 低保 2 特困供养
    other = cfg["names"]["causes_other"]
    labels, weights = np.array(list(other), dtype=object), np.array(list(other.values()))
    cause_other = labels[np.searchsorted(np.cumsum(weights) / weights.sum(), rng.random(n))]
    u = rng.random(n)
    cause = np.where(ill & (u < 0.7), "因病", np.where(disabled & (u >= 0.7), "因残", cause_other))
    cause = np.where(disabled & ~ill & (u < 0.7), "因残", cause)
    out["main_cause"] = cause  # written only while the household is registered
    gw = cfg["housing"]["grade_weights"]
    out["housing_grade"] = np.array(list(gw), dtype=object)[
        np.searchsorted(np.cumsum(list(gw.values())) / sum(gw.values()), rng.random(n))]
    rs = cfg["shocks"]
    reloc_p = rs["relocated_share"] * np.where(mountain, 3.0, 1.0)
    out["relocated"] = reg & (rng.random(n) < reloc_p)
    out["relocation_centralised"] = rng.random(n) < rs["centralised_share"]
    out["relocation_site"] = rng.integers(0, 5, n)
    out["relocation_unsettled"] = out["relocated"] & (rng.random(n) < rs["relocated_unsettled_share"])
    # an unsettled relocation leaves the family in its old house, which must then be safe
    out.loc[out["relocation_unsettled"] & out["housing_grade"].isin(["C", "D"]), "housing_grade"] = "B"
    w = cfg["water"]
    scarce = vil["scarce_area"].to_numpy()
    q_lo = np.where(scarce, w["quantity_scarce"][0], w["quantity_rich"][0])
    q_hi = np.where(scarce, w["quantity_scarce"][1], w["quantity_rich"][1])
    out["water_quantity"] = np.round(q_lo + rng.random(n) * (q_hi - q_lo), 1)
    out["water_piped"] = rng.random(n) < w["piped_share"]
    out["fetch_minutes"] = rng.integers(w["fetch_minutes"][0], w["fetch_minutes"][1] + 1, n)
    out["horizontal_m"] = rng.integers(w["horizontal_m"][0], w["horizontal_m"][1] + 1, n)
    out["vertical_m"] = rng.integers(w["vertical_m"][0], w["vertical_m"][1] + 1, n)
    seasonal = vil["seasonal_shortage"].to_numpy()
    od = np.where(seasonal, rng.integers(w["outage_days_seasonal"][0], w["outage_days_seasonal"][1] + 1, n),
                  rng.integers(w["outage_days_normal"][0], w["outage_days_normal"][1] + 1, n))
    out["outage_days"] = od
    out["land_mu"] = np.round(rng.gamma(2.0, 1.5, n), 1)
    out["area_m2"] = np.round(20 + size * rng.uniform(15, 30, n), 1)
    out["toilet"] = rng.random(n) < 0.8
    out["road"] = rng.integers(0, len(cfg["names"]["road_types"]), n)
    out["phone"] = phones(n, rng)
    for name in ["u_income", "u_poor_income", "u_fp", "u_eco", "u_eco_amount", "u_other", "u_pair", "u_pair_rank",
                 "u_natural"]:
        out[name] = rng.random(n)
    out["z_income"] = rng.normal(size=n)
    out["size_ref"] = size
    return out


# ---------------------------------------------------------------- one chunk of the city


def new_counters(n_villages: int, n_counties: int) -> dict:
    """Running counters that keep IDs and 户编号 unique across chunks."""
    return {"id": np.zeros(n_counties * MAX_DAYS * 2, dtype=np.int64),
            "serial": np.zeros(n_villages, dtype=np.int64), "planted_k": {}}


def build_population(n_registered: int, n_marginal: int, villages: pd.DataFrame, county_codes: list[str],
                     cfg: dict, rng, counters: dict, serial_digits: int, ref_date: np.datetime64):
    """Households and members of one chunk: (households, persons) DataFrames with stable traits."""
    hh = assign_households(n_registered, n_marginal, villages, rng)
    shape = draw_household_shape(len(hh), cfg, rng)
    members = expand_members(shape)
    members = pd.concat([members, member_ages_and_sex(members, shape, rng)], axis=1)
    members["birth"] = birth_dates(members["age_ref"].to_numpy(), ref_date, rng)
    vil_idx = hh["village"].to_numpy()
    start = np.r_[0, np.flatnonzero(vil_idx[1:] != vil_idx[:-1]) + 1]
    rank = np.arange(len(vil_idx)) - np.repeat(start, np.diff(np.r_[start, len(vil_idx)]))
    serial = counters["serial"][vil_idx] + rank + 1
    np.add.at(counters["serial"], vil_idx, 1)
    hh["household_id"] = household_ids(villages["village_code"].to_numpy()[vil_idx], serial, serial_digits)
    hh["county_idx"] = pd.Index(county_codes).get_indexer(villages["county_code"].to_numpy()[vil_idx])
    p_hh = members["hh"].to_numpy()
    first = np.r_[0, np.flatnonzero(p_hh[1:] != p_hh[:-1]) + 1]
    seq = np.arange(len(p_hh)) - np.repeat(first, np.diff(np.r_[first, len(p_hh)])) + 1
    members["seq"] = seq
    members["person_id"] = np.char.add(hh["household_id"].to_numpy()[p_hh].astype(str),
                                       digits_to_text(int_digits(seq, 2)))
    county_idx = hh["county_idx"].to_numpy()[p_hh]
    male = members["male"].to_numpy()
    k = id_sequence_numbers(county_idx, members["birth"].to_numpy(), male, counters["id"])
    county_code = np.asarray(county_codes, dtype=np.int64)[county_idx]
    members["id_number"] = id_numbers(county_code, members["birth"].to_numpy(), male, k)
    members["name"] = person_names(p_hh, members["role"].to_numpy(), male, cfg, rng)
    rare_counties = [c for c, spec in cfg["counties"].items() if spec.get("rare_names")]
    eligible = np.isin(np.asarray(county_codes)[county_idx], rare_counties)
    members["name"] = plant_rare_characters(members["name"].to_numpy(), eligible, cfg, rng)
    members["relation"] = relation_labels(members["role"].to_numpy(), male)
    persons = pd.concat([members, person_traits(members, cfg, rng)], axis=1)
    hh = pd.concat([hh, household_traits(hh, persons, villages, cfg, rng)], axis=1)
    return hh, persons


def planted_person(county_code: str, birth: np.datetime64, male: bool, counters: dict) -> str:
    """A valid ID from the reserved sequence range (never collides with generated IDs, which stay
    below PLANTED_K_FROM). The range is counted per (county, birth date, sex) — the part of the ID
    the sequence number disambiguates — so the number of planted persons grows with the city
    instead of exhausting one city-wide range of 50."""
    group = (str(county_code), str(np.datetime64(birth, "D")), bool(male))
    k = counters["planted_k"].get(group, PLANTED_K_FROM)
    if k >= PLANTED_K_TO:
        raise ValueError(f"reserved ID sequence range exhausted for county {county_code}, born {group[1]}, "
                         f"{'male' if male else 'female'} ({PLANTED_K_TO - PLANTED_K_FROM} planted persons)")
    counters["planted_k"][group] = k + 1
    return str(id_numbers(np.array([int(county_code)]), np.array([birth], dtype="datetime64[D]"),
                          np.array([male]), np.array([k]))[0])
