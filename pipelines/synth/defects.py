"""Planted deprivations (two-no-worries-three-guarantees and water) and planted raw-file defects.

Both act on one quarter's registry frame (canonical names, text cells; see exports.py), only in
county-format runs (Parquet runs are clean). Every planted case picks a household no other planted
case of that quarter touches, so each household carries at most one deprivation or defect and
every other household is fully secured and clean.

Deprivation rules the truth follows (truth/deprivations.csv, one row per case; `deprived` says
whether the household counts as deprived for that criterion):

- food / clothing: 是否不愁吃 / 是否不愁穿 = 否 on the household's rows -> deprived (household level).
- education: a member aged compulsory_age_min..compulsory_age_max completed years at the quarter
  end (config/thresholds.toml [education], 6-15) with 在校生状况 blank -> deprived, unless
  是否送教上门 = 是 (severe disability, taught at home) -> not deprived.
  Edge cases: the day before the 16th birthday (15 y 364 d) out of school -> deprived;
  the 16th birthday itself (16 y 0 d) out of school -> not deprived (outside the band);
  a disabled child with 送教上门 = 是 and not in school -> not deprived.
  A dropout has 失学或辍学原因 filled and 文化程度 filled (exactly one of 文化程度/在校生状况).
- medical: a member with 是否参加大病保险 = 否, or with neither 城乡居民 nor 城镇职工 basic insurance
  -> deprived; a member aged < 1 year (newborn_max_age_years completed years = 0) with no insurance
  at all -> not deprived (newborn exception).
- housing: 住房安全等级 C or D with no 住房安全保障方式 (and 是否危房户 = 是) -> deprived;
  grade C with 住房安全保障方式 = 改造安全 -> not deprived (edge case). Grades A/B (鉴定安全) and
  C/D 改造安全 / 保障安全 are secure everywhere else.
- water (T/CHES 18-2018, thresholds [water]): four indicators. 水量 meets at >= 35 L (rich area,
  是否缺水地区 = 否) or >= 20 L (scarce); 水质 达标; 用水方便 meets when piped or fetch <= 20 min,
  horizontal <= 800 m, vertical <= 80 m; 供水保证率 meets at <= 36 outage days. All meet -> 安全;
  all at least basic -> 基本安全 (not deprived); any 不达标 -> unsafe (deprived).
  Edge cases: 34.9 L in a rich area -> 基本达标 -> 基本安全, not deprived (detail says so);
  exactly 35.0 L -> meets -> 安全, not deprived. Unsafe water is planted clustered in one village
  (水质 不达标, or 年断水缺水天数 45-90 in a seasonal-shortage village) -> deprived.

Defects (truth/defects.csv, one row per affected file row) and how quarantine is kept honest:
quarantine defects (duplicate_person, missing_village_code, column_shift) sit on EXTRA rows
added to a household (a copied person, or a new phantom member with a valid unique ID), so once
ingest quarantines them the household's 人数 still equals its loaded member count. Household-level
defects (household_size_mismatch, income_not_numeric, income_negative, merged_cell_filled) list
every affected row; tests should match household-level findings on (period, household_id, reason).
Bad income cells keep the file arithmetically consistent: '无'/'—' replace a component that is 0,
and a negative 财产性收入 is carried into 年收入/纯收入/人均纯收入, so a NULL-loaded cell must not
raise income_identity_mismatch (identities over a NULL component are not evaluable).
merged_cell_filled lists the filled (non-top) rows; `column` joins the merged headers with "|".
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.idcard import CHECK_CHARS
from pipelines.synth import population as pop
from pipelines.synth.dynamics import completed_years, count_for, period_end
from pipelines.synth.exports import NO, YES, cents_text

DEFECT_REASONS = {
    "id_checksum_invalid": "finding", "duplicate_person": "quarantine", "multiple_heads": "finding",
    "household_size_mismatch": "finding", "income_not_numeric": "finding", "income_negative": "finding",
    "unknown_code_label": "finding", "missing_village_code": "quarantine", "merged_cell_filled": "finding",
    "column_shift": "quarantine",
    # planted in a names-only export only (pipelines/synth/pipeline.py write_names_only_file)
    "id_damaged_by_spreadsheet": "quarantine", "total_row": "quarantine", "unknown_place_name": "quarantine",
}
HELPERS = ["_defect_id", "_kind", "_column"]


# ---------------------------------------------------------------- helpers


def household_index(frame: pd.DataFrame) -> dict:
    """户编号 -> array of row positions."""
    return frame.groupby("household_id", sort=False).indices


def pick_households(candidates, k: int, used: set, rng) -> list:
    """Up to k households from candidates not yet used (marks them used)."""
    pool = sorted(set(candidates) - used)
    chosen = [pool[i] for i in rng.choice(len(pool), size=min(k, len(pool)), replace=False)] if pool else []
    used.update(chosen)
    return chosen


def ages_at(frame: pd.DataFrame, period: str) -> np.ndarray:
    return completed_years(frame["birth_date"].to_numpy().astype("datetime64[D]"), period_end(period))


def registered_households(frame: pd.DataFrame) -> np.ndarray:
    return frame.loc[frame["household_type"] == "贫困户", "household_id"].unique()


def truth_row(period, frame, row, criterion, detail, deprived, edge_case="", person=True) -> dict:
    return {"period": period, "household_id": frame.at[row, "household_id"], "criterion": criterion,
            "person_id": frame.at[row, "person_id"] if person else "", "detail": detail,
            "edge_case": edge_case, "deprived": "true" if deprived else "false"}


# ---------------------------------------------------------------- edge-case birth dates (all periods)


def edge_birth_date(period: str, kind: str) -> np.datetime64:
    """Birth date making a child 15 y 364 d (day before 16th birthday) or 16 y 0 d at the quarter end."""
    end = pd.Timestamp(period_end(period))
    sixteenth = end - pd.DateOffset(years=16)
    birth = sixteenth + pd.Timedelta(days=1) if kind == "education_age_15y364d" else sixteenth
    return np.datetime64(birth.date(), "D")


def plant_edge_births(hh: pd.DataFrame, persons: pd.DataFrame, plan, periods: list[str], cfg: dict,
                      county_codes: list[str], counters: dict, rng) -> dict:
    """Move some children's birth dates (and IDs) to the education edge ages; returns {period: [(kind, person)]}."""
    counts = cfg["deprivation"]["counts"]
    n_reg = int(hh["registered"].sum())
    out, used = {}, set()
    role, p_hh = persons["role"].to_numpy(), persons["hh"].to_numpy()
    head_age = np.full(len(hh), 200)
    for r in (0, 1):
        m = role == r
        head_age[p_hh[m]] = np.minimum(head_age[p_hh[m]], persons["age_ref"].to_numpy()[m])
    for p, period in enumerate(periods):
        out[period] = []
        for kind in ("education_age_15y364d", "education_age_16y0d"):
            ok = ((role == 3) & np.isin(persons["age_ref"].to_numpy(), [15, 16, 17]) & (head_age[p_hh] >= 40)
                  & plan.registered[p][p_hh])
            cand = [i for i in np.flatnonzero(ok) if p_hh[i] not in used]
            for i in rng.choice(cand, size=min(len(cand), count_for(counts[kind], n_reg)), replace=False):
                used.add(p_hh[i])
                birth = edge_birth_date(period, kind)
                county = county_codes[hh["county_idx"].iat[p_hh[i]]]
                persons.at[i, "birth"] = birth
                persons.at[i, "id_number"] = pop.planted_person(county, birth, bool(persons["male"].iat[i]), counters)
                out[period].append((kind, int(i)))
    return out


