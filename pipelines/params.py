"""Policy -> parameter tables: how values reach the SQL models (never as text spliced into SQL).

Each `param_<name>` a model refers to with `{{ ref('param_<name>') }}` is built here, from the
Policy and the run (the period), by one small function. A stage binds exactly the parameter
tables its models need:

    params.bind(con, policy, graph.sources(targets), period="2020Q2")
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable

import duckdb

from pipelines.graph import bind_params, bind_rows
from pipelines.periods import Period
from pipelines.policy import Policy

FIRST_YEAR, LAST_YEAR = 2010, 2099  # the quarter calendar table covers these years

Builder = Callable[[duckdb.DuckDBPyConnection, Policy, "Period | None"], None]
_BUILDERS: dict[str, Builder] = {}


def builds(name: str):
    def register(fn: Builder) -> Builder:
        _BUILDERS[name] = fn
        return fn
    return register


def bind(con: duckdb.DuckDBPyConnection, policy: Policy, names: Iterable[str], *, period: str | Period | None = None,
         **extra) -> list[str]:
    """Create the temp parameter tables among `names` (others are ignored: they are not parameters).
    `extra` overrides or adds one-row tables: bind(..., param_run={"previous": "2020Q1"})."""
    per = Period.parse(period) if period is not None else None
    bound = []
    for name in sorted(set(names)):
        if name in extra:
            bind_params(con, name, extra[name])
        elif name in _BUILDERS:
            _BUILDERS[name](con, policy, per)
        else:
            continue
        bound.append(name)
    return bound


def names() -> list[str]:
    return sorted(_BUILDERS)


def _need_period(period: Period | None, name: str) -> Period:
    if period is None:
        raise ValueError(f"parameter table {name} needs the run's period")
    return period


# ---- the run ---------------------------------------------------------------------------------------

@builds("param_run")
def run_table(con, policy: Policy, period: Period | None) -> None:
    """One row: the period, its year, quarter index (year*4+quarter), end date, previous quarter."""
    p = _need_period(period, "param_run")
    bind_rows(con, "param_run", {"period": "varchar", "year": "integer", "quarter_index": "integer",
                                 "period_end": "date", "previous_period": "varchar", "city_code": "varchar",
                                 "city_name": "varchar"},
              [(str(p), p.year, p.index, p.end_date, str(p.previous), policy.city.code, policy.city.name)])


@builds("param_quarters")
def quarters(con, policy: Policy, period: Period | None) -> None:
    """Every quarter FIRST_YEAR..LAST_YEAR: the one quarter calendar SQL joins instead of parsing
    'YYYYQn' strings (periods.py is the only place that does the arithmetic)."""
    rows = []
    for y in range(FIRST_YEAR, LAST_YEAR + 1):
        for q in range(1, 5):
            p = Period(y, q)
            rows.append((str(p), y, q, p.index, p.end_date))
    bind_rows(con, "param_quarters", {"period": "varchar", "year": "integer", "quarter": "integer",
                                      "quarter_index": "integer", "period_end": "date"}, rows)


# ---- shared definitions -------------------------------------------------------------------------------

@builds("param_status_groups")
def status_groups(con, policy: Policy, period: Period | None) -> None:
    bind_rows(con, "param_status_groups", {"group_name": "varchar", "code": "varchar"}, policy.group_rows())


@builds("param_lines")
def lines(con, policy: Policy, period: Period | None) -> None:
    """(year, line_name, role, value, status) for every line and year that resolves; role is the
    line's role in config/policy.toml [lines] (null for lines no rule plays)."""
    roles = {name: role for role, name in policy.lines.roles.items()}
    bind_rows(con, "param_lines", {"year": "integer", "line_name": "varchar", "role": "varchar",
                                   "value": "double", "status": "varchar"},
              [(v.year, v.name, roles.get(v.name), v.value, v.status) for v in policy.lines.rows()])


@builds("param_line_roles")
def line_roles(con, policy: Policy, period: Period | None) -> None:
    """(year, role, value, status): the line playing each role of config/policy.toml [lines]
    (national, guideline, monitoring) in every year it resolves; one line may play two roles."""
    bind_rows(con, "param_line_roles", {"year": "integer", "role": "varchar", "value": "double", "status": "varchar"},
              policy.lines.role_rows())


