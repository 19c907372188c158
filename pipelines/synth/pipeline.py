"""`povmon synth`: wiring only. Builds the synthetic city chunk by chunk, writes data/raw and data/truth.

Layout written under out_dir (docs/data_contract.md):
  raw/registry/<period>/<county_code>_<county_name>_建档立卡人口_<period>.<ext>   (county formats)
  raw/registry/<period>/<county_code>_<county_name>_建档立卡人口_<period>_part-<chunk>.<ext>
      (county formats, a city above [run] county_chunk_households: one file per chunk)
  raw/registry/<period>/<county_code>_<county_name>_part-<chunk>.parquet|csv      (parquet / csv mode)
  raw/pairing/<period>/帮扶责任人结对_<period>[_part-<chunk>].csv
  raw/survey/<period>/住户抽样调查_<period>.csv
  raw/reference/农村户籍人口.csv
  raw/SYNTHETIC.json   every raw file written, with its SHA-256 (the demo key is accepted for these only)
  truth/defects.csv, events.csv, deprivations.csv, params.json (+ survey_frame.csv, pairing_issues.csv)
Parquet mode (households above [run] auto_parquet_above, or fmt="parquet") and csv mode (the same
chunks as UTF-8 CSV, fmt="csv") plant no defects and no deprivations: their truth files carry
headers and events only. County formats plant per chunk (counts per chunk, defect IDs numbered
apart per chunk), so a city in one chunk is written exactly as before chunking existed.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines import config, keys, progress
from pipelines.policy import Policy, load_policy
from pipelines.synth import background, defects, departments, dynamics, exports, population, projects, writers
from pipelines.synth import tasks as synth_tasks

RAW_KINDS = ("registry", "pairing", "survey", "reference")
RAW_KINDS += ("projects",)  # 项目账 (pipelines/synth/projects.py)
RAW_KINDS += ("tasks",)  # the rectification tracker (pipelines/synth/tasks.py)
RAW_KINDS += ("departments",)  # department lists (pipelines/synth/departments.py)
DEFECT_COLUMNS = ["defect_id", "kind", "period", "file", "sheet", "source_row", "column", "household_id",
                  "person_id", "expected_reason", "expected_disposition"]
DEPRIVATION_COLUMNS = ["period", "household_id", "criterion", "person_id", "detail", "edge_case", "deprived"]
EVENT_COLUMNS = ["period", "household_id", "event", "cause"]


# ---------------------------------------------------------------- small steps


def load_settings(policy: Policy | None = None) -> dict:
    """All configuration the generator reads (through the policy layer: its files as plain data)."""
    policy = policy or load_policy()
    regions = policy.config_dir / "regions"
    villages = regions / "villages.csv"
    return {"synth": policy.raw("synth"), "thresholds": policy.raw("thresholds"),
            "lines": policy.raw("lines"), "aliases": policy.raw("header_aliases"), "tasks": policy.raw("tasks"),
            "counties": pd.read_csv(regions / "counties.csv", dtype=str),
            "townships": pd.read_csv(regions / "townships.csv", dtype=str),
            "villages": pd.read_csv(villages, dtype=str, keep_default_na=False) if villages.exists() else None}


def village_reference_frame(seed: int, settings: dict | None = None) -> pd.DataFrame:
    """The villages (and 城乡分类代码) the generator draws for `seed` without a reference: what
    config/regions/villages.csv holds for the sample city (written with `povmon synth --villages`)."""
    settings = settings or load_settings()
    cfg = settings["synth"]
    villages = population.build_villages(settings["townships"], settings["counties"], cfg, np.random.default_rng([seed, 0]))
    rural = exports.rural_frame(villages, 1, cfg, np.random.default_rng([seed, 1]))
    return population.village_reference(villages, rural["urban_rural_code"])


def write_village_reference(path: Path, seed: int) -> Path:
    """Write village_reference_frame(seed) to `path` (UTF-8 CSV, atomically)."""
    return writers.write_csv(village_reference_frame(seed), Path(path), "utf-8")


FORMAT_MODES = ("county", "parquet", "csv")  # csv: the parquet mode's layout as UTF-8 CSV (bench-national)


def resolve_format(fmt: str, households: int, cfg: dict) -> str:
    if fmt == "auto":
        return "county" if households <= cfg["run"]["auto_parquet_above"] else "parquet"
    if fmt not in FORMAT_MODES:
        raise ValueError(f"fmt must be auto, {', '.join(FORMAT_MODES)}, not {fmt!r}")
    return fmt


def chunk_households(mode: str, cfg: dict) -> int:
    """Households generated (and held in memory) per chunk: county formats and the bulk formats
    each have their own size in config/synth.toml [run]."""
    return cfg["run"]["county_chunk_households" if mode == "county" else "parquet_chunk_households"]


def part_number(mode: str, chunk: int, n_chunks: int) -> int | None:
    """The part number in file names: always in the bulk formats; in county formats only when the
    city takes more than one chunk (a city in one chunk keeps one file per county and quarter)."""
    return chunk if mode != "county" or n_chunks > 1 else None


def resolve_periods(periods: list[str] | None, all_p: list[str]) -> list[str]:
    chosen = list(all_p) if not periods else list(periods)
    unknown = [p for p in chosen if p not in all_p]
    if unknown:
        raise ValueError(f"periods {unknown} outside the configured range {all_p[0]}..{all_p[-1]}")
    return sorted(set(chosen), key=all_p.index)


def clear_outputs(out_dir: Path) -> None:
    """Remove what a previous run wrote (raw registry/pairing/survey/reference and truth)."""
    for kind in RAW_KINDS:
        shutil.rmtree(out_dir / "raw" / kind, ignore_errors=True)
    (out_dir / "raw" / config.SYNTHETIC_MANIFEST).unlink(missing_ok=True)
    shutil.rmtree(out_dir / "truth", ignore_errors=True)


def chunk_sizes(total: int, chunk: int) -> list[int]:
    return [min(chunk, total - s) for s in range(0, total, chunk)] or [0]


def registry_path(out_dir: Path, period: str, code: str, name: str, ext: str, chunk: int | None,
                  mode: str = "parquet") -> Path:
    if chunk is None:
        stem = f"{code}_{name}_建档立卡人口_{period}"
    elif mode == "county":
        stem = f"{code}_{name}_建档立卡人口_{period}_part-{chunk:05d}"
    else:
        stem = f"{code}_{name}_part-{chunk:05d}"
    return out_dir / "raw" / "registry" / period / f"{stem}.{ext}"


def write_truth_csv(rows, columns: list[str], path: Path) -> Path:
    frame = pd.DataFrame(rows, columns=columns)
    return writers.write_csv(frame, path, "utf-8")


# ---------------------------------------------------------------- per quarter


def quarter_state(ctx: dict, p: int, period: str, settings: dict, prev_monitoring) -> dict:
    """Person state, incomes, spending and monitoring of one quarter for one chunk."""
    cfg, lines = settings["synth"], settings["lines"]
    hh, persons, plan, vil = ctx["hh"], ctx["persons"], ctx["plan"], ctx["villages"]
    end = dynamics.period_end(period)
    year = int(period[:4])
    state = dynamics.person_state(persons, persons, p, end, plan.ill_from, cfg)
    pc = dynamics.target_per_capita(hh, plan, p, year, cfg, lines)
    poor = np.isin(plan.status[p], [dynamics.POOR, dynamics.RETURNED])
    shock = period in cfg["shocks"]["migrant_shock_periods"]
    mountain = vil["mountain"].to_numpy()[hh["village"].to_numpy()]
    income = dynamics.household_incomes(hh, state, persons["hh"].to_numpy(), pc, poor, shock, mountain, cfg)
    spend = dynamics.spending(state, persons, persons["hh"].to_numpy(), len(hh), cfg)
    active = period >= cfg["poverty"]["monitoring_from"]
    mline = dynamics.line_value(lines, "national", year) * lines["monitoring"]["factor"]
    mon = dynamics.monitoring_category(plan, p, income["per_capita_net_income"].to_numpy(), mline, active)
    return {**ctx, "p": p, "period": period, "state": state, "income": income, "spend": spend, "monitoring": mon,
            "shock": shock, "prev_monitoring": prev_monitoring}


def quarter_events(q: dict, p: int) -> list[tuple]:
    """Vectorised events of a quarter: migrant income shock, relocation settled, monitoring in/out."""
    hh, period = q["hh"], q["period"]
    ids = hh["household_id"].to_numpy()
    out = []
    if q["shock"]:
        out += [(period, h, "migrant_income_shock", "epidemic") for h in ids[q["income"]["migrants"].to_numpy() > 0]]
    if p == 2:
        out += [(period, h, "relocated", "") for h in ids[hh["relocation_unsettled"].to_numpy()]]
    prev, now = q["prev_monitoring"], q["monitoring"]
    if prev is not None:
        out += [(period, h, "entered_monitoring", c) for h, c in zip(ids[(prev == "") & (now != "")], now[(prev == "") & (now != "")])]
        out += [(period, h, "left_monitoring", "") for h in ids[(prev != "") & (now == "")]]
    return out


def survey_matches(q: dict, design_keys: pd.DataFrame) -> pd.DataFrame:
    """Registry households of this chunk sitting in a sampled survey slot (size, income, registered)."""
    hh = q["hh"]
    serial = pd.Series(hh["household_id"]).str[12:].astype(int).to_numpy()
    table = pd.DataFrame({"village": hh["village"].to_numpy(), "slot": serial - 1,
                          "size_matched": q["income"]["size"].to_numpy(),
                          "pc_cents": q["income"]["per_capita_net_income"].to_numpy(),
                          "registered": q["plan"].registered[q["p"]]})
    return table.merge(design_keys, on=["village", "slot"], how="inner")


def county_layouts(settings: dict, fmt_mode: str) -> dict:
    """Per county: file format, headers, yes/no style, title, merged."""
    cfg, aliases = settings["synth"], settings["aliases"]["registry"]
    cols = cfg["layout"]["registry_columns"]
    out = {}
    for code, name in zip(settings["counties"]["code"], settings["counties"]["name"]):
        bulk = "csv-utf8" if fmt_mode == "csv" else "parquet"
        spec = cfg["counties"][code] if fmt_mode == "county" else {"format": bulk, "header_variant": "standard",
                                                                    "yes_no": "shi_fou"}
        out[code] = {"name": name, "format": spec["format"], "title": spec.get("title"), "merged": spec.get("merged", False),
                     "names_only": spec.get("layout") == "names_only",
                     "headers": exports.header_map(cols, aliases, cfg["header_variants"].get(spec["header_variant"], {})),
                     "style": cfg["yes_no_styles"][spec["yes_no"]], "header_variant": spec["header_variant"],
                     "yes_no": spec["yes_no"]}
    return out


def write_now_or_later(jobs: background.Jobs | None, fn, *args, **kwargs) -> None:
    """Call a writer now, or add the call to `jobs` (written in the background, same bytes)."""
    if jobs is None:
        fn(*args, **kwargs)
    else:
        jobs.add(fn, *args, **kwargs)


def write_county_file(frame: pd.DataFrame, layout: dict, path: Path, period: str, out_dir: Path, settings: dict,
                      chunk: int | None = None, jobs: background.Jobs | None = None) -> list[dict]:
    """Write one county's registry file (or add its write to `jobs`); returns the truth rows of
    its planted defects."""
    cfg = settings["synth"]
    if layout["names_only"]:
        return write_names_only_file(frame, layout, path, period, out_dir, settings, chunk, jobs)
    cols = cfg["layout"]["registry_columns"]
    yn = exports.yes_no_columns(settings["aliases"]["registry"])
    table = exports.layout_frame(frame, cols, layout["headers"], yn, layout["style"])
    kinds = frame["_kind"].to_numpy() if "_kind" in frame else np.full(len(frame), "")
    shift_at = list(table.columns).index(layout["headers"][cfg["defects"]["shift_from"]])
    values = table.to_numpy(dtype=object)
    for i in np.flatnonzero(kinds == "column_shift"):
        values[i] = defects.shift_row(list(values[i]), shift_at)
    table = pd.DataFrame(values, columns=table.columns)
    merge_cols = [layout["headers"][c] for c in cfg["defects"]["merged_columns"]] if layout["merged"] else None
    groups = frame["_merge"].to_numpy(dtype=object) if merge_cols and "_merge" in frame else None
    write_now_or_later(jobs, writers.write_export, table, path, layout["format"], title=layout["title"],
                       merge_columns=merge_cols, merge_groups=groups)
    first = writers.first_data_row(layout["format"], layout["title"])
    rel = path.relative_to(out_dir / "raw").as_posix()
    rows = []
    for i in np.flatnonzero(kinds != ""):
        col = "|".join(layout["headers"][c] for c in frame["_column"].iat[i].split("|"))
        rows.append({"defect_id": frame["_defect_id"].iat[i], "kind": kinds[i], "period": period, "file": rel,
                     "sheet": "Sheet1" if layout["format"] == "xlsx" else "", "source_row": first + i, "column": col,
                     "household_id": frame["household_id"].iat[i], "person_id": frame["person_id"].iat[i],
                     "expected_reason": kinds[i], "expected_disposition": defects.DEFECT_REASONS[kinds[i]]})
    return rows


def names_only_damage_rows(frame: pd.DataFrame, n: int) -> list[int]:
    """Rows whose ID a spreadsheet turns into a number: n non-head members (IDs ending in a digit)
    of households with no other planted defect or deprivation, spread evenly over the file
    (deterministic)."""
    kinds = frame["_kind"].to_numpy() if "_kind" in frame else np.full(len(frame), "")
    touched = set(frame["household_id"].to_numpy()[kinds != ""])
    if "_deprived" in frame:  # households with a planted deprivation: their members stay loaded
        touched |= set(frame["household_id"].to_numpy()[frame["_deprived"].to_numpy(dtype=bool)])
    ids = frame["id_number"].astype(str)
    ok = np.flatnonzero((frame["relation"].to_numpy() != "户主") & ids.str[-1:].str.isdigit().to_numpy(dtype=bool)
                        & (ids.str.len() == 18).to_numpy() & ~frame["household_id"].isin(touched).to_numpy()).tolist()
    step = max(1, len(ok) // max(n, 1))
    return ok[::step][:n]


def write_names_only_file(frame: pd.DataFrame, layout: dict, path: Path, period: str, out_dir: Path,
                          settings: dict, chunk: int | None = None, jobs: background.Jobs | None = None) -> list[dict]:
    """One county's names-only member export (config/synth.toml [names_only]); returns the truth
    rows of its planted cases: the frame's defects (missing-village-code rows become unknown
    village names), IDs written as number cells, and the 合计 row."""
    cfg = settings["synth"]
    spec = cfg["names_only"]
    cols = [c for c in cfg["layout"]["registry_columns"] if c != "village_code"]
    yn = exports.yes_no_columns(settings["aliases"]["registry"])
    frame = frame.reset_index(drop=True)
    kinds = frame["_kind"].to_numpy().copy() if "_kind" in frame else np.full(len(frame), "", dtype=object)
    unknown = np.flatnonzero(kinds == "missing_village_code")
    frame.loc[unknown, "village_name"] = frame.loc[unknown, "village_name"].astype(str) + spec["unknown_place_suffix"]
    kinds[unknown] = "unknown_place_name"
    damaged = names_only_damage_rows(frame, dynamics.count_for(spec["damaged_ids"], int((frame["relation"] == "户主").sum())))
    table = exports.layout_frame(frame, cols, layout["headers"], yn, layout["style"])
    for c in spec["full_width_columns"]:
        h = layout["headers"][c]
        table[h] = table[h].astype(str).str.translate(writers.FULL_WIDTH_DIGITS)
    shift_at = list(table.columns).index(layout["headers"][cfg["defects"]["shift_from"]])
    values = table.to_numpy(dtype=object)
    for i in np.flatnonzero(kinds == "column_shift"):
        values[i] = defects.shift_row(list(values[i]), shift_at)
    table = pd.DataFrame(values, columns=table.columns)
    merge_cols = [layout["headers"][c] for c in cfg["defects"]["merged_columns"]] if layout["merged"] else None
    groups = frame["_merge"].to_numpy(dtype=object) if merge_cols and "_merge" in frame else None
    income = cols[cols.index("wage_income"):]
    county = layout["name"]
    text = {"county": county, "period_end": str(dynamics.period_end(period))}
    sheet_spec = dict(spec, title=spec["title"].format(**text), unit_line=spec["unit_line"].format(**text))
    id_header = layout["headers"]["id_number"]
    write_now_or_later(
        jobs, writers.write_names_only_xlsx, table, path, sheet_spec, group=(spec["income_group"], [layout["headers"][c] for c in income]),
        merge_columns=merge_cols, merge_groups=groups, number_cells={i: id_header for i in damaged},
        total_row={layout["headers"]["row_no"]: "合计",
                   layout["headers"]["household_size"]: str(len(table)).translate(writers.FULL_WIDTH_DIGITS)})
    first = writers.first_data_row("xlsx", None, names_only=True)
    rel = path.relative_to(out_dir / "raw").as_posix()
    planted = [(i, kinds[i], frame["_column"].iat[i], frame["_defect_id"].iat[i]) for i in np.flatnonzero(kinds != "")]
    planted += [(i, "id_damaged_by_spreadsheet", "id_number", defects.defect_id(period, "id_damaged_by_spreadsheet", k + 1, chunk))
                for k, i in enumerate(damaged)]
    rows = []
    for i, kind, column, defect_id in planted:
        column = "village_name" if kind == "unknown_place_name" else column
        col = "|".join(layout["headers"][c] for c in column.split("|"))
        rows.append({"defect_id": defect_id, "kind": kind, "period": period, "file": rel, "sheet": spec["sheet"],
                     "source_row": first + i, "column": col, "household_id": frame["household_id"].iat[i],
                     "person_id": frame["person_id"].iat[i], "expected_reason": kind,
                     "expected_disposition": defects.DEFECT_REASONS[kind]})
    rows.append({"defect_id": defects.defect_id(period, "total_row", 1, chunk), "kind": "total_row", "period": period, "file": rel,
                 "sheet": spec["sheet"], "source_row": first + len(table), "column": "", "household_id": "",
                 "person_id": "", "expected_reason": "total_row", "expected_disposition": "quarantine"})
    return rows


def write_pairing(q: dict, pool: pd.DataFrame, out_dir: Path, chunk: int | None, settings: dict, rng) -> tuple[Path, pd.DataFrame]:
    cfg, aliases = settings["synth"], settings["aliases"]["pairing"]
    frame, issues = exports.pairing_frame(q, pool, dynamics.period_end(q["period"]), rng)
    cols = cfg["layout"]["pairing_columns"]
    headers = {c: aliases[c]["aliases"][0] for c in cols}
    headers["cadre_name"] = "帮扶责任人姓名"
    suffix = f"_part-{chunk:05d}" if chunk is not None else ""
    path = out_dir / "raw" / "pairing" / q["period"] / f"帮扶责任人结对_{q['period']}{suffix}.csv"
    writers.write_export(frame[cols].rename(columns=headers), path, "csv-utf8-bom")
    return path, issues.assign(period=q["period"])


# ---------------------------------------------------------------- the run


@contextlib.contextmanager
def object_strings():
    """Keep text columns as numpy object arrays while generating (pandas 3 would convert every text
    column to Arrow strings and back at each step: 3-5x slower on city-size frames). The option is
    deprecated in pandas 3 and gone in 4: then this is a no-op and only speed differs."""

    def set_quietly(value):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            previous = pd.get_option("future.infer_string")
            pd.set_option("future.infer_string", value)
            return previous

    try:
        previous = set_quietly(False)
    except (KeyError, pd.errors.OptionError):
        previous = None
    try:
        yield
    finally:
        if previous is not None:
            set_quietly(previous)


def run(out_dir: Path, households: int, seed: int, periods: list[str] | None, fmt: str = "auto") -> dict:
    """Generate the synthetic city into out_dir/raw and out_dir/truth; returns a JSON-able summary."""
    with object_strings():
        return _run(out_dir, households, seed, periods, fmt)


def _run(out_dir: Path, households: int, seed: int, periods: list[str] | None, fmt: str) -> dict:
    started = time.perf_counter()
    out_dir = Path(out_dir)
    settings = load_settings()
    cfg = settings["synth"]
    all_p = dynamics.all_periods(settings["thresholds"]["periods"]["first"], settings["thresholds"]["periods"]["last"])
    wanted = resolve_periods(periods, all_p)
    mode = resolve_format(fmt, households, cfg)
    clear_outputs(out_dir)
    county_codes = list(settings["counties"]["code"])
    layouts = county_layouts(settings, mode)
    villages = population.build_villages(settings["townships"], settings["counties"], cfg, np.random.default_rng([seed, 0]),
                                         settings["villages"])
    n_marginal = int(round(households * cfg["city"]["marginal_share"]))
    rural = exports.rural_frame(villages, households + n_marginal, cfg, np.random.default_rng([seed, 1]))
    design = exports.survey_design(villages, rural, cfg, np.random.default_rng([seed, 2]))
    counters = population.new_counters(len(villages), len(county_codes))
    ref_date = np.datetime64(cfg["run"]["reference_date"])
    sizes = chunk_sizes(households, chunk_households(mode, cfg))
    digits = max(cfg["city"]["household_serial_digits"], len(str(int((households + n_marginal) * 0.05) + 1)))
    scarce = set(villages.loc[villages["scarce_area"], "village_code"])
    seasonal = set(villages.loc[villages["seasonal_shortage"], "village_code"])
    truth = {"defects": [], "deprivations": [], "events": [], "pairing": [], "matches": {p: [] for p in wanted},
             "crosscheck": []}
    project_pool: dict[str, pd.DataFrame] = {}
    policy = load_policy()
    names_only = {k for k, v in layouts.items() if v["names_only"]}
    water_villages: dict[str, set] = {}  # per quarter: villages a 水利 list already has (chunks)
    dept_thresholds = {"out_of_pocket_warning_yuan": policy.departments.thresholds.out_of_pocket_warning_yuan,
                       "education": settings["thresholds"]["education"]}
    files, persons_by_p, households_by_p = [], dict.fromkeys(wanted, 0), dict.fromkeys(wanted, 0)
    registry_per_village = np.zeros(len(villages), dtype=np.int64)
    design_keys = design[["village", "slot"]]
    # registry files are written in a forked child while the next quarter is drawn (background.py)
    with background.Writer(cfg["run"]["writer_processes"] if mode == "county" else 0) as writer:
        for c, n_reg in enumerate(sizes):
            rng = np.random.default_rng([seed, 10, c])
            part = part_number(mode, c, len(sizes))
            n_marg = int(round(n_reg * cfg["city"]["marginal_share"]))
            hh, persons = population.build_population(n_reg, n_marg, villages, county_codes, cfg, rng, counters, digits, ref_date)
            registry_per_village += np.bincount(hh["village"].to_numpy(), minlength=len(villages))
            plan = dynamics.simulate_status(hh, persons, all_p, cfg, rng)
            edges = (defects.plant_edge_births(hh, persons, plan, all_p, cfg, county_codes, counters, rng)
                     if mode == "county" else {})
            ids = hh["household_id"].to_numpy()
            truth["events"] += [(p, ids[h], e, cause) for p, h, e, cause in plan.events if p in wanted]
            per_county = np.bincount(hh["county_idx"], weights=hh["registered"], minlength=len(county_codes))
            pool = exports.cadre_pool(county_codes, [layouts[k]["name"] for k in county_codes], per_county, c, cfg,
                                      np.random.default_rng([seed, 20, c]))
            ctx = {"hh": hh, "persons": persons, "villages": villages, "plan": plan, "cfg": cfg}
            prev = None
            label = "synth" if len(sizes) == 1 else f"synth chunk {c + 1}/{len(sizes)}"
            for p, period in enumerate(progress.each(all_p, label)):  # a live line on a terminal
                q = quarter_state(ctx, p, period, settings, prev)
                prev = q["monitoring"]
                if period not in wanted:
                    continue
                truth["events"] += quarter_events(q, p)
                truth["matches"][period].append(survey_matches(q, design_keys))
                frame = exports.registry_frame(q)
                frame["_county"] = villages["county_code"].to_numpy()[hh["village"].to_numpy()][frame["_hh"].to_numpy()]
                prng = np.random.default_rng([seed, 30, c, p])
                if mode == "county":
                    frame, dep_rows, used = defects.plant_deprivations(frame, period, edges.get(period, []), cfg,
                                                                       settings["thresholds"], scarce, seasonal, prng)
                    truth["deprivations"] += dep_rows
                    merged = next((k for k, v in layouts.items() if v["merged"]), None)
                    frame = defects.plant_defects(frame, period, used, county_codes, merged, cfg, counters, prng,
                                                  chunk=part)
                    frame["_deprived"] = frame["household_id"].isin(used).to_numpy()  # names-only damage avoids them
                # department lists (issue 16 part 1): drawn from this quarter's frame, discrepancies planted
                dept_members = departments.members(frame, persons, period, names_only)
                dept_lists, dept_truth = departments.department_lists(
                    dept_members, period, policy.departments.synth, dept_thresholds, np.random.default_rng([seed, 40, c, p]),
                    water_villages.setdefault(period, set()))
                files += departments.write_lists(dept_lists, out_dir / "raw", period, part)
                truth["crosscheck"] += dept_truth
                persons_by_p[period] += int((frame["_person"] >= 0).sum())
                households_by_p[period] += int(q["income"]["size"].gt(0).sum())
                n_defects = len(truth["defects"])
                jobs = background.Jobs()
                for code in county_codes:
                    lay = layouts[code]
                    sub = frame[frame["_county"] == code].reset_index(drop=True)
                    path = registry_path(out_dir, period, code, lay["name"], writers.EXTENSIONS[lay["format"]], part, mode)
                    truth["defects"] += write_county_file(sub, lay, path, period, out_dir, settings, part, jobs)
                    files.append(path)
                writer.submit(f"{period} chunk {c}", jobs)
                truth["crosscheck"] += departments.defect_rows(dept_members, truth["defects"][n_defects:], period)
                path, issues = write_pairing(q, pool, out_dir, part, settings, prng)
                files.append(path)
                truth["pairing"].append(issues)
                if c == 0:  # 项目账: beneficiaries drawn from the first chunk's households no defect touches
                    project_pool[period] = projects.sample(frame, {d["household_id"] for d in truth["defects"] if d["period"] == period},
                                                           cfg["projects"]["sample_per_county"])
            del hh, persons, plan, ctx
    aliases = settings["aliases"]
    for period in wanted:
        matched = pd.concat(truth["matches"][period], ignore_index=True)
        frame = exports.survey_frame(design, matched, int(period[:4]), cfg)
        cols = cfg["layout"]["survey_columns"]
        path = out_dir / "raw" / "survey" / period / f"住户抽样调查_{period}.csv"
        writers.write_export(frame[cols].rename(columns={c: aliases["survey"][c]["aliases"][0] for c in cols}), path, "csv-utf8-bom")
        files.append(path)
    ref = exports.population_reference(villages, rural, registry_per_village)
    cols = cfg["layout"]["population_columns"]
    path = out_dir / "raw" / "reference" / "农村户籍人口.csv"
    writers.write_export(ref[cols].rename(columns={c: aliases["population"][c]["aliases"][0] for c in cols}), path, "csv-utf8-bom")
    files.append(path)
    truth_dir = out_dir / "truth"
    project_files, project_truth = projects.write_all(out_dir, project_pool, settings["counties"], cfg["projects"], seed)
    files += project_files
    projects.write_truth(project_truth, truth_dir / "projects.csv")
    write_truth_csv(truth["defects"], DEFECT_COLUMNS, truth_dir / "defects.csv")
    write_truth_csv(truth["deprivations"], DEPRIVATION_COLUMNS, truth_dir / "deprivations.csv")
    events = pd.DataFrame(truth["events"], columns=EVENT_COLUMNS)
    events["_p"] = events["period"].map(all_p.index)
    events = events.sort_values(["_p", "event", "household_id"], kind="stable").drop(columns="_p")
    write_truth_csv(events, EVENT_COLUMNS, truth_dir / "events.csv")
    departments.write_truth(truth["crosscheck"], truth_dir / "crosscheck.csv")
    pairing = pd.concat(truth["pairing"], ignore_index=True) if truth["pairing"] else pd.DataFrame(columns=["period", "household_id", "issue"])
    write_truth_csv(pairing[["period", "household_id", "issue"]], ["period", "household_id", "issue"], truth_dir / "pairing_issues.csv")
    frame_truth = design.groupby(["county_code", "village_code", "village"], as_index=False).size()
    frame_truth["rural_households"] = np.maximum(rural["rural_households"].to_numpy(), registry_per_village)[frame_truth["village"]]
    write_truth_csv(frame_truth[["county_code", "village_code", "rural_households", "size"]].rename(columns={"size": "sampled"}),
                    ["county_code", "village_code", "rural_households", "sampled"], truth_dir / "survey_frame.csv")
    params = {
        "seed": seed, "households": households, "marginal_households": n_marginal, "periods": wanted, "mode": mode,
        "rural_households_total": int(np.maximum(rural["rural_households"].to_numpy(), registry_per_village).sum()),
        "formats": {k: {"name": v["name"], "format": v["format"], "header_variant": v["header_variant"],
                        "yes_no": v["yes_no"], "title": v["title"], "merged": v["merged"],
                        "names_only": v["names_only"]} for k, v in layouts.items()},
        "merged_columns": cfg["defects"]["merged_columns"] if mode == "county" else [],
        "defects_planted": mode == "county", "deprivations_planted": mode == "county",
    }
    # the rectification tracker's task lists and instructions (pipelines/synth/tasks.py)
    task_files, task_truth = synth_tasks.write_tasks(out_dir, wanted, settings["tasks"], seed)
    files += task_files
    write_truth_csv(task_truth, synth_tasks.TRUTH_COLUMNS, truth_dir / "tasks.csv")
    # the demo key's licence: ingest accepts it only for files listed here with these hashes
    keys.write_synthetic_manifest(out_dir / "raw", files)
    params_path = truth_dir / "params.json"
    writers._atomic(params_path, lambda tmp: tmp.write_text(json.dumps(params, ensure_ascii=False, indent=2), encoding="utf-8"))
    return {"out_dir": str(out_dir), "mode": mode, "files_written": len(files) + 7,
            "persons": persons_by_p, "households": households_by_p,
            "defects": len(truth["defects"]), "deprivations": len(truth["deprivations"]), "events": len(events),
            "seconds": round(time.perf_counter() - started, 1)}