# ---------------------------------------------------------------- deprivations (one quarter)


def plant_deprivations(frame: pd.DataFrame, period: str, edges: list, cfg: dict, thresholds: dict,
                       scarce_villages: set, seasonal_villages: set, rng) -> tuple[pd.DataFrame, list, set]:
    """Plant the quarter's deprivations; returns (frame, truth rows, households used)."""
    counts, dep = cfg["deprivation"]["counts"], cfg["deprivation"]
    n_reg = len(registered_households(frame))
    idx = household_index(frame)
    used: set = set()
    truth: list = []
    age = ages_at(frame, period)
    ed = thresholds["education"]
    reg = set(registered_households(frame))

    def n(kind):
        return count_for(counts[kind], n_reg)

    def member_rows(mask):
        rows = np.flatnonzero(mask & frame["household_id"].isin(reg).to_numpy())
        return rows

    # education edge ages (children prepared by plant_edge_births)
    person_rows = pd.Series(np.arange(len(frame)), index=frame["_person"].to_numpy())
    for kind, person in edges:
        if person not in person_rows.index:
            continue
        r = int(person_rows[person])
        used.add(frame.at[r, "household_id"])
        _drop_out(frame, r, rng, dep)
        deprived = kind == "education_age_15y364d"
        truth.append(truth_row(period, frame, r, "education", f"出生日期 {frame.at[r, 'birth_date']}: age "
                               f"{'15 y 364 d' if deprived else '16 y 0 d'} at {period_end(period)}, not in school",
                               deprived, kind.removeprefix("education_")))
    compulsory = (age >= ed["compulsory_age_min"]) & (age <= ed["compulsory_age_max"])
    in_band = compulsory & (age >= ed["compulsory_age_min"] + 1) & (age <= ed["compulsory_age_max"] - 1)
    for kind, deprived in [("education_dropout", True), ("education_send_teaching", False)]:
        for h in pick_households(frame.loc[member_rows(in_band), "household_id"], n(kind), used, rng):
            r = [i for i in idx[h] if in_band[i]][0]
            if deprived:
                _drop_out(frame, r, rng, dep)
                truth.append(truth_row(period, frame, r, "education", f"age {age[r]}, not in school, "
                                       f"失学或辍学原因={frame.at[r, 'dropout_reason']}", True))
            else:
                _drop_out(frame, r, rng, dep, reason="")
                frame.loc[r, ["send_teaching", "health", "disability_type", "labour_skill"]] = [YES, "残疾", "智力", "无劳动力"]
                truth.append(truth_row(period, frame, r, "education", f"age {age[r]}, disabled, 送教上门=是, not in school",
                                       False, "send_teaching"))
    for kind, crit, col in [("food", "food", "food_secure"), ("clothing", "clothing", "clothing_secure")]:
        for h in pick_households(reg, n(kind), used, rng):
            frame.loc[idx[h], col] = NO
            truth.append(truth_row(period, frame, idx[h][0], crit, f"{col}=否", True, person=False))
    adult_like = member_rows(age >= 1)
    for h in pick_households(frame.loc[adult_like, "household_id"], n("medical_no_critical"), used, rng):
        r = [i for i in idx[h] if age[i] >= 1][0]
        frame.at[r, "critical_illness_ins"] = NO
        truth.append(truth_row(period, frame, r, "medical", "是否参加大病保险=否", True))
    for h in pick_households(frame.loc[adult_like, "household_id"], n("medical_no_basic"), used, rng):
        r = [i for i in idx[h] if age[i] >= 1][0]
        frame.loc[r, ["resident_med_ins", "employee_med_ins"]] = [NO, NO]
        truth.append(truth_row(period, frame, r, "medical", "no basic medical insurance (城乡居民=否, 城镇职工=否)", True))
    newborn = member_rows(age <= dep["newborn_max_age_years"])
    for h in pick_households(frame.loc[newborn, "household_id"], n("medical_newborn"), used, rng):
        r = [i for i in idx[h] if age[i] <= dep["newborn_max_age_years"]][0]
        frame.loc[r, ["resident_med_ins", "employee_med_ins", "critical_illness_ins"]] = [NO, NO, NO]
        truth.append(truth_row(period, frame, r, "medical", f"newborn (born {frame.at[r, 'birth_date']}) without insurance",
                               False, "newborn"))
    for h in pick_households(reg, n("housing_unsafe"), used, rng):
        grade = rng.choice(["C", "D"])
        frame.loc[idx[h], ["housing_grade", "housing_secured_by", "dilapidated"]] = [grade, "", YES]
        truth.append(truth_row(period, frame, idx[h][0], "housing", f"住房安全等级={grade}, not secured", True, person=False))
    for h in pick_households(reg, n("housing_c_renovated"), used, rng):
        frame.loc[idx[h], ["housing_grade", "housing_secured_by", "dilapidated"]] = ["C", "改造安全", NO]
        truth.append(truth_row(period, frame, idx[h][0], "housing", "住房安全等级=C, 改造安全", False, "C_renovated", person=False))
    village_of = dict(zip(frame["household_id"], frame["village_code"]))
    rich = sorted(h for h in reg if village_of[h] not in scarce_villages)
    for kind, qty, detail in [("water_quantity_349", "34.9", "水量 34.9 L < 35 L (not water-scarce): 基本达标 -> 基本安全"),
                              ("water_quantity_35", "35.0", "水量 35.0 L >= 35 L: 达标 -> 安全")]:
        for h in pick_households(rich, n(kind), used, rng):
            frame.loc[idx[h], ["water_quantity_lpd", "water_quality", "water_piped", "water_fetch_minutes",
                               "water_horizontal_m", "water_vertical_m", "water_outage_days"]] = [qty, "达标", YES, "0", "0", "0", "5"]
            truth.append(truth_row(period, frame, idx[h][0], "water", detail, False, kind.removeprefix("water_"), person=False))
    truth.extend(_plant_unsafe_water(frame, idx, reg, used, n("water_unsafe"), seasonal_villages, period, cfg, rng))
    return frame, truth, used