@builds("param_labels")
def labels(con, policy: Policy, period: Period | None) -> None:
    bind_rows(con, "param_labels", {"domain": "varchar", "code": "varchar", "label": "varchar",
                                    "sort_order": "integer"}, policy.labels.rows())


@builds("param_deadlines")
def deadlines(con, policy: Policy, period: Period | None) -> None:
    """(year, deadline) of the 清零 calendar for every year of the quarter calendar."""
    bind_rows(con, "param_deadlines", {"year": "integer", "deadline": "date"},
              policy.calendar.rows(FIRST_YEAR, LAST_YEAR + 1))


# ---- criteria (两不愁三保障 + 饮水) -------------------------------------------------------------------------

def criteria_values(policy: Policy) -> dict[str, float]:
    """Thresholds of the criteria models; water's basic levels default to the meets levels."""
    t = policy.thresholds
    water = t.water.model_dump()
    for key in list(water):
        if key.endswith("_basic") and water[key] is None:
            water[key] = water[key.removesuffix("_basic") + "_meets"]
        if key.startswith("quantity_lpd_basic_") and water[key] is None:
            water[key] = water[key.replace("_basic_", "_meets_")]
    return {"compulsory_age_min": float(t.education.compulsory_age_min),
            "compulsory_age_max": float(t.education.compulsory_age_max),
            "newborn_exempt_below_age": float(t.medical.newborn_exempt_below_age),
            **{k: float(water[k]) for k in sorted(water)}}


@builds("param_criteria")
def criteria(con, policy: Policy, period: Period | None) -> None:
    bind_params(con, "param_criteria", criteria_values(policy))


@builds("param_not_in_school")
def not_in_school(con, policy: Policy, period: Period | None) -> None:
    bind_rows(con, "param_not_in_school", {"code": "varchar"},
              [(c,) for c in policy.thresholds.education.not_in_school_statuses])


@builds("param_housing_grades")
def housing_grades(con, policy: Policy, period: Period | None) -> None:
    h = policy.thresholds.housing
    bind_rows(con, "param_housing_grades", {"grade": "varchar", "safe": "boolean"},
              [(g, True) for g in h.safe_grades] + [(g, False) for g in h.unsafe_grades])


# ---- validate: the problem ledger ---------------------------------------------------------------------

@builds("param_ledger")
def ledger(con, policy: Policy, period: Period | None) -> None:
    """One row: the period, its end, the 清零 deadline of a problem found in it (the first deadline
    strictly after the quarter's end: never due the day it is found) and the ledger's status labels."""
    p = _need_period(period, "param_ledger")
    led = policy.validate.ledger
    bind_rows(con, "param_ledger", {"period": "varchar", "period_end": "date", "deadline": "date",
                                    "status_new": "varchar", "status_open": "varchar", "status_disputed": "varchar",
                                    "status_cleared": "varchar"},
              [(str(p), p.end_date, policy.calendar.next_deadline(p.end_date, strictly_after=True), led.status_new,
                led.status_open, led.status_disputed, led.status_cleared)])


@builds("param_criteria_labels")
def criteria_labels(con, policy: Policy, period: Period | None) -> None:
    bind_rows(con, "param_criteria_labels", {"criterion": "varchar", "label": "varchar", "sort_order": "integer"},
              [(k, v, i) for i, (k, v) in enumerate(policy.validate.criteria.items())])


# ---- measures -------------------------------------------------------------------------------------------

@builds("param_measures")
def measures(con, policy: Policy, period: Period | None) -> None:
    """One row: period, year, city, the normal quantile of the confidence level."""
    p = _need_period(period, "param_measures")
    z = statistics.NormalDist().inv_cdf(0.5 + policy.measures.survey.confidence_level / 2)
    bind_params(con, "param_measures", {"period": str(p), "year": p.year, "city_code": policy.city.code,
                                        "city_name": policy.city.name, "ci_z": z})


@builds("size_bands")
def size_bands(con, policy: Policy, period: Period | None) -> None:
    """(band_order, min_size, max_size, label) of the subgroup profile: "a", "a-b" or "a+" (max >= 99)."""
    rows = []
    for i, (lo, hi) in enumerate(policy.measures.profile.size_bands):
        label = str(lo) if lo == hi else (f"{lo}+" if hi >= 99 else f"{lo}-{hi}")
        rows.append((i + 1, lo, hi, label))
    bind_rows(con, "size_bands", {"band_order": "integer", "min_size": "integer", "max_size": "integer",
                                  "label": "varchar"}, rows)


