"""The sample city's project lists (项目账; issue 16 part 3): per quarter and county one workbook
data/raw/projects/<q>/<county>_扶贫项目台账_<q>.xlsx as a county office keeps it — a title row,
the 项目清单 sheet (项目编号, 项目名称, 项目类型, 实施地点, 资金来源, 计划投资/到位资金/已支付 in 万元,
开工/完工日期, 带贫户数) and a 受益户名单 sheet (项目编号, 项目名称, 户编号 or 户主身份证号) — plus the
truth data/truth/projects.csv (one row per project, and per beneficiary row that must not load
cleanly: file, sheet, source_row, the reason and disposition ingest must give).

Beneficiaries are drawn from the households the quarter's registry files hold (`sample`), keeping
away from households any registry defect touches (their rows may be quarantined). Plants per
county file: one project with 已支付 > 到位资金 (quarantined paid_over_received), one whose 实施地点
is no village (unknown_village), one whose 带贫户数 differs from its list (households_count_mismatch)
and one beneficiary the registry does not hold (beneficiary_not_in_registry). Deterministic from
the seed; a few milliseconds per file (xlsxwriter, fixed metadata: reruns give the same bytes)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.idcard import check_char
from pipelines.synth import writers

TRUTH_COLUMNS = ["period", "kind", "file", "sheet", "source_row", "county_code", "project_id", "project_type",
                 "fund_source", "village_code", "planned", "received", "paid", "stated_households",
                 "listed_households", "expected_reason", "expected_disposition"]
PROJECT_SHEET, BENEFICIARY_SHEET = "项目清单", "受益户名单"
FIRST_PROJECT_ROW, FIRST_BENEFICIARY_ROW = 3, 2  # Excel rows: title + header; header
TYPES = [("industry", "产业"), ("infrastructure", "基础设施"), ("public_jobs", "公益岗位"), ("education", "教育"),
         ("health", "健康"), ("relocation_support", "易地搬迁配套")]
SOURCES = [("central", "中央"), ("provincial", "省级"), ("municipal", "市级"), ("county", "县级"),
           ("integrated", "整合涉农"), ("social", "社会帮扶")]
WORKS = {"industry": "光伏电站", "infrastructure": "道路硬化", "public_jobs": "公益岗位补贴", "education": "教育资助",
         "health": "卫生室建设", "relocation_support": "安置点配套"}
PROJECT_HEADERS = ["序号", "项目编号", "项目名称", "项目类型", "县(市、区)", "乡(镇)", "实施地点", "资金来源",
                   "计划投资(万元)", "到位资金(万元)", "已支付(万元)", "开工日期", "完工日期", "带贫户数"]
BENEFICIARY_HEADERS = ["序号", "项目编号", "项目名称", "县(市、区)", "行政村", "户编号", "户主姓名", "户主身份证号",
                       "受益方式"]
STRANGER_NAME = "外来户"
UNKNOWN_PLACE = "无此村"


def sample(frame: pd.DataFrame, avoid: set[str], per_county: int) -> pd.DataFrame:
    """Up to per_county registered households per county of one quarter's registry frame: county,
    village code, township and village names, 户编号, the 户主's name and ID number (households in
    `avoid` left out)."""
    heads = frame[(frame["relation"] == "户主") & (frame["household_type"] == "贫困户") & (frame["_person"] >= 0)
                  & ~frame["household_id"].isin(avoid) & (frame["village_code"].astype(str).str.len() == 12)]
    heads = heads.drop_duplicates("household_id", keep=False)
    out = heads.groupby("_county", sort=True).head(per_county)
    return pd.DataFrame({"county_code": out["_county"].to_numpy(), "village_code": out["village_code"].to_numpy(),
                         "township_name": out["township_name"].to_numpy(), "village_name": out["village_name"].to_numpy(),
                         "household_id": out["household_id"].to_numpy(), "head_name": out["name"].to_numpy(),
                         "head_id": out["id_number"].to_numpy()})


def stranger_id(county_code: str, n: int) -> str:
    """A valid 18-character ID nobody in the sample city holds (born 1900: older than anyone drawn)."""
    first17 = f"{county_code}19000101{n % 1000:03d}"
    return first17 + check_char(first17)


def county_lists(period: str, county_code: str, county_name: str, pool: pd.DataFrame, cfg: dict,
                 rng: np.random.Generator, file: str = "") -> tuple[list[list], list[list], list[dict]]:
    """One county's project rows, beneficiary rows and truth rows for one quarter (`file`: the
    workbook's path under data/raw, for the truth's rows)."""
    n = int(cfg["per_county"])
    lo, hi = cfg["beneficiaries"]
    projects, beneficiaries, truth = [], [], []
    year = int(period[:4])
    plants = {0: "paid_over_received", 1: "unknown_village", 2: "households_count_mismatch"} if len(pool) else {}
    for i in range(n):
        code, type_label = TYPES[(i + int(county_code) + int(period[-1])) % len(TYPES)]  # plants fall on every type
        source, source_label = SOURCES[(i + int(county_code[-2:])) % len(SOURCES)]
        pid = f"{county_code}-{period}-{i + 1:02d}"
        at = int(rng.integers(len(pool))) if len(pool) else None
        village = pool["village_code"].iloc[at] if len(pool) else None
        township = pool["township_name"].iloc[at] if len(pool) else ""
        planned = round(float(rng.uniform(*cfg["planned_wan"])), 1)
        received = round(planned * float(rng.uniform(*cfg["received_share"])), 1)
        paid = round(received * float(rng.uniform(*cfg["paid_share"])), 1)
        plant = plants.get(i, "")
        if plant == "paid_over_received":
            paid = round(received + 5.0, 1)
        place = UNKNOWN_PLACE if plant == "unknown_village" or village is None else village
        # a project quarantined on purpose lists one household (its row is then unknown_project)
        size = 1 if plant in ("paid_over_received", "unknown_village") else int(rng.integers(lo, hi + 1))
        chosen = pool.iloc[rng.choice(len(pool), size=min(len(pool), size), replace=False)] if len(pool) else pool
        listed = len(chosen)
        stated = listed + 2 if plant == "households_count_mismatch" else listed
        started = f"{year}-{int(rng.integers(1, 4)):02d}-{int(rng.integers(1, 28)):02d}"
        completed = f"{year}-{int(rng.integers(6, 12)):02d}-{int(rng.integers(1, 28)):02d}" if i % 2 == 0 else ""
        name = f"{county_name}{WORKS[code]}项目{i + 1}"
        projects.append([i + 1, pid, name, type_label, county_name, township, place, source_label, planned, received,
                         paid, started, completed, stated])
        loaded = plant not in ("paid_over_received", "unknown_village")
        row = dict(period=period, file=file, county_code=county_code, project_id=pid, project_type=code,
                   fund_source=source)
        truth.append(dict(row, kind="project", sheet=PROJECT_SHEET, source_row=FIRST_PROJECT_ROW + i,
                          village_code="" if place == UNKNOWN_PLACE else place, planned=planned, received=received,
                          paid=paid, stated_households=stated, listed_households=listed, expected_reason=plant,
                          expected_disposition="finding" if plant == "households_count_mismatch"
                          else "quarantine" if plant else ""))
        listed_rows = [[pid, name, county_name, v, "" if j % 3 == 1 else hid, head_name, head if j % 3 == 1 else "",
                        "务工" if j % 2 else "分红"]  # every third household listed by its head's ID instead of 户编号
                       for j, (v, hid, head_name, head) in enumerate(zip(chosen["village_name"], chosen["household_id"],
                                                                         chosen["head_name"], chosen["head_id"]))]
        if i == n - 1 and len(pool) and loaded:  # the last project also names someone the registry does not hold
            listed_rows.append([pid, name, county_name, "", "", STRANGER_NAME, stranger_id(county_code, i), "务工"])
            truth[-1]["listed_households"] = truth[-1]["stated_households"] = projects[-1][-1] = listed + 1
        for j, brow in enumerate(listed_rows):
            stranger = brow[5] == STRANGER_NAME
            reason = "unknown_project" if not loaded else "beneficiary_not_in_registry" if stranger else ""
            if reason:  # the beneficiary rows the truth names: planted, or of a planted-quarantined project
                truth.append(dict(row, kind="beneficiary", sheet=BENEFICIARY_SHEET,
                                  source_row=FIRST_BENEFICIARY_ROW + len(beneficiaries) + j, village_code=place,
                                  expected_reason=reason,
                                  expected_disposition="quarantine" if reason == "unknown_project" else "finding"))
        beneficiaries += listed_rows
    for k, row in enumerate(beneficiaries, start=1):
        row.insert(0, k)
    return projects, beneficiaries, truth


def write_workbook(path: Path, title: str, projects: list[list], beneficiaries: list[list]) -> Path:
    """The county's workbook: 项目清单 (title row, header, rows; amounts as numbers) and 受益户名单
    (户编号 and ID numbers as text)."""
    import xlsxwriter

    def write(tmp: Path):
        wb = xlsxwriter.Workbook(str(tmp), {"strings_to_numbers": False, "strings_to_formulas": False,
                                            "strings_to_urls": False})
        wb.set_properties({"created": writers.FIXED_TIME, "author": "povmon synth"})
        ws = wb.add_worksheet(PROJECT_SHEET)
        ws.write_string(0, 0, title)
        for j, h in enumerate(PROJECT_HEADERS):
            ws.write_string(1, j, h)
        for i, row in enumerate(projects, start=2):
            for j, v in enumerate(row):
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    ws.write_number(i, j, v)
                elif v != "":
                    ws.write_string(i, j, str(v))
        ws2 = wb.add_worksheet(BENEFICIARY_SHEET)
        for j, h in enumerate(BENEFICIARY_HEADERS):
            ws2.write_string(0, j, h)
        for i, row in enumerate(beneficiaries, start=1):
            for j, v in enumerate(row):
                if isinstance(v, int):
                    ws2.write_number(i, j, v)
                elif v != "":
                    ws2.write_string(i, j, str(v))
        wb.close()

    return writers._atomic(path, write)


def write_all(out_dir: Path, samples: dict[str, pd.DataFrame], counties: pd.DataFrame, cfg: dict, seed: int
              ) -> tuple[list[Path], list[dict]]:
    """Every quarter's county workbooks; returns (files written, truth rows)."""
    files, truth = [], []
    for p, (period, pool) in enumerate(sorted(samples.items())):
        for c, (code, name) in enumerate(zip(counties["code"], counties["name"])):
            rng = np.random.default_rng([seed, 60, p, c])
            path = out_dir / "raw" / "projects" / period / f"{code}_{name}_扶贫项目台账_{period}.xlsx"
            projects, beneficiaries, rows = county_lists(period, code, name, pool[pool["county_code"] == code],
                                                         cfg, rng, path.relative_to(out_dir / "raw").as_posix())
            files.append(write_workbook(path, f"{name}{period[:4]}年扶贫项目资金台账({period}，单位：万元)",
                                        projects, beneficiaries))
            truth += rows
    return files, truth


def write_truth(truth: list[dict], path: Path) -> Path:
    frame = pd.DataFrame(truth, columns=TRUTH_COLUMNS)
    return writers.write_csv(frame, path, "utf-8")
