"""The sample city's department lists (issue 16 part 1), one quarter of one chunk at a time.

Each department's list is drawn from the quarter's registry frame (the member export as written,
after planted defects) so that it AGREES with the registry, then the configured discrepancies are
planted (config/departments.toml [synth]) and recorded as truth rows (period, rule, household_id,
person_id, person_key). Look-alikes that no rule may find (decoys) are planted too. Members of
households with a planted registry defect are listed as `registry_defect` (defect_rows): a rule
may rightly find them, as the registry's ID or row is damaged.

Plants are drawn only from clean households: no planted defect on any of their rows, not a
deprivation plant, not in a names-only county export (whose rows the county file may damage), so
the registry loads them as written. Layouts (domain.md-style headers, each department its own):

  medical    医保参保人员_<Q>.csv (GB18030) 参保地, 姓名, 身份证号, 参保状态, 险种, 年度个人自付医疗费用(元), 统计截止日期
  civil      救助对象名册_<Q>.csv    县(市、区), 行政区划代码, 姓名, 身份证号, 救助类型, 月保障金额(元), 批准日期
  disability 残疾证发证名单_<Q>.xlsx 县(市、区), 姓名, 身份证号, 残疾证号, 残疾类别, 残疾等级, 发证日期
  education  学籍名册_<Q>.xlsx and 送教上门名单_<Q>.csv: 县(市、区), 学生姓名, 身份证号, 学校, 年级, 是否送教上门, 统计日期
  housing    农村住房安全鉴定_<Q>.dta 县(市、区), 行政区划代码, 户主姓名, 户主身份证号, 鉴定等级, 鉴定日期
  water      集中供水覆盖情况_<Q>.csv 县(市、区), 乡(镇), 行政村, 行政区划代码, 集中供水覆盖, 日期
  police     户籍变动_<Q>.csv        姓名, 身份证号, 性别, 户籍派出所, 变动类型, 变动日期
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines import config, idcard, keys
from pipelines.periods import Period
from pipelines.synth import writers

TRUTH_COLUMNS = ["period", "rule", "household_id", "person_id", "person_key"]
YES, NO = "是", "否"
SCHEMES = {"resident": "城乡居民基本医疗保险", "employee": "城镇职工基本医疗保险"}
DISABILITY = ["肢体残疾", "视力残疾", "听力残疾", "智力残疾", "精神残疾"]
GRADES = ["一级", "二级", "三级", "四级"]
FILES = {  # department -> (file stem, format)
    "medical": ("医保参保人员", "csv-gb18030"), "civil": ("救助对象名册", "csv-utf8-bom"),
    "disability": ("残疾证发证名单", "xlsx"), "education": ("学籍名册", "xlsx"),
    "send_teaching": ("送教上门名单", "csv-utf8-bom"), "housing": ("农村住房安全鉴定", "dta"),
    "water": ("集中供水覆盖情况", "csv-utf8-bom"), "police": ("户籍变动", "csv-utf8-bom"),
}
FOLDER = {"send_teaching": "education"}


def members(frame: pd.DataFrame, persons: pd.DataFrame, period: str, names_only_counties: set[str]) -> pd.DataFrame:
    """One row per registry member of the quarter's frame with what the lists need: the TRUE ID
    number (from the population, whatever the export did to it), age at the quarter's end, flags,
    and `clean` (the household may carry a plant: no defect, no deprivation plant, not names-only)."""
    f = frame[frame["_person"] >= 0]
    ids = persons["id_number"].to_numpy(dtype=object)[f["_person"].to_numpy()]
    end = Period.parse(period).end_date
    birth = pd.to_datetime(pd.Series(ids).str[6:14], format="%Y%m%d")
    age = (end.year - birth.dt.year - ((birth.dt.month > end.month)
                                        | ((birth.dt.month == end.month) & (birth.dt.day > end.day)))).to_numpy()
    hh = f["household_id"].to_numpy(dtype=object)
    dirty = set(frame.loc[frame["_kind"].fillna("") != "", "household_id"]) if "_kind" in frame else set()
    if "_deprived" in frame:
        dirty |= set(frame.loc[frame["_deprived"].astype(bool), "household_id"])
    county = f["_county"].to_numpy(dtype=object)
    out = pd.DataFrame({
        "household_id": hh, "person_id": f["person_id"].to_numpy(dtype=object), "id_number": ids,
        "name": f["name"].to_numpy(dtype=object), "sex": f["sex"].to_numpy(dtype=object),
        "county_code": county, "county_name": f["county_name"].to_numpy(dtype=object),
        "township_name": f["township_name"].to_numpy(dtype=object),
        "village_name": f["village_name"].to_numpy(dtype=object), "village_code": f["village_code"].to_numpy(dtype=object),
        "head": (f["relation"] == "户主").to_numpy(), "age": age,
        "insured": ((f["resident_med_ins"] == YES) | (f["employee_med_ins"] == YES)).to_numpy(),
        "employee": (f["employee_med_ins"] == YES).to_numpy(),
        "dibao": (f["dibao"] == YES).to_numpy(), "tekun": (f["tekun"] == YES).to_numpy(),
        "disabled": f["health"].fillna("").str.contains("残疾").to_numpy(),
        "send_teaching": (f["send_teaching"] == YES).to_numpy(),
        "housing_grade": f["housing_grade"].fillna("").to_numpy(dtype=object),
        "water_safe": (f["water_safe"] == YES).to_numpy(),
    })
    out["clean"] = ~out["household_id"].isin(dirty) & ~out["county_code"].isin(names_only_counties)
    # a household whose member rows disagree or whose ID repeats is not clean either
    out.loc[out["id_number"].duplicated(keep=False), "clean"] = False
    return out.reset_index(drop=True)


def _pick(m: pd.DataFrame, mask: np.ndarray, n: int, rng, taken: set) -> pd.DataFrame:
    """n clean members matching mask, at most one per household, none of whose households is taken."""
    cand = m[mask & m["clean"].to_numpy() & ~m["household_id"].isin(taken).to_numpy()]
    cand = cand.drop_duplicates("household_id")
    if len(cand) > n:
        cand = cand.iloc[np.sort(rng.choice(len(cand), n, replace=False))]
    taken.update(cand["household_id"])
    return cand


def _dates(rng, start: dt.date, end: dt.date, n: int) -> list[str]:
    days = (end - start).days
    return [(start + dt.timedelta(days=int(d))).isoformat() for d in rng.integers(0, days + 1, n)]


def _fresh_ids(rng, n: int, county_codes: np.ndarray, used: set) -> list[str]:
    """n valid ID numbers of people outside the registry (sequence 9xx: none of the population's)."""
    out = []
    while len(out) < n:
        area = str(county_codes[rng.integers(len(county_codes))])
        birth = dt.date(1940, 1, 1) + dt.timedelta(days=int(rng.integers(0, 365 * 60)))
        first17 = f"{area}{birth:%Y%m%d}9{rng.integers(0, 100):02d}"
        number = first17 + idcard.check_char(first17)
        if number not in used:
            used.add(number)
            out.append(number)
    return out


def department_lists(m: pd.DataFrame, period: str, spec, thresholds: dict, rng,
                     written_villages: set | None = None) -> tuple[dict, list[tuple]]:
    """{list name: frame with Chinese headers} and truth rows for one quarter (of one chunk).
    `written_villages`: villages an earlier chunk's 水利 list of the quarter already has (updated
    here): a village is listed once per quarter."""
    written_villages = set() if written_villages is None else written_villages
    q = Period.parse(period)
    start, end = dt.date(q.year, 3 * q.quarter - 2, 1), q.end_date
    plants, decoys = spec.plants, spec.decoys
    taken: set = set()
    truth: list[tuple] = []
    used_ids = set(m["id_number"])

    def record(rule: str, rows: pd.DataFrame, person: bool = True) -> None:
        for hid, pid, number in zip(rows["household_id"], rows["person_id"], rows["id_number"]):
            truth.append((period, rule, hid, pid if person else "", keys.person_key(number) if person else ""))

    out = {}
    # ---- 医保: every insured member enrolled, cost below the line; plants: not enrolled, high cost
    ins = m["insured"].to_numpy()
    not_enrolled = _pick(m, ins, plants.get("insured_not_enrolled", 0), rng, taken)
    record("insured_not_enrolled", not_enrolled)
    high = _pick(m, ins, plants.get("high_out_of_pocket", 0), rng, taken)
    record("high_out_of_pocket", high)
    at_line = _pick(m, ins, decoys, rng, taken)  # decoy: exactly at the line is not above it
    med = m[ins].copy()
    cost = np.round(rng.uniform(0, spec.out_of_pocket_max, len(med)), 2)
    line = thresholds["out_of_pocket_warning_yuan"]
    cost[med["person_id"].isin(high["person_id"]).to_numpy()] = np.round(rng.uniform(line + 1, 4 * line, len(high)), 2)
    cost[med["person_id"].isin(at_line["person_id"]).to_numpy()] = line
    status = np.full(len(med), "正常参保", dtype=object)
    dropped = not_enrolled.iloc[: (len(not_enrolled) + 1) // 2]
    status[med["person_id"].isin(not_enrolled["person_id"]).to_numpy()] = "暂停参保"
    keep = ~med["person_id"].isin(dropped["person_id"]).to_numpy()
    out["medical"] = pd.DataFrame({
        "参保地": med["county_name"], "姓名": med["name"], "身份证号": med["id_number"], "参保状态": status,
        "险种": np.where(med["employee"], SCHEMES["employee"], SCHEMES["resident"]),
        "年度个人自付医疗费用(元)": [f"{c:.2f}" for c in cost], "统计截止日期": end.isoformat()})[keep]

    # ---- 民政: every 低保 / 特困 member; plants: listed but not so in the registry (members and
    # people outside the registry), in the registry but not listed; decoy: 临时救助 of anyone
    assisted = m[m["dibao"] | m["tekun"]]
    missing_civil = _pick(m, (m["dibao"] | m["tekun"]).to_numpy(), plants.get("assistance_not_in_civil", 0), rng, taken)
    record("assistance_not_in_civil", missing_civil)
    n_new = plants.get("assistance_not_in_registry", 0)
    unflagged = _pick(m, (~m["dibao"] & ~m["tekun"]).to_numpy(), (n_new + 1) // 2, rng, taken)
    record("assistance_not_in_registry", unflagged)
    outsiders = _fresh_ids(rng, n_new - len(unflagged), m["county_code"].unique(), used_ids)
    villages = m["village_code"].unique()
    out_village = villages[rng.integers(0, len(villages), len(outsiders))]
    truth.extend((period, "assistance_not_in_registry", "", "", keys.person_key(x)) for x in outsiders)
    temporary = _pick(m, np.ones(len(m), dtype=bool), decoys, rng, taken)
    base = assisted[~assisted["person_id"].isin(missing_civil["person_id"])]
    civil = pd.concat([
        pd.DataFrame({"县(市、区)": base["county_name"], "行政区划代码": base["village_code"], "姓名": base["name"],
                      "身份证号": base["id_number"], "救助类型": np.where(base["dibao"], "低保", "特困"),
                      "月保障金额(元)": "450", "批准日期": _dates(rng, dt.date(2016, 1, 1), end, len(base))}),
        pd.DataFrame({"县(市、区)": unflagged["county_name"], "行政区划代码": unflagged["village_code"],
                      "姓名": unflagged["name"], "身份证号": unflagged["id_number"], "救助类型": "低保",
                      "月保障金额(元)": "450", "批准日期": _dates(rng, start, end, len(unflagged))}),
        pd.DataFrame({"县(市、区)": "", "行政区划代码": out_village, "姓名": "新增对象", "身份证号": outsiders,
                      "救助类型": "特困", "月保障金额(元)": "600", "批准日期": _dates(rng, start, end, len(outsiders))}),
        pd.DataFrame({"县(市、区)": temporary["county_name"], "行政区划代码": temporary["village_code"],
                      "姓名": temporary["name"], "身份证号": temporary["id_number"], "救助类型": "临时救助",
                      "月保障金额(元)": "1000", "批准日期": _dates(rng, start, end, len(temporary))}),
    ], ignore_index=True)
    out["civil"] = civil

    # ---- 残联: certificates of the disabled (earlier years); plants: a certificate of this quarter
    # for a member not recorded disabled; decoy: such a certificate of an earlier quarter
    disabled = m[m["disabled"]]
    new_cert = _pick(m, ~m["disabled"].to_numpy(), plants.get("new_disability", 0), rng, taken)
    record("new_disability", new_cert)
    old_cert = _pick(m, ~m["disabled"].to_numpy(), decoys, rng, taken)
    certs = pd.concat([disabled.assign(_d=_dates(rng, dt.date(2010, 1, 1), dt.date(start.year - 1, 12, 31), len(disabled))),
                       new_cert.assign(_d=_dates(rng, start, end, len(new_cert))),
                       old_cert.assign(_d=_dates(rng, dt.date(2015, 1, 1), start - dt.timedelta(days=1), len(old_cert)))],
                      ignore_index=True)
    out["disability"] = pd.DataFrame({
        "县(市、区)": certs["county_name"], "姓名": certs["name"], "身份证号": certs["id_number"],
        "残疾证号": certs["id_number"] + "4" + "1", "残疾类别": [DISABILITY[i] for i in rng.integers(0, len(DISABILITY), len(certs))],
        "残疾等级": [GRADES[i] for i in rng.integers(0, len(GRADES), len(certs))], "发证日期": certs["_d"]})

    # ---- 教育: every child of compulsory-school age on a roster; plants: on none; decoy: on the
    # 送教上门 list only
    ed = thresholds["education"]
    school_age = ((m["age"] >= ed["compulsory_age_min"]) & (m["age"] <= ed["compulsory_age_max"])).to_numpy()
    absent = _pick(m, school_age & ~m["send_teaching"].to_numpy(), plants.get("child_not_on_roster", 0), rng, taken)
    record("child_not_on_roster", absent)
    sent = _pick(m, school_age & ~m["send_teaching"].to_numpy(), decoys, rng, taken)
    kids = m[school_age & ~m["person_id"].isin(absent["person_id"]).to_numpy() & ~m["person_id"].isin(sent["person_id"]).to_numpy()]
    roll_date = (end - dt.timedelta(days=20)).isoformat()

    def roster(rows: pd.DataFrame, send: str) -> pd.DataFrame:
        return pd.DataFrame({"县(市、区)": rows["county_name"], "学生姓名": rows["name"], "身份证号": rows["id_number"],
                             "学校": rows["township_name"] + ("中心学校" if send == NO else "（送教上门）"),
                             "年级": [f"{max(1, a - 5)}年级" for a in rows["age"]], "是否送教上门": send,
                             "统计日期": roll_date})
    out["education"] = roster(kids, NO)
    out["send_teaching"] = roster(sent, YES)

    # ---- 住建: the heads' houses as the registry grades them; plants: C/D where the registry says A/B
    heads = m[m["head"] & (m["housing_grade"] != "").to_numpy()]
    safe = heads["housing_grade"].isin(["A", "B"]).to_numpy()
    unsafe = _pick(heads, safe, plants.get("unsafe_housing_grade", 0), rng, taken)
    record("unsafe_housing_grade", unsafe)
    grade = heads["housing_grade"].to_numpy(dtype=object).copy()
    plant_at = heads["person_id"].isin(unsafe["person_id"]).to_numpy()
    grade[plant_at] = np.where(rng.random(plant_at.sum()) < 0.5, "C", "D")
    out["housing"] = pd.DataFrame({
        "县(市、区)": heads["county_name"], "行政区划代码": heads["village_code"], "户主姓名": heads["name"],
        "户主身份证号": heads["id_number"], "鉴定等级": grade, "鉴定日期": _dates(rng, dt.date(2019, 1, 1), end, len(heads))})

    # ---- 水利: every village covered; plants: a village not covered, every household there that
    # says 饮水安全 is a finding (villages whose households are all clean)
    vil = m.groupby("village_code").agg(clean=("clean", "all"), county_name=("county_name", "first"),
                                        township_name=("township_name", "first"),
                                        village_name=("village_name", "first")).reset_index()
    vil = vil[~vil["village_code"].isin(written_villages)].reset_index(drop=True)
    written_villages.update(vil["village_code"])
    clean_v = vil.index[vil["clean"].to_numpy() & ~vil["village_code"].isin(m.loc[m["household_id"].isin(taken), "village_code"]).to_numpy()]
    n_v = min(plants.get("water_not_covered", 0), len(clean_v))
    dry = vil.loc[np.sort(rng.choice(clean_v, n_v, replace=False)) if n_v else [], "village_code"]
    hit = m[m["village_code"].isin(dry) & m["water_safe"]].drop_duplicates("household_id")
    truth.extend((period, "water_not_covered", h, "", "") for h in hit["household_id"])
    taken.update(m.loc[m["village_code"].isin(dry), "household_id"])
    out["water"] = pd.DataFrame({"县(市、区)": vil["county_name"], "乡(镇)": vil["township_name"],
                                 "行政村": vil["village_name"], "行政区划代码": vil["village_code"],
                                 "集中供水覆盖": np.where(vil["village_code"].isin(dry), NO, YES), "日期": end.isoformat()})

    # ---- 公安: plants: members who died this quarter; decoys: moves out, deaths outside the registry
    dead = _pick(m, np.ones(len(m), dtype=bool), plants.get("dead_in_registry", 0), rng, taken)
    record("dead_in_registry", dead)
    moved = _pick(m, np.ones(len(m), dtype=bool), decoys, rng, taken)
    strangers = _fresh_ids(rng, decoys, m["county_code"].unique(), used_ids)
    out["police"] = pd.concat([
        pd.DataFrame({"姓名": dead["name"], "身份证号": dead["id_number"], "性别": dead["sex"], "户籍派出所": "城关派出所",
                      "变动类型": "死亡", "变动日期": _dates(rng, start, end, len(dead))}),
        pd.DataFrame({"姓名": moved["name"], "身份证号": moved["id_number"], "性别": moved["sex"], "户籍派出所": "城关派出所",
                      "变动类型": "迁出", "变动日期": _dates(rng, start, end, len(moved))}),
        pd.DataFrame({"姓名": "外地人员", "身份证号": strangers, "性别": "", "户籍派出所": "城关派出所",
                      "变动类型": "死亡", "变动日期": _dates(rng, start, end, len(strangers))}),
    ], ignore_index=True)
    return out, truth


def defect_rows(m: pd.DataFrame, defects: list[dict], period: str) -> list[tuple]:
    """Truth rows `registry_defect` for every member of a household with a planted registry defect
    this quarter (its ID may be wrong or its row quarantined): the departments list such members
    under their TRUE ID, so a rule may rightly find them (e.g. insured but not on the 医保 list,
    under the registry's wrong ID). These findings are expected, neither planted nor false."""
    hit = {r["household_id"] for r in defects if r.get("period") == period}
    rows = m[m["household_id"].isin(hit)]
    return [(period, "registry_defect", h, p, keys.person_key(x))
            for h, p, x in zip(rows["household_id"], rows["person_id"], rows["id_number"])]


def write_lists(lists: dict, raw_dir: Path, period: str, chunk: int | None) -> list[Path]:
    """Write one quarter's lists under raw_dir/departments/<folder>/<period>/; the paths written."""
    paths = []
    for name, frame in lists.items():
        if frame.empty:  # nothing to list (a later chunk's 水利 villages are all listed already)
            continue
        stem, fmt = FILES[name]
        suffix = f"_c{chunk:03d}" if chunk is not None else ""
        path = (raw_dir / "departments" / FOLDER.get(name, name) / period
                / f"{stem}_{period}{suffix}.{writers.EXTENSIONS[fmt]}")
        writers.write_export(frame.reset_index(drop=True).astype(str), path, fmt)
        paths.append(path)
    return paths


def write_truth(rows: list[tuple], path: Path) -> Path:
    frame = pd.DataFrame(rows, columns=TRUTH_COLUMNS).sort_values(TRUTH_COLUMNS, kind="stable")
    return writers._atomic(path, lambda tmp: frame.to_csv(tmp, index=False, encoding="utf-8-sig"))