# ---- risk ----------------------------------------------------------------------------------------------

@builds("param_risk")
def risk(con, policy: Policy, period: Period | None) -> None:
    """One row: the fragility-signal thresholds, the 风险消除 window, the cadre maximum and the status
    groups the monitoring-category rules name (config/risk.toml)."""
    r = policy.risk
    s = r.signals
    bind_params(con, "param_risk", {
        "transfer_share_min": s.transfer_share_min,
        "single_migrant_wage_share_min": s.single_migrant_wage_share_min,
        "income_drop_min": s.income_drop_min,
        "rigid_spending_ratio": s.rigid_spending_ratio,
        "large_medical_min": s.large_medical_min,
        "consecutive_quarters": r.elimination.consecutive_quarters,
        "max_households_per_cadre": r.assistance.max_households_per_cadre,
        "not_proposed_group": r.categories.not_proposed_group,
        "exited_group": r.categories.exited_group,
    })


@builds("param_risk_codes")
def risk_codes(con, policy: Policy, period: Period | None) -> None:
    """(list_name, code): the code lists of config/risk.toml [signals] (labour_capable,
    migrant_statuses, shock_causes)."""
    s = policy.risk.signals
    lists = {"labour_capable": s.labour_capable, "migrant_statuses": s.migrant_statuses,
             "shock_causes": s.shock_causes}
    bind_rows(con, "param_risk_codes", {"list_name": "varchar", "code": "varchar"},
              [(name, code) for name, codes in lists.items() for code in codes])


@builds("param_bands")
def bands(con, policy: Policy, period: Period | None) -> None:
    """(band_order, code, label, line_role, signal): income bands in test order; line_role '' is the
    catch-all, signal null when the band carries none."""
    bind_rows(con, "param_bands", {"band_order": "integer", "code": "varchar", "label": "varchar",
                                   "line_role": "varchar", "signal": "varchar"},
              [(i, b.code, policy.labels.label("income_band", b.code), b.line, b.signal)
               for i, b in enumerate(policy.risk.bands, start=1)])


@builds("param_signals")
def signals(con, policy: Policy, period: Period | None) -> None:
    """(signal_order, code, label): the fragility signals in reason order, labels filled in."""
    bind_rows(con, "param_signals", {"signal_order": "integer", "code": "varchar", "label": "varchar"},
              [(i, s.code, policy.labels.label("signal", s.code)) for i, s in enumerate(policy.risk.signal, start=1)])


@builds("param_levels")
def levels(con, policy: Policy, period: Period | None) -> None:
    """(level_order, code, label, min_signals): risk levels in test order, then 'none' (no rule
    matched, labelled [no_risk_label]); min_signals 0 = no count test."""
    rows = [(i, lv.code, policy.labels.label("risk_level", lv.code), lv.min_signals)
            for i, lv in enumerate(policy.risk.levels, start=1)]
    rows.append((len(rows) + 1, "none", policy.labels.label("risk_level", "none"), 0))
    bind_rows(con, "param_levels", {"level_order": "integer", "code": "varchar", "label": "varchar",
                                    "min_signals": "integer"}, rows)


@builds("param_watch_groups")
def watch_groups(con, policy: Policy, period: Period | None) -> None:
    """(watch_group_order, code, label): the watch groups ("五类人") in config order."""
    bind_rows(con, "param_watch_groups", {"watch_group_order": "integer", "code": "varchar", "label": "varchar"},
              [(i, g.code, policy.labels.label("watch_group", g.code))
               for i, g in enumerate(policy.risk.watch_groups, start=1)])


@builds("param_risk_clauses")
def risk_clauses(con, policy: Policy, period: Period | None) -> None:
    """(clause_id, clause_key, code): the code lists of every watch-group and assistance clause
    (status_group_in, poverty_status_in, household_type_in, category_in, level_in), one row a code.
    The SQL refers to a clause by its id (pipelines/risk/rules.py `clauses`)."""
    from pipelines.risk.rules import LIST_KEYS, clauses

    rows = [(cid, key, code) for cid, clause in clauses(policy) for key, value in clause.items()
            if key in LIST_KEYS for code in value]
    bind_rows(con, "param_risk_clauses", {"clause_id": "varchar", "clause_key": "varchar", "code": "varchar"}, rows)