def _drop_out(frame, r, rng, dep, reason=None):
    """Take the member of row r out of school: 在校生状况 blank, 文化程度 filled, reason filled."""
    level = "小学" if frame.at[r, "school_status"] in ("小学", "学前教育", "学龄前儿童", "") else "初中"
    frame.loc[r, ["school_status", "education", "send_teaching"]] = ["", level, NO]
    frame.at[r, "dropout_reason"] = reason if reason is not None else str(rng.choice(dep["dropout_reasons"]))


def _plant_unsafe_water(frame, idx, reg, used, k, seasonal, period, cfg, rng) -> list:
    """Unsafe water for up to k households of one village (the one with most free households)."""
    free = pd.Series(sorted(h for h in reg if h not in used), dtype=object)  # sorted: sets iterate in hash order
    if free.empty or k <= 0:
        return []
    village = free.map(dict(zip(frame["household_id"], frame["village_code"])))
    best = village.value_counts().sort_index().sort_values(ascending=False, kind="stable").index[0]
    chosen = list(free[village == best][:k])
    used.update(chosen)
    truth = []
    lo, hi = cfg["water"]["outage_days_unsafe"]
    for h in chosen:
        if best in seasonal:
            days = str(int(rng.integers(lo, hi + 1)))
            frame.loc[idx[h], ["water_outage_days", "water_safe", "water_difficult"]] = [days, NO, YES]
            detail = f"年断水缺水天数 {days} > 36: 供水保证率不达标 -> unsafe"
        else:
            frame.loc[idx[h], ["water_quality", "water_safe", "water_difficult"]] = ["不达标", NO, YES]
            detail = "水质=不达标 -> unsafe"
        truth.append(truth_row(period, frame, idx[h][0], "water", detail, True, person=False))
    return truth


