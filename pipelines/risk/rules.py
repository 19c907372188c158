"""config/risk.toml (+ lines.toml, code_labels.toml) -> the validated values the SQL templates use.

Everything an analyst may change is in the TOML files; this module only checks it (codes are
plain identifiers, referenced signals exist) and shapes it for jinja. Nothing here decides a rule.
"""

from __future__ import annotations

import re
from pathlib import Path

from pipelines.config import CONFIG_DIR, load_toml

# Signals computed in pipelines/risk/sql/risk.sql (the `signals` CTE). risk.toml orders and labels
# them; adding a code here also needs its sig_<code> column in that CTE.
KNOWN_SIGNALS = (
    "below_national", "below_guideline", "near_threshold", "income_drop", "rigid_spending",
    "large_medical", "disaster_shock", "illness_disability", "no_labour", "high_transfer_share",
    "single_migrant_income", "relocation_unsettled", "gap_food", "gap_clothing", "gap_education",
    "gap_medical", "gap_housing", "gap_water",
)
GAP_SIGNALS = ("gap_food", "gap_clothing", "gap_education", "gap_medical", "gap_housing", "gap_water")
CLAUSE_KEYS = {"poverty_status_in", "household_type_in", "category_in", "signals_any", "below_line",
               "level_in", "monitored"}
LINE_ROLES = ("national", "guideline", "monitoring")

_CODE = re.compile(r"^[a-z0-9_]+$")


class RiskConfigError(ValueError):
    """config/risk.toml refers to something that does not exist or is not a plain code."""


# ---- configuration ------------------------------------------------------------------------------

def _codes(values, where: str) -> list[str]:
    for v in values:
        if not isinstance(v, str) or not _CODE.match(v):
            raise RiskConfigError(f"config/risk.toml {where}: {v!r} is not a plain code ([a-z0-9_]+)")
    return list(values)


def _check_signals(values, where: str) -> list[str]:
    unknown = [v for v in _codes(values, where) if v not in KNOWN_SIGNALS]
    if unknown:
        raise RiskConfigError(f"config/risk.toml {where}: unknown signal(s) {unknown}; known: {KNOWN_SIGNALS}")
    return list(values)


def _check_clause(clause: dict, where: str) -> dict:
    for key, value in clause.items():
        if key not in CLAUSE_KEYS:
            raise RiskConfigError(f"config/risk.toml {where}: unknown clause key {key!r}; allowed {sorted(CLAUSE_KEYS)}")
        if key == "signals_any":
            _check_signals(value, f"{where}.{key}")
        elif key == "below_line":
            if value not in LINE_ROLES:
                raise RiskConfigError(f"config/risk.toml {where}.below_line: {value!r} not one of {LINE_ROLES}")
        elif key == "monitored":
            if not isinstance(value, bool):
                raise RiskConfigError(f"config/risk.toml {where}.monitored: expected true/false")
        else:
            _codes(value, f"{where}.{key}")
    return clause


def line_table(config_dir: Path = CONFIG_DIR) -> list[tuple[int, str, float]]:
    """(year, role, yuan) for every year lines.toml has: national, guideline, monitoring = factor x base."""
    lines, risk = load_toml("lines", config_dir), load_toml("risk", config_dir)
    names = risk["lines"]
    rows: list[tuple[int, str, float]] = []
    by_name = {name: {v["year"]: float(v["value"]) for v in sec.get("values", [])}
               for name, sec in lines.items() if isinstance(sec, dict)}
    for role in ("national", "guideline"):
        rows += [(y, role, v) for y, v in by_name.get(names[role], {}).items()]
    monitoring = lines[names["monitoring"]]
    if "values" in monitoring:
        rows += [(v["year"], "monitoring", float(v["value"])) for v in monitoring["values"]]
    else:
        base = by_name[monitoring["factor_of"]]
        rows += [(y, "monitoring", float(monitoring["factor"]) * v) for y, v in base.items()]
    return sorted(rows)


def line_labels(config_dir: Path = CONFIG_DIR) -> dict[str, str]:
    """role -> the Chinese label of the named line (for reports)."""
    lines, names = load_toml("lines", config_dir), load_toml("risk", config_dir)["lines"]
    return {role: lines[names[role]].get("label", names[role]) for role in LINE_ROLES}