@builds("param_requirements")
def requirements(con, policy: Policy, period: Period | None) -> None:
    """(requirement_order, code, label): the 帮扶责任人 requirements in config order."""
    bind_rows(con, "param_requirements", {"requirement_order": "integer", "code": "varchar", "label": "varchar"},
              [(i, r.code, policy.labels.label("requirement", r.code))
               for i, r in enumerate(policy.risk.assistance.requirements, start=1)])


@builds("param_requirement_ranks")
def requirement_ranks(con, policy: Policy, period: Period | None) -> None:
    """(requirement, cadre_rank): the ranks that meet each requirement (none listed = any rank)."""
    bind_rows(con, "param_requirement_ranks", {"requirement": "varchar", "cadre_rank": "varchar"},
              [(r.code, rank) for r in policy.risk.assistance.requirements for rank in r.ranks])


@builds("param_cadre_limits")
def cadre_limits(con, policy: Policy, period: Period | None) -> None:
    """(cadre_rank, max_households): per-rank maxima; other ranks: param_risk.max_households_per_cadre."""
    bind_rows(con, "param_cadre_limits", {"cadre_rank": "varchar", "max_households": "integer"},
              list(policy.risk.assistance.max_households_by_rank.items()))


@builds("param_card_policies")
def card_policies(con, policy: Policy, period: Period | None) -> None:
    """(code, label, sort_order): the policies a 明白卡 lists when received (config/risk.toml)."""
    bind_rows(con, "param_card_policies", {"code": "varchar", "label": "varchar", "sort_order": "integer"},
              [(c.code, c.label, i) for i, c in enumerate(policy.risk.cards.received, start=1)])


@builds("param_card_policy_codes")
def card_policy_codes(con, policy: Policy, period: Period | None) -> None:
    """(policy, code): the household codes that mean a card policy (household_codes entries)."""
    bind_rows(con, "param_card_policy_codes", {"policy": "varchar", "code": "varchar"},
              [(c.code, code) for c in policy.risk.cards.received for code in c.codes])


@builds("param_status_labels")
def status_labels(con, policy: Policy, period: Period | None) -> None:
    """(code, label): 脱贫状态 labels plus the transition matrix's pseudo-statuses not_registered
    (blank status) and absent (not in that snapshot)."""
    tr = policy.risk.transitions
    rows = [*policy.labels.of("poverty_status").items(), ("not_registered", tr.not_registered_label),
            ("absent", tr.absent_label)]
    bind_rows(con, "param_status_labels", {"code": "varchar", "label": "varchar"}, rows)


# ---- ingest -------------------------------------------------------------------------------------------

@builds("param_ingest")
def ingest(con, policy: Policy, period: Period | None) -> None:
    """One row: the income-identity tolerance (yuan) and the most digits a quarantined or finding
    cell may show (config/thresholds.toml [ingest])."""
    t = policy.thresholds.ingest
    bind_params(con, "param_ingest", {"income_identity_tolerance": float(t.income_identity_tolerance),
                                      "quarantine_max_digits": int(t.quarantine.max_digits),
                                      "float_column_share": float(t.float_column_share)})


@builds("param_code_labels")
def code_labels(con, policy: Policy, period: Period | None) -> None:
    """(list_name, label, code): every label of every code list, normalised as cells are (NFKC,
    no white space); cells map to codes by joining on (list_name, label)."""
    from pipelines.ingest.nodes import code_label_rows

    bind_rows(con, "param_code_labels", {"list_name": "varchar", "label": "varchar", "code": "varchar"},
              code_label_rows(policy.code_labels))


@builds("param_label_lists")
def label_lists(con, policy: Policy, period: Period | None) -> None:
    """One row, a list of labels per column: `<list>` every label of a code list that a header
    alias's kind names, and `<list>__<code>` the labels of each code of a multi-valued (codes:)
    list. Membership tests in SQL (list_contains) cross join this row."""
    from pipelines.ingest.nodes import label_list_columns

    columns = label_list_columns(policy)
    bind_rows(con, "param_label_lists", {name: "varchar[]" for name in columns}, [tuple(columns.values())])


