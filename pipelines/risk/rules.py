"""What is specific to the risk stage's rules: which signals its SQL computes, and the identifiers
(column names, signal codes, clause ids) the SQL templates loop over.

Values — thresholds, code lists, labels — never pass through here: they reach the SQL as
parameter tables (pipelines/params.py). Everything here comes from a loaded, cross-checked
Policy (pipelines/policy), so each identifier is a plain code ([a-z0-9_]+).
"""

from __future__ import annotations

from pipelines.policy import Policy, PolicyError
from pipelines.policy.schema import Clause

SIGNALS_SQL = "pipelines/risk/sql/int_risk_signals.sql"
# Signals int_risk_signals.sql computes from a rule of its own (a sig_<code> column each). The
# income signals are not listed: each is the `signal` of an income band ([[bands]] in risk.toml),
# whatever its code.
RULE_SIGNALS = (
    "income_drop", "rigid_spending", "large_medical", "disaster_shock", "illness_disability", "no_labour",
    "high_transfer_share", "single_migrant_income", "relocation_unsettled", "gap_food", "gap_clothing",
    "gap_education", "gap_medical", "gap_housing", "gap_water",
)
# monitoring categories risk.sql proposes (its `categorised` CTE); each needs a label
PROPOSED_CATEGORIES = ("unstable_exited", "marginal", "sudden_hardship")
# clause keys whose value is a list of codes (a parameter table, param_risk_clauses)
LIST_KEYS = ("status_group_in", "poverty_status_in", "household_type_in", "category_in", "level_in")


def crosscheck_signals(policy: Policy) -> list[str]:
    """Signals int_risk_signals.sql sets from the department cross-checks: xc_<rule> per rule of
    config/departments.toml [[rule]] (crosscheck_findings of the household this quarter)."""
    return [f"xc_{r.code}" for r in policy.departments.rule]


def band_signals(policy: Policy) -> list[str]:
    """Signals carried by an income band, in [[signal]] order."""
    carried = {b.signal for b in policy.risk.bands if b.signal}
    return [s.code for s in policy.risk.signal if s.code in carried]


def check(policy: Policy) -> None:
    """The [[signal]] list of risk.toml is exactly what the SQL computes; else PolicyError (one line)."""
    r = policy.risk
    for b in r.bands:
        if b.signal in RULE_SIGNALS:
            raise PolicyError(f"config/risk.toml [[bands]] {b.code}.signal: {b.signal!r} is computed by "
                              f"{SIGNALS_SQL} from its own rule; an income band must carry a signal of its own")
    computed = set(RULE_SIGNALS) | set(crosscheck_signals(policy)) | {b.signal for b in r.bands if b.signal}
    listed = [s.code for s in r.signal]
    unknown = [s for s in listed if s not in computed]
    if unknown:
        raise PolicyError(f"config/risk.toml [[signal]]: {', '.join(map(repr, unknown))} is neither computed by "
                          f"{SIGNALS_SQL} nor carried by an income band; expected one of "
                          f"{', '.join(sorted(computed))}")
    missing = [s for s in (*RULE_SIGNALS, *crosscheck_signals(policy)) if s not in listed]
    if missing:
        raise PolicyError(f"config/risk.toml [[signal]]: no entry for {', '.join(map(repr, missing))}, which "
                          f"{SIGNALS_SQL} computes; list it with its label")
    unlabelled = [c for c in PROPOSED_CATEGORIES if c not in r.category_labels]
    if unlabelled:
        raise PolicyError(f"config/risk.toml [category_labels]: no label for {', '.join(map(repr, unlabelled))}, "
                          "which pipelines/risk/sql/risk.sql proposes")


def clauses(policy: Policy) -> list[tuple[str, Clause]]:
    """(clause_id, clause) for every watch-group and assistance clause, in config order."""
    r = policy.risk
    out = [(f"watch_group.{g.code}.{i}", c) for g in r.watch_groups for i, c in enumerate(g.when, start=1)]
    out += [(f"requirement.{q.code}", q.applies_to) for q in r.assistance.requirements]
    return out


def template_context(policy: Policy) -> dict:
    """Identifiers for the jinja templates under pipelines/risk/sql/ (no values)."""
    r = policy.risk
    by_id = dict(clauses(policy))

    def clause(cid: str) -> dict:
        return {"id": cid, "conditions": by_id[cid].items()}

    return {
        "income_columns": list(r.income.columns),
        "illness_disability_columns": list(r.signals.illness_disability_columns),
        "shock_cause_columns": list(r.signals.shock_cause_columns),
        "shock_flag_columns": list(r.signals.shock_flag_columns),
        "band_lines": [b.line for b in r.bands],
        "band_signals": band_signals(policy),
        "crosscheck_rules": [r.code for r in policy.departments.rule],
        "signals": [s.code for s in r.signal],
        "levels": [list(lv.any_of) for lv in r.levels],
        "unstable_signals": list(r.categories.unstable_signals),
        "sudden_signals": list(r.categories.sudden_signals),
        "blocking_signals": list(r.elimination.blocking_signals),
        "keep_tracking_signals": list(r.elimination.keep_tracking_signals),
        "watch_groups": [{"code": g.code, "clauses": [clause(f"watch_group.{g.code}.{i}")
                                                     for i in range(1, len(g.when) + 1)]}
                         for g in r.watch_groups],
        "requirements": [clause(f"requirement.{q.code}") for q in r.assistance.requirements],
    }