# ---------------------------------------------------------------- defects (one quarter)


def _mark(target, rows, defect_id, kind, column):
    """Record a defect on rows: `target` is a dict of helper arrays, or a 1-row frame (new rows)."""
    if isinstance(target, dict):
        for name, value in zip(HELPERS, (defect_id, kind, column)):
            target[name][rows] = value
    else:
        for name, value in zip(HELPERS, (defect_id, kind, column)):
            target[name] = value
        target["_merge"] = ""


def _phantom_row(frame, r, suffix: int, county: str, counters: dict, rng, cfg) -> pd.DataFrame:
    """A new member row in the household of row r: valid unique ID, adult, relation 其他."""
    row = frame.loc[[r]].copy()
    male = bool(rng.random() < 0.5)
    birth = np.datetime64("1960-01-01") + int(rng.integers(0, 12000))
    row["person_id"] = row["household_id"] + f"{suffix:02d}"
    row["id_number"] = pop.planted_person(county, birth, male, counters)
    row["name"] = rng.choice(cfg["names"]["surnames"]) + rng.choice(cfg["names"]["given"])
    row["sex"] = "男" if male else "女"
    row["birth_date"] = str(birth)
    row["relation"] = "其他"
    row["_order"] = suffix
    row["_person"] = -1
    return row