@builds("param_place_suffixes")
def place_suffixes(con, policy: Policy, period: Period | None) -> None:
    """(suffix): a quarantined free-text cell ending in one of these (村委会 …) is a place name and kept."""
    bind_rows(con, "param_place_suffixes", {"suffix": "varchar"},
              [(s,) for s in policy.thresholds.ingest.quarantine.place_suffixes])


@builds("param_regions")
def regions(con, policy: Policy, period: Period | None) -> None:
    """(level, code, name, parent_code): the counties and townships of config/regions."""
    bind_rows(con, "param_regions",
              {"level": "varchar", "code": "varchar", "name": "varchar", "parent_code": "varchar"},
              [(r.level, r.code, r.name, r.parent) for r in policy.regions])


@builds("param_villages")
def villages(con, policy: Policy, period: Period | None) -> None:
    """(code, name, township_code, urban_rural_code, synthetic): config/regions/villages.csv."""
    bind_rows(con, "param_villages", {"code": "varchar", "name": "varchar", "township_code": "varchar",
                                      "urban_rural_code": "varchar", "synthetic": "boolean"},
              [(v.code, v.name, v.township_code, v.urban_rural_code, v.synthetic) for v in policy.villages])


@builds("param_name_suffixes")
def name_suffixes(con, policy: Policy, period: Period | None) -> None:
    """(level, suffix): the suffixes dropped before place names are compared (county, township,
    village; config/thresholds.toml [ingest.places])."""
    pl = policy.thresholds.ingest.places
    bind_rows(con, "param_name_suffixes", {"level": "varchar", "suffix": "varchar"},
              [(level, s) for level, suffixes in (("county", pl.county_suffixes), ("township", pl.township_suffixes),
                                                   ("village", pl.village_suffixes)) for s in suffixes])


@builds("param_places")
def places(con, policy: Policy, period: Period | None) -> None:
    """One row: how many closest names an unknown place name is shown with, and how many leading
    digits of a 户编号 are its village's code (0: no 户编号 rule)."""
    pl = policy.thresholds.ingest.places
    bind_params(con, "param_places", {"candidates": pl.candidates,
                                      "household_id_village_digits": pl.household_id_village_digits})


@builds("param_tick_marks")
def tick_marks(con, policy: Policy, period: Period | None) -> None:
    """One row: `marks` ([ingest] tick_marks) and `false_labels` (the 否 labels of code list yes_no,
    normalised as cells are): a file whose yes/no cells use a mark and never a 否 label is a
    tick-box file, where blank means 否."""
    from pipelines.ingest.nodes import code_label_rows

    false_labels = sorted({label for lst, label, code in code_label_rows(policy.code_labels)
                           if lst == "yes_no" and code == "false"})
    bind_rows(con, "param_tick_marks", {"marks": "varchar[]", "false_labels": "varchar[]"},
              [(list(policy.thresholds.ingest.tick_marks), false_labels)])


@builds("param_total_rows")
def total_rows(con, policy: Policy, period: Period | None) -> None:
    """One row: `labels`, the cells that mark a totals row ([ingest] total_row_labels, cleaned as cells are)."""
    from pipelines.ingest.headers import normalise

    bind_rows(con, "param_total_rows", {"labels": "varchar[]"},
              [(sorted({normalise(x) for x in policy.thresholds.ingest.total_row_labels}),)])


@builds("param_fullwidth")
def fullwidth(con, policy: Policy, period: Period | None) -> None:
    """One row: translate() strings mapping full-width ASCII and ideographic / control white space
    to ASCII (the part of NFKC that matters in exports; pipelines/ingest/nodes.py)."""
    from pipelines.ingest.nodes import fullwidth_map, fullwidth_parts

    source, target = fullwidth_map()
    parts = {}
    for i, (part_from, part_to) in enumerate(fullwidth_parts(), start=1):  # what clean() translates
        parts.update({f"from_{i}": part_from, f"to_{i}": part_to})
    bind_params(con, "param_fullwidth", {"from_chars": source, "to_chars": target, **parts})


@builds("param_gb11643")
def gb11643(con, policy: Policy, period: Period | None) -> None:
    """One row: the GB 11643 weights of the first 17 digits (weight_1 … weight_17) and the check
    characters indexed by the weighted sum mod 11 (pipelines/idcard.py, the one definition)."""
    from pipelines import idcard

    bind_params(con, "param_gb11643", {**{f"weight_{i}": w for i, w in enumerate(idcard.WEIGHTS, start=1)},
                                       "check_chars": idcard.CHECK_CHARS})