def status_labels(config_dir: Path = CONFIG_DIR) -> dict[str, str]:
    """poverty_status code -> standard label, plus the matrix's pseudo-statuses."""
    codes = load_toml("code_labels", config_dir)["poverty_status"]
    tr = load_toml("risk", config_dir)["transitions"]
    labels = {code: values[0] for code, values in codes.items()}
    labels["not_registered"] = tr["not_registered_label"]
    labels["absent"] = tr["absent_label"]
    return labels


def template_context(config_dir: Path = CONFIG_DIR) -> dict:
    """Validated values for the jinja templates under pipelines/risk/sql/."""
    risk = load_toml("risk", config_dir)
    sig = dict(risk["signals"])
    for key in ("labour_capable", "migrant_statuses", "shock_causes"):
        _codes(sig[key], f"[signals].{key}")
    for key in ("illness_disability_columns", "shock_cause_columns", "shock_flag_columns"):
        _codes(sig[key], f"[signals].{key}")
    for key in ("transfer_share_min", "single_migrant_wage_share_min", "income_drop_min",
                "rigid_spending_ratio", "large_medical_min"):
        if not isinstance(sig[key], (int, float)):
            raise RiskConfigError(f"config/risk.toml [signals].{key}: expected a number")

    signal_list = [{"code": s["code"], "label": s["label"].format(**sig)} for s in risk["signal"]]
    _check_signals([s["code"] for s in signal_list], "[[signal]].code")
    missing = set(KNOWN_SIGNALS) - {s["code"] for s in signal_list}
    if missing:
        raise RiskConfigError(f"config/risk.toml [[signal]]: no label for {sorted(missing)}")

    bands = risk["bands"]
    for b in bands:
        _codes([b["code"]], "[[bands]].code")
        if b["line"] and b["line"] not in LINE_ROLES:
            raise RiskConfigError(f"config/risk.toml [[bands]] {b['code']}: line {b['line']!r} not one of {LINE_ROLES}")
    levels = risk["levels"]
    for lv in levels:
        _codes([lv["code"]], "[[levels]].code")
        _check_signals(lv["any_of"], f"[[levels]] {lv['code']}.any_of")
    cats = risk["categories"]
    for key in ("not_proposed_statuses", "exited_statuses"):
        _codes(cats[key], f"[categories].{key}")
    for key in ("unstable_signals", "sudden_signals"):
        _check_signals(cats[key], f"[categories].{key}")
    for g in risk["watch_groups"]:
        _codes([g["code"]], "[[watch_groups]].code")
        for c in g["when"]:
            _check_clause(c, f"[[watch_groups]] {g['code']}")
    elim = risk["elimination"]
    _check_signals(elim["blocking_signals"], "[elimination].blocking_signals")
    _check_signals(elim["keep_tracking_signals"], "[elimination].keep_tracking_signals")
    if int(elim["consecutive_quarters"]) < 1:
        raise RiskConfigError("config/risk.toml [elimination].consecutive_quarters must be >= 1")
    assist = risk["assistance"]
    for r in assist["requirements"]:
        _codes([r["code"]], "[[assistance.requirements]].code")
        _codes(r["ranks"], f"[[assistance.requirements]] {r['code']}.ranks")
        _check_clause(r["applies_to"], f"[[assistance.requirements]] {r['code']}")
    max_by_rank = {k: int(v) for k, v in assist.get("max_households_by_rank", {}).items()}
    _codes(list(max_by_rank), "[assistance.max_households_by_rank]")
    tr = risk["transitions"]
    _codes(tr["poor_statuses"] + tr["exited_statuses"], "[transitions]")

    return {
        "income_columns": _codes(risk["income"]["columns"], "[income].columns"),
        "signals_cfg": sig,
        "signal_list": signal_list,
        "signal_labels": {s["code"]: s["label"] for s in signal_list},
        "bands": bands,
        "levels": levels,
        "categories": cats,
        "category_labels": dict(risk["category_labels"]),
        "watch_groups": risk["watch_groups"],
        "elimination": elim,
        "requirements": assist["requirements"],
        "max_households": int(assist["max_households_per_cadre"]),
        "max_by_rank": max_by_rank,
        "gap_labels": dict(risk["gap_labels"]),
        "poor_statuses": tr["poor_statuses"],
        "exited_statuses": tr["exited_statuses"],
        "status_labels": status_labels(config_dir),
    }