def defect_id(period: str, kind: str, serial: int, chunk: int | None = None) -> str:
    """Truth ID of a planted defect: unique per quarter; a city written in several chunks numbers
    each chunk's defects apart (chunk 0 and a one-chunk city keep the plain form)."""
    return f"{period}-{kind}-{serial:04d}" if not chunk else f"{period}-{kind}-c{chunk:04d}-{serial:04d}"


def plant_defects(frame: pd.DataFrame, period: str, used: set, county_codes: list[str], merged_county: str | None,
                  cfg: dict, counters: dict, rng, chunk: int | None = None) -> pd.DataFrame:
    """Plant the quarter's raw defects; helper columns _defect_id/_kind/_column mark affected rows."""
    d = cfg["defects"]
    marks = {c: np.full(len(frame), "", dtype=object) for c in HELPERS + ["_merge"]}
    n_reg = len(registered_households(frame))
    idx = household_index(frame)
    size = frame.groupby("household_id", sort=False).size()
    county_of = dict(zip(frame["household_id"], frame["_county"]))
    size = size.to_dict()
    all_h = list(idx)
    serial = iter(range(1, 10**6))
    new_rows = []

    def did(kind):
        return defect_id(period, kind, next(serial), chunk)

    def n(kind):
        return count_for(d["counts"][kind], n_reg)

    non_head = frame["relation"].to_numpy() != "户主"
    with_member = set(frame.loc[non_head, "household_id"])
    for h in pick_households([h for h in all_h if h in with_member], n("id_checksum_invalid"), used, rng):
        r = [i for i in idx[h] if non_head[i]][0]
        good = frame.at[r, "id_number"]
        frame.at[r, "id_number"] = good[:17] + CHECK_CHARS[(CHECK_CHARS.index(good[17]) + 1) % 11]
        _mark(marks, [r], did("id_checksum_invalid"), "id_checksum_invalid", "id_number")
    last = max(county_codes)
    for _ in range(n("duplicate_person")):
        src = pick_households([h for h in all_h if county_of[h] != last], 1, used, rng)
        if not src:
            break
        later = [h for h in all_h if county_of[h] > county_of[src[0]]]
        tgt = pick_households(later, 1, used, rng)
        if not tgt:
            break
        r_src, r_tgt = idx[src[0]][-1], idx[tgt[0]][0]
        row = frame.loc[[r_tgt]].copy()
        person_cols = [c for c in frame.columns if c in PERSON_COLUMNS]
        row[person_cols] = frame.loc[[r_src], person_cols].to_numpy()
        row["person_id"] = row["household_id"] + "91"
        row["relation"], row["_order"], row["_person"] = "其他", 91, -1
        _mark(row, None, did("duplicate_person"), "duplicate_person", "id_number")
        new_rows.append(row)
    multi = [h for h in all_h if size[h] >= 2]
    for h in pick_households(multi, n("multiple_heads"), used, rng):
        r = idx[h][1]
        frame.at[r, "relation"] = "户主"
        _mark(marks, [r], did("multiple_heads"), "multiple_heads", "relation")
    for h in pick_households(all_h, n("household_size_mismatch"), used, rng):
        frame.loc[idx[h], "household_size"] = str(size[h] + 1)
        _mark(marks, idx[h], did("household_size_mismatch"), "household_size_mismatch", "household_size")
    zero_fp = frame.groupby("household_id", sort=False)["family_planning_transfer"].first() == "0.00"
    for h in pick_households(list(zero_fp.index[zero_fp.to_numpy()]), n("income_not_numeric"), used, rng):
        frame.loc[idx[h], "family_planning_transfer"] = str(rng.choice(d["not_numeric_values"]))
        _mark(marks, idx[h], did("income_not_numeric"), "income_not_numeric", "family_planning_transfer")
    has_prop = frame.groupby("household_id", sort=False)["property_income"].first() != "0.00"
    for h in pick_households(list(has_prop.index[has_prop.to_numpy()]), n("income_negative"), used, rng):
        _make_negative_property(frame, idx[h])
        _mark(marks, idx[h], did("income_negative"), "income_negative", "property_income")
    for h in pick_households(all_h, n("unknown_code_label"), used, rng):
        r = idx[h][0]
        col = "education" if frame.at[r, "education"] else "labour_skill"
        frame.at[r, col] = str(rng.choice(d["unknown_labels"][col]))
        _mark(marks, [r], did("unknown_code_label"), "unknown_code_label", col)
    for kind, suffix in [("missing_village_code", 92), ("column_shift", 93)]:
        for h in pick_households(all_h, n(kind), used, rng):
            row = _phantom_row(frame, idx[h][-1], suffix, county_of[h], counters, rng, cfg)
            if kind == "missing_village_code":
                row["village_code"] = ""
            _mark(row, None, did(kind), kind, "village_code" if kind == "missing_village_code" else d["shift_from"])
            new_rows.append(row)
    if merged_county:
        cand = [h for h in all_h if county_of[h] == merged_county and size[h] >= 2]
        for h in pick_households(cand, n("merged_cell_filled"), used, rng):
            _mark(marks, idx[h][1:], did("merged_cell_filled"), "merged_cell_filled", "|".join(d["merged_columns"]))
            marks["_merge"][idx[h]] = h
    for name, values in marks.items():
        frame[name] = values
    if new_rows:
        frame = pd.concat([frame, *new_rows], ignore_index=True)
    return frame.sort_values(["household_id", "_order"], kind="stable").reset_index(drop=True)


PERSON_COLUMNS = {
    "name", "id_type", "id_number", "sex", "birth_date", "ethnicity", "political", "education", "school_status",
    "dropout_reason", "send_teaching", "health", "disability_type", "labour_skill", "migrant_status", "work_location",
    "work_months", "public_welfare_job", "resident_med_ins", "employee_med_ins", "critical_illness_ins",
    "medical_assistance", "pension_ins",
}


def _make_negative_property(frame, rows):
    """财产性收入 -> negative; 年收入, 纯收入, 人均纯收入 follow so the row stays arithmetically consistent."""
    r = rows[0]

    def cents(col):
        return int(round(float(frame.at[r, col]) * 100))

    prop = cents("property_income")
    gross, net = cents("gross_income") - 2 * prop, cents("net_income") - 2 * prop
    size = int(frame.at[r, "household_size_annual"])
    values = cents_text(np.array([-prop, gross, net, int(np.rint(net / size))]))
    frame.loc[rows, ["property_income", "gross_income", "net_income", "per_capita_net_income"]] = list(values)


def shift_row(values: list, start: int) -> list:
    """Cells from position `start` displaced one to the right (the last cell falls off)."""
    return values[:start] + [""] + values[start:-1]