# ---- report -------------------------------------------------------------------------------------------

@builds("param_report")
def report(con, policy: Policy, period: Period | None) -> None:
    """One row: the label of a table's totals row and the incidence the office calls "below one in
    ten thousand" (the statuses counted as still poor: param_poor_statuses)."""
    bind_params(con, "param_report", {"total_label": policy.report.total_label,
                                      "below_one_in_ten_thousand": policy.measures.incidence.below_one_in_ten_thousand})


@builds("param_poor_statuses")
def poor_statuses(con, policy: Policy, period: Period | None) -> None:
    """(code): the 脱贫状态 codes the report counts as still poor (the status group measures'
    incidence counts: config/measures.toml [incidence] poor_group, defined in config/policy.toml)."""
    bind_rows(con, "param_poor_statuses", {"code": "varchar"},
              [(c,) for c in policy.groups[policy.measures.incidence.poor_group]])


@builds("param_survey_designs")
def survey_designs(con, policy: Policy, period: Period | None) -> None:
    """(design, data_source, label, total_level, total_code): every survey design of
    config/surveys/, as `povmon survey` records its rows in measures (data_source 'survey:<name>')."""
    bind_rows(con, "param_survey_designs", {"design": "varchar", "data_source": "varchar", "label": "varchar",
                                            "total_level": "varchar", "total_code": "varchar"},
              [(name, f"survey:{name}", d.label, d.total.level, d.total.code)
               for name, d in sorted(policy.surveys.items())])


@builds("param_report_codes")
def report_codes(con, policy: Policy, period: Period | None) -> None:
    """(list_name, code): the report's code lists (safety_net: 贫困户属性 counted as 兜底)."""
    bind_rows(con, "param_report_codes", {"list_name": "varchar", "code": "varchar"},
              [("safety_net", c) for c in policy.report.page_one.safety_net])


@builds("param_report_lines")
def report_lines(con, policy: Policy, period: Period | None) -> None:
    """(line_name, sort_order): the lines the report shows survey incidence at (config/report.toml)."""
    bind_rows(con, "param_report_lines", {"line_name": "varchar", "sort_order": "integer"},
              [(n, i) for i, n in enumerate(policy.report.incidence.lines)])


# ---- rectification tracker (config/tasks.toml; issue 16 part 2) ------------------------------------------

@builds("param_task_categories")
def task_categories(con, policy: Policy, period: Period | None) -> None:
    """(label, code, category_order, category_label): every 问题类别 label, normalised as cells are."""
    from pipelines.ingest.headers import normalise

    cats = policy.tasks.categories
    rows = {(normalise(lab), code, i, labels[0]) for i, (code, labels) in enumerate(cats.items(), start=1)
            for lab in labels}
    bind_rows(con, "param_task_categories", {"label": "varchar", "code": "varchar", "category_order": "integer",
                                             "category_label": "varchar"}, sorted(rows))


@builds("param_task_completion")
def task_completion(con, policy: Policy, period: Period | None) -> None:
    """(label, state): 完成情况 / 办结情况 labels, normalised, -> done | open | rebound."""
    from pipelines.ingest.headers import normalise

    rows = {(normalise(lab), state) for state, labels in policy.tasks.completion.model_dump().items() for lab in labels}
    bind_rows(con, "param_task_completion", {"label": "varchar", "state": "varchar"}, sorted(rows))


@builds("param_task_deadlines")
def task_deadlines(con, policy: Policy, period: Period | None) -> None:
    """(deadline_code, deadline_order, label, year, due_on, category): the city's deadlines, one row
    per category each applies to (a deadline listing none applies to every category)."""
    import datetime as dt

    cats = list(policy.tasks.categories)
    rows = [(d.code, i, d.label, d.year, dt.date(d.year, d.month, d.day), c)
            for i, d in enumerate(policy.tasks.deadlines, start=1) for c in (d.categories or cats)]
    bind_rows(con, "param_task_deadlines", {"deadline_code": "varchar", "deadline_order": "integer", "label": "varchar",
                                            "year": "integer", "due_on": "date", "category": "varchar"}, rows)


@builds("param_task_statuses")
def task_statuses(con, policy: Policy, period: Period | None) -> None:
    """(status, status_order, label, is_done, is_overdue): the tracker's statuses in config order."""
    from pipelines.policy.schema import TASK_STATUSES

    labels = policy.tasks.status_labels
    bind_rows(con, "param_task_statuses", {"status": "varchar", "status_order": "integer", "label": "varchar",
                                           "is_done": "boolean", "is_overdue": "boolean"},
              [(s, i, labels[s], s in ("done", "done_late"), s in ("overdue", "done_late", "reopened"))
               for i, s in enumerate(TASK_STATUSES, start=1)])


def task_mask_pattern(min_digits: int, group_min_digits: int, pair_long_digits: int) -> str:
    """The RE2 pattern of what config/tasks.toml [masking] masks in free text (leftmost-first, the
    longest form first): three or more groups of at least `group_min_digits` digits joined by one
    hyphen, space or dot (187-2742-8023, 0356 123 4567, 140102 19800101 123X); two such groups of
    which one has at least `pair_long_digits` digits (0356-1234567); a run of `min_digits` digits / X.
    Not masked: groups of fewer digits (dates 2020-04-30, 12.5万元) and two short groups (ranges such
    as 2019-2020 or 500-1000元, which cannot be told from a local number written 1234-5678)."""
    g = f"[0-9]{{{group_min_digits},}}"
    long = f"[0-9]{{{pair_long_digits},}}"
    sep = "[-. ]"
    return "|".join([
        f"{g}(?:{sep}{g}){{2,}}[Xx]?",
        f"{g}{sep}{long}[Xx]?",
        f"{long}{sep}{g}[Xx]?",
        f"[0-9Xx]{{{min_digits},}}",
    ])


@builds("param_task_masking")
def task_masking(con, policy: Policy, period: Period | None) -> None:
    """One row: `pattern` (task_mask_pattern of config/tasks.toml [masking]) and `mask_text`."""
    m = policy.tasks.masking
    pattern = task_mask_pattern(m.min_digits, m.group_min_digits, m.pair_long_digits)
    bind_params(con, "param_task_masking", {"pattern": pattern, "mask_text": m.mask_text})

# ---- crosscheck: department lists against the registry (config/departments.toml) -----------------

@builds("param_crosscheck")
def crosscheck(con, policy: Policy, period: Period | None) -> None:
    """One row: the out-of-pocket warning line and the compulsory-school age band (thresholds.toml)."""
    t, e = policy.departments.thresholds, policy.thresholds.education
    bind_params(con, "param_crosscheck", {"out_of_pocket_warning_yuan": float(t.out_of_pocket_warning_yuan),
                                          "compulsory_age_min": e.compulsory_age_min,
                                          "compulsory_age_max": e.compulsory_age_max})


@builds("param_crosscheck_codes")
def crosscheck_codes(con, policy: Policy, period: Period | None) -> None:
    """(list_name, code): enrolled, assistance, death codes of the department lists, and the unsafe
    housing grades (thresholds.toml [housing])."""
    t = policy.departments.thresholds
    rows = ([("enrolled", c) for c in t.enrolled_codes] + [("assistance", c) for c in t.assistance_codes]
            + [("death", c) for c in t.death_codes]
            + [("unsafe_housing", g) for g in policy.thresholds.housing.unsafe_grades])
    bind_rows(con, "param_crosscheck_codes", {"list_name": "varchar", "code": "varchar"}, rows)


@builds("param_crosscheck_rules")
def crosscheck_rules(con, policy: Policy, period: Period | None) -> None:
    """(rule, department, rule_label, department_label, rule_order) of config/departments.toml."""
    deps = policy.departments.departments
    bind_rows(con, "param_crosscheck_rules", {"rule": "varchar", "department": "varchar", "rule_label": "varchar",
                                              "department_label": "varchar", "rule_order": "integer"},
              [(r.code, r.department, r.label, deps[r.department].label, i)
               for i, r in enumerate(policy.departments.rule)])


@builds("param_sources")
def sources(con, policy: Policy, period: Period | None) -> None:
    """(source, label): where a problem of the 问题清单 comes from (来源): the registry, or a department."""
    d = policy.departments
    bind_rows(con, "param_sources", {"source": "varchar", "label": "varchar"},
              [("registry", d.registry_label)] + [(k, v.label) for k, v in d.departments.items()])
