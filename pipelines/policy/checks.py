"""Cross-file checks of a loaded Policy: everything named anywhere must exist somewhere.

Each check raises PolicyError with one line: file, key, what was named, what exists.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from pipelines.policy import PolicyError


def _missing(named: Iterable[str], known: Iterable[str], where: str, what: str) -> None:
    known = list(known)
    unknown = [n for n in named if n not in known]
    if unknown:
        raise PolicyError(f"{where}: unknown {what} {', '.join(map(repr, unknown))}; expected one of "
                          f"{', '.join(known)}")


def _unique(codes: list[str], where: str) -> None:
    dup = sorted({c for c in codes if codes.count(c) > 1})
    if dup:
        raise PolicyError(f"{where}: code(s) {', '.join(dup)} defined more than once")


def normalise_header(text: object) -> str:
    """NFKC, all white space removed: how headers and labels are compared (ingest does the same)."""
    return "".join(unicodedata.normalize("NFKC", str(text)).split())


def check(policy) -> None:
    for fn in (check_shared, check_lines, check_villages, check_ingest, check_aliases, check_code_labels,
               check_measures, check_risk, check_cards, check_validate, check_report, check_notebooks,
               check_surveys, check_tasks, check_departments):
        fn(policy)


def check_shared(p) -> None:
    statuses = p.codes("poverty_status")
    for group, codes in p.groups.items():
        _missing(codes, statuses, f"config/policy.toml [status_groups].{group}", "脱贫状态 code")
    _missing(p.shared.lines.model_dump().values(), p.line_specs, "config/policy.toml [lines]", "line")
    if not {"poor", "exited"} <= set(p.groups):
        raise PolicyError("config/policy.toml [status_groups]: expected groups 'poor' and 'exited'")


def check_lines(p) -> None:
    for name, spec in p.line_specs.items():
        where = f"config/lines.toml [{name}]"
        if spec.factor_of is None and spec.factor is None:
            if not spec.values:
                raise PolicyError(f"{where}: expected `values` (year, value, status) or `factor_of` and `factor`")
            continue
        if spec.factor_of is None or spec.factor is None:
            raise PolicyError(f"{where}: expected both `factor_of` and `factor`")
        if spec.values:
            raise PolicyError(f"{where}: a line defined as a factor of another has no `values` of its own")
        seen, base = {name}, spec.factor_of
        while base is not None:
            if base not in p.line_specs:
                raise PolicyError(f"{where}.factor_of: unknown line {base!r}; expected one of {', '.join(p.line_specs)}")
            if base in seen:
                raise PolicyError(f"{where}.factor_of: lines defined as factors of each other ({' -> '.join(seen)})")
            seen.add(base)
            base = p.line_specs[base].factor_of


def check_villages(p) -> None:
    """config/regions/villages.csv: unique 12-digit codes under a township of townships.csv."""
    townships = {r.code for r in p.regions if r.level == "township"}
    seen: set[str] = set()
    for i, v in enumerate(p.villages, start=2):
        where = f"config/regions/villages.csv row {i}"
        if not re.fullmatch(r"[0-9]{12}", v.code) or not v.code.startswith(v.township_code):
            raise PolicyError(f"{where}, column code: found {v.code!r}; expected 12 digits starting with its "
                              f"township_code {v.township_code!r}")
        if v.township_code not in townships:
            raise PolicyError(f"{where}, column township_code: found {v.township_code!r}; expected a code of "
                              "config/regions/townships.csv")
        if v.code in seen:
            raise PolicyError(f"{where}, column code: {v.code} listed twice; expected one row per village")
        if not v.name:
            raise PolicyError(f"{where}, column name: empty; expected the village's name")
        seen.add(v.code)


def check_ingest(p) -> None:
    """[ingest] tick_marks are 是 labels of code list yes_no (a tick means yes)."""
    yes = {normalise_header(label) for label in p.code_labels.get("yes_no", {}).get("true", ())}
    for mark in p.thresholds.ingest.tick_marks:
        if normalise_header(mark) not in yes:
            raise PolicyError(f"config/thresholds.toml [ingest] tick_marks: {mark!r} is not a label of "
                              f"config/code_labels.toml [yes_no].true; expected one of {', '.join(sorted(yes))}")


def check_aliases(p) -> None:
    for source, columns in p.aliases.items():
        owner: dict[str, str] = {}
        for col, spec in columns.items():
            kind = spec.kind
            if kind.startswith(("code:", "codes:")):
                _missing([kind.split(":", 1)[1]], p.code_labels, f"config/header_aliases.toml [{source}].{col}.kind",
                         "code list")
            if kind.startswith("codes:"):  # each code names a column <col>_<code> (ingest stg_*.sql)
                lst = kind.split(":", 1)[1]
                odd = [c for c in p.code_labels[lst] if not re.fullmatch(r"[a-z0-9_]+", c)]
                if odd:
                    raise PolicyError(f"config/code_labels.toml [{lst}]: code(s) {', '.join(map(repr, odd))} of a "
                                      f"multi-valued list (used by [{source}].{col}) must be plain lower-case codes "
                                      "(letters, digits, _): each names a column")
            for alias in spec.aliases:
                key = normalise_header(alias)
                if key in owner and owner[key] != col:
                    raise PolicyError(f"config/header_aliases.toml [{source}]: header spelling {alias!r} is listed "
                                      f"for both {owner[key]} and {col}; a header must map to one column")
                owner[key] = col


def check_code_labels(p) -> None:
    for lst, codes in p.code_labels.items():
        owner: dict[str, str] = {}
        for code, labels in codes.items():
            for label in labels:
                key = normalise_header(label)
                if key in owner and owner[key] != code:
                    raise PolicyError(f"config/code_labels.toml [{lst}]: label {label!r} is listed for both "
                                      f"{owner[key]} and {code}")
                owner[key] = code
    if "yes_no" not in p.code_labels or set(p.code_labels["yes_no"]) != {"true", "false"}:
        raise PolicyError("config/code_labels.toml [yes_no]: expected exactly the codes true and false")


def check_measures(p) -> None:
    m = p.measures
    _missing(m.lines.named, p.line_specs, "config/measures.toml [lines].named", "line")
    _missing([m.sensitivity.base_line], m.lines.named, "config/measures.toml [sensitivity].base_line",
             "line (one of [lines].named)")
    _missing([m.incidence.poor_group], p.groups, "config/measures.toml [incidence].poor_group", "status group")
    md = m.multidimensional
    _missing(md.indicators, p.validate.criteria, "config/measures.toml [multidimensional].indicators", "criterion")
    if set(md.weights) != set(md.indicators):
        raise PolicyError("config/measures.toml [multidimensional.weights]: expected one weight per indicator "
                          f"({', '.join(md.indicators)}), got {', '.join(md.weights)}")
    if m.survey.design is not None:
        _missing([m.survey.design], p.surveys, "config/measures.toml [survey].design", "survey design (config/surveys/)")
        _same_survey_columns(p, m.survey.design)
        rule = p.surveys[m.survey.design].design.lonely_psu
        if rule != m.survey.lonely_psu:
            raise PolicyError(f"config/measures.toml [survey].lonely_psu: {m.survey.lonely_psu!r} differs from "
                              f"config/surveys/{m.survey.design}.toml [design].lonely_psu ({rule!r}), the design "
                              "the stage estimates; set the same rule in both")
    _distinct_cutoffs(md.cutoffs, md.weights, "config/measures.toml [multidimensional].cutoffs")
    if m.sensitivity.start_pct > m.sensitivity.stop_pct:
        raise PolicyError("config/measures.toml [sensitivity]: start_pct is above stop_pct")
    covered: set[int] = set()
    for i, (lo, hi) in enumerate(m.profile.size_bands):
        if lo > hi or lo < 1:
            raise PolicyError(f"config/measures.toml [profile].size_bands[{i}]: expected 1 <= min <= max, got [{lo}, {hi}]")
        if covered & set(range(lo, min(hi, 200) + 1)):
            raise PolicyError(f"config/measures.toml [profile].size_bands[{i}]: [{lo}, {hi}] overlaps an earlier band")
        covered |= set(range(lo, min(hi, 200) + 1))


def check_risk(p) -> None:
    r = p.risk
    signals = [s.code for s in r.signal]
    _unique(signals, "config/risk.toml [[signal]]")

    def sig(named, where):
        _missing(named, signals, f"config/risk.toml {where}", "signal")

    bands = [b.code for b in r.bands]
    _unique(bands, "config/risk.toml [[bands]]")
    catch_all = [i for i, b in enumerate(r.bands) if b.line == ""]
    if catch_all != [len(r.bands) - 1]:
        raise PolicyError("config/risk.toml [[bands]]: expected exactly one catch-all band (line = \"\"), listed last")
    sig([b.signal for b in r.bands if b.signal], "[[bands]].signal")
    levels = [lv.code for lv in r.levels]
    _unique(levels + ["none"], "config/risk.toml [[levels]] (none is the level of no rule)")
    for lv in r.levels:
        sig(lv.any_of, f"[[levels]] {lv.code}.any_of")
        if not lv.any_of and lv.min_signals == 0:
            raise PolicyError(f"config/risk.toml [[levels]] {lv.code}: matches nothing (no any_of, min_signals = 0)")
    c = r.categories
    _missing([c.not_proposed_group, c.exited_group], p.groups, "config/risk.toml [categories]", "status group")
    sig(c.unstable_signals, "[categories].unstable_signals")
    sig(c.sudden_signals, "[categories].sudden_signals")
    categories = p.codes("monitoring_category")
    _missing(r.category_labels, categories, "config/risk.toml [category_labels]", "监测对象类别 code")
    s = r.signals
    _missing(s.labour_capable, p.codes("labour_skill"), "config/risk.toml [signals].labour_capable", "劳动技能 code")
    _missing(s.migrant_statuses, p.codes("migrant_status"), "config/risk.toml [signals].migrant_statuses",
             "务工状况 code")
    _missing(s.shock_causes, p.codes("cause"), "config/risk.toml [signals].shock_causes", "致贫原因 code")
    for g in r.watch_groups:
        for clause in g.when:
            _check_clause(p, clause, f"[[watch_groups]] {g.code}", signals, levels)
    _unique([g.code for g in r.watch_groups], "config/risk.toml [[watch_groups]]")
    sig(r.elimination.blocking_signals, "[elimination].blocking_signals")
    sig(r.elimination.keep_tracking_signals, "[elimination].keep_tracking_signals")
    expected = {"eliminate", "keep_tracking", "stay_monitored"}
    if set(r.elimination_labels) != expected:
        raise PolicyError(f"config/risk.toml [elimination_labels]: expected labels for {', '.join(sorted(expected))}")
    ranks = p.codes("cadre_rank")
    for req in r.assistance.requirements:
        _missing(req.ranks, ranks, f"config/risk.toml [[assistance.requirements]] {req.code}.ranks", "cadre rank")
        _check_clause(p, req.applies_to, f"[[assistance.requirements]] {req.code}.applies_to", signals, levels)
    _missing(r.assistance.max_households_by_rank, ranks, "config/risk.toml [assistance.max_households_by_rank]",
             "cadre rank")
    expected = {"no_pairing", "wrong_level", "cadre_overloaded", "pairing_lapsed"}
    if set(r.gap_labels) != expected:
        raise PolicyError(f"config/risk.toml [gap_labels]: expected labels for {', '.join(sorted(expected))}")
    sig(r.measures, "[measures]")


def _check_clause(p, clause, where: str, signals: list[str], levels: list[str]) -> None:
    where = f"config/risk.toml {where}"
    if not clause.items():
        raise PolicyError(f"{where}: empty condition {{}} (it would match every household)")
    if clause.status_group_in:
        _missing(clause.status_group_in, p.groups, f"{where}.status_group_in", "status group")
    if clause.poverty_status_in:
        _missing(clause.poverty_status_in, p.codes("poverty_status"), f"{where}.poverty_status_in", "脱贫状态 code")
    if clause.household_type_in:
        _missing(clause.household_type_in, p.codes("household_type"), f"{where}.household_type_in", "户类型 code")
    if clause.category_in:
        _missing(clause.category_in, p.codes("monitoring_category"), f"{where}.category_in", "监测对象类别 code")
    if clause.signals_any:
        _missing(clause.signals_any, signals, f"{where}.signals_any", "signal")
    if clause.level_in:
        _missing(clause.level_in, [*levels, "none"], f"{where}.level_in", "risk level")


def check_cards(p) -> None:
    """Each [[cards.received]] policy reads registry columns that exist, of the right kind."""
    received = p.risk.cards.received
    _unique([c.code for c in received], "config/risk.toml [[cards.received]]")
    registry = p.aliases.get("registry", {})
    for i, c in enumerate(received):
        where = f"config/risk.toml [[cards.received]][{i}] ({c.code})"
        sources = {"amount": (c.amount, "decimal"), "members": (c.members, "yes_no"),
                   "household_flag": (c.household_flag, "yes_no"), "household_codes": (c.household_codes, "code:")}
        if not any(col for col, _kind in sources.values()):
            raise PolicyError(f"{where}: expected one of amount, members, household_flag, household_codes")
        for key, (col, kind) in sources.items():
            if col is None:
                continue
            spec = registry.get(col)
            if spec is None or not spec.kind.startswith(kind):
                raise PolicyError(f"{where}.{key}: {col!r} is not a {kind.rstrip(':')} column of "
                                  "config/header_aliases.toml [registry]")
        if c.household_codes:
            _missing(c.codes, p.codes(registry[c.household_codes].kind.split(":", 1)[1]), f"{where}.codes", "code")
            if not c.codes:
                raise PolicyError(f"{where}.codes: expected the codes of {c.household_codes} that mean the policy")


def check_validate(p) -> None:
    v = p.validate
    expected = ["food", "clothing", "education", "medical", "housing", "water"]
    if sorted(v.criteria) != sorted(expected):
        raise PolicyError(f"config/validate.toml [criteria]: expected labels for exactly {', '.join(expected)}")
    t = p.thresholds.education
    if t.compulsory_age_min > t.compulsory_age_max:
        raise PolicyError("config/thresholds.toml [education]: compulsory_age_min is above compulsory_age_max")
    _missing(t.not_in_school_statuses, p.codes("school_status"),
             "config/thresholds.toml [education].not_in_school_statuses", "在校生状况 code")
    check_ledger_sheet(p)
    h = p.thresholds.housing
    _missing([*h.safe_grades, *h.unsafe_grades], p.codes("housing_grade"), "config/thresholds.toml [housing]",
             "住房安全等级 code")
    if set(h.safe_grades) & set(h.unsafe_grades):
        raise PolicyError("config/thresholds.toml [housing]: a grade is listed as both safe and unsafe")


def check_ledger_sheet(p) -> None:
    """[ledger.sheet] names every sheet column once, in the sheet's order; statuses differ; the
    headers read back from a returned sheet are spellings of header_aliases.toml [rectification]."""
    from pipelines.policy.schema import LEDGER_READ_BACK, LEDGER_SHEET_COLUMNS, LEDGER_SUMMARY_COLUMNS

    led, where = p.validate.ledger, "config/validate.toml [ledger.sheet]"
    if list(led.summary) != list(LEDGER_SUMMARY_COLUMNS):
        raise PolicyError("config/validate.toml [ledger.summary]: expected the columns "
                          f"{', '.join(LEDGER_SUMMARY_COLUMNS)} in this order")
    if list(led.sheet) != list(LEDGER_SHEET_COLUMNS):
        raise PolicyError(f"{where}: expected the columns {', '.join(LEDGER_SHEET_COLUMNS)} in this order")
    statuses = [led.status_new, led.status_open, led.status_disputed, led.status_cleared]
    if len(set(statuses)) != len(statuses):
        raise PolicyError("config/validate.toml [ledger]: the four status labels must differ")
    returned = p.aliases.get("rectification", {})
    for col in LEDGER_READ_BACK:
        spec = returned.get(col)
        if spec is None:
            raise PolicyError(f"config/header_aliases.toml [rectification]: column {col!r} missing "
                              f"(the 问题清单 sheet writes it as {led.sheet[col]!r})")
        if normalise_header(led.sheet[col]) not in {normalise_header(a) for a in spec.aliases}:
            raise PolicyError(f"{where}.{col}: header {led.sheet[col]!r} is not a spelling of "
                              f"config/header_aliases.toml [rectification].{col} ({', '.join(spec.aliases)}): "
                              "a returned sheet could not be read back")


def check_notebooks(p) -> None:
    nb = p.notebooks
    _missing(["city", "county", "township", "village"], nb.levels, "config/notebooks.toml [levels]", "level")
    _missing(["path", "region", "child"], nb.roles, "config/notebooks.toml [roles]", "role")


def check_report(p) -> None:
    rep = p.report
    _missing(rep.incidence.lines, p.line_specs, "config/report.toml [incidence].lines", "line")
    if "dimension" in rep.labels:
        _missing(rep.labels["dimension"], p.validate.criteria, "config/report.toml [labels.dimension]", "criterion")
    for section in rep.sections:
        where = f"config/report.toml [[sections]] {section.key}"
        _missing(section.tables, rep.tables, f"{where}.tables", "table")
        _missing(section.definitions, rep.definitions, f"{where}.definitions", "definition")
        _missing([c.table for c in section.cards], rep.tables, f"{where}.cards", "table")
        _missing([f.table for f in section.figures], rep.tables, f"{where}.figures", "table")
    for name, spec in rep.tables.items():
        for column, source in spec.same_as.items():
            table, _, source_column = source.partition(".")
            where = f"config/report.toml [tables.{name}].same_as.{column}"
            _missing([table], rep.tables, where, "table")
            _missing([source_column], rep.tables[table].counts, where, f"count column of {table}")
            if not spec.same_key:
                raise PolicyError(f"{where}: expected same_key, the column matching its rows with {table}'s")
    roles = list(p.lines.roles)
    for name, spec in rep.tables.items():
        _missing(spec.lines, roles, f"config/report.toml [tables.{name}].lines", "line role")
    for section in rep.sections:
        for item in [*section.cards, *section.figures]:
            _missing(item.lines, roles, f"config/report.toml [[sections]] {section.key}: lines", "line role")
    _missing(rep.page_one.safety_net, p.codes("household_attribute"), "config/report.toml [page_one].safety_net",
             "贫困户属性 code")
    if not {"internal", "public"} <= set(rep.audiences):
        raise PolicyError("config/report.toml [audiences]: expected audiences 'internal' and 'public'")
    for domain in ("headline", "headline_yes", "headline_no"):
        items = rep.labels.get(domain, {})
        gaps = [f"gap_{d}" for d in rep.labels.get("dimension", {})]
        _missing(gaps, items, f"config/report.toml [labels.{domain}]", "item (one gap_<dimension> per dimension)")
    _missing(rep.inputs.nonempty, rep.inputs.required, "config/report.toml [inputs].nonempty", "required table")
    _missing(rep.inputs.needs_previous, rep.inputs.required, "config/report.toml [inputs].needs_previous",
             "required table")
    keys = [s.key for s in rep.sections]
    _unique(keys, "config/report.toml [[sections]].key")
    _unique([f.key for s in rep.sections for f in s.figures], "config/report.toml [[sections.figures]].key")
    from pipelines.report.spec import render_definitions  # every rule a definition names must exist

    render_definitions(p)
    for name, spec in rep.tables.items():
        where = f"config/report.toml [tables.{name}]"
        for key in ("counts", "shares", "money", "months"):
            _missing(getattr(spec, key), spec.columns, f"{where}.{key}", "published column")
        _missing(spec.wan, spec.columns, f"{where}.wan", "published column")
        _missing(spec.audiences, rep.audiences, f"{where}.audiences", "audience of [audiences]")
        if spec.within is not None and len(spec.within.total) != 1:
            raise PolicyError(f"{where}.within.total: expected one column = the value of the row the others add up "
                              f"to (e.g. {{ project_type = \"all\" }}), got {len(spec.within.total)}")
    # 政策账 by policy: a policy's project type is a code of code_labels.toml [project_type]; units per policy
    _missing(rep.labels.get("policy_project_type", {}).values(), p.code_labels.get("project_type", {}),
             "config/report.toml [labels.policy_project_type]", "project type code")
    _missing(rep.labels.get("policy_project_type", {}), rep.labels.get("policy", {}),
             "config/report.toml [labels.policy_project_type]", "policy of [labels.policy]")
    _missing(rep.labels.get("policy", {}), rep.labels.get("policy_unit", {}),
             "config/report.toml [labels.policy]", "policy with a unit in [labels.policy_unit]")
    for name, book in rep.workbooks.items():  # one-workbook outputs (交总账): published tables only
        _missing(book.tables, rep.tables, f"config/report.toml [workbooks.{name}].tables", "table of [tables]")
        _unique([rep.tables[t].sheet[:31] for t in book.tables], f"config/report.toml [workbooks.{name}] sheet names")


def _distinct_cutoffs(cutoffs, weights, where: str) -> None:
    """Two cutoffs that are the same k ("1" and "4/4") would be one group counted twice."""
    from pipelines.measures.nodes import cutoff, integer_weights

    try:
        ints, total = integer_weights(weights)
        seen: dict[str, object] = {}
        for k in cutoffs:
            name = cutoff(k, ints, total)[0]
            if name in seen:
                raise PolicyError(f"{where}: cutoffs {seen[name]!r} and {k!r} are the same ({name}); list each k once")
            seen[name] = k
    except ValueError as exc:
        raise PolicyError(f"{where}: {exc}") from None


def _same_survey_columns(p, name: str) -> None:
    """The design the measures stage uses reads survey_households, which ingest fills through
    config/header_aliases.toml [survey]: the design's columns must be those columns, spelt alike."""
    where = f"config/surveys/{name}.toml [columns]"
    ingest = p.aliases.get("survey", {})
    for col, spec in p.surveys[name].columns.items():
        if col not in ingest:
            raise PolicyError(f"{where}.{col}: not a column of config/header_aliases.toml [survey] "
                              f"({', '.join(ingest)}), which ingest loads into survey_households")
        ours = sorted(normalise_header(a) for a in spec.aliases)
        theirs = sorted(normalise_header(a) for a in ingest[col].aliases)
        if ours != theirs:
            raise PolicyError(f"{where}.{col}.aliases: {spec.aliases} differ from config/header_aliases.toml "
                              f"[survey].{col} ({ingest[col].aliases}); keep the two spellings lists the same")


def check_surveys(p) -> None:
    """Every role, domain and household-size column of a survey design is one of its columns."""
    for name, s in p.surveys.items():
        where = f"config/surveys/{name}.toml"
        d = s.design
        roles = {"weight": d.weight, "income": d.income, "household_size": d.household_size, "stratum": d.stratum,
                 "psu": d.psu, "psu2": d.psu2, "fpc": d.fpc, "fpc2": d.fpc2, "household_id": d.household_id}
        for role, column in roles.items():
            if column is not None:
                _missing([column], s.columns, f"{where} [design].{role}", "column (a key of [columns])")
        for key, dom in s.domains.items():
            _missing([dom.column], s.columns, f"{where} [domains.{key}].column", "column (a key of [columns])")
            if dom.column == d.household_id:
                raise PolicyError(f"{where} [domains.{key}].column: {dom.column!r} is the household id; household ids "
                                  "stay in data/raw (a domain's codes are written to the measures table)")
            if key == s.total.level:
                raise PolicyError(f"{where} [domains.{key}]: the domain has the name of the total's level "
                                  f"({s.total.level!r}); name it differently")
        md = s.multidimensional
        if md is not None:
            for ind, column in md.indicators.items():
                _missing([column], s.columns, f"{where} [multidimensional.indicators].{ind}", "column (a key of [columns])")
                if s.columns[column].kind != "yes_no":
                    raise PolicyError(f"{where} [columns].{column}.kind: an Alkire–Foster indicator is a yes_no column, "
                                      f"got {s.columns[column].kind}")
            if set(md.weights) != set(md.indicators):
                raise PolicyError(f"{where} [multidimensional.weights]: expected one weight per indicator "
                                  f"({', '.join(md.indicators)}), got {', '.join(md.weights)}")
            _distinct_cutoffs(md.cutoffs, md.weights, f"{where} [multidimensional].cutoffs")
        if d.income_concept == "household_total" and d.household_size is None:
            raise PolicyError(f"{where} [design].household_size: a household_total income is divided by the "
                              "household size (lines are per person)")
        if s.unit == "household" and d.household_size is None:
            raise PolicyError(f"{where} [design].household_size: household rows need the household size "
                              "(person weight = weight x household size)")
        if d.fpc2 is not None and d.psu2 is None:
            raise PolicyError(f"{where} [design].fpc2: a second-stage fpc needs the second-stage unit psu2")
        numeric = [c for c in (d.weight, d.income, d.household_size, d.fpc, d.fpc2) if c is not None]
        text_cols = [c for c in numeric if s.columns[c].kind == "text"]
        if text_cols:
            raise PolicyError(f"{where} [columns].{text_cols[0]}.kind: a weight, income, size or fpc column must be "
                              "decimal or int, got text")
        owner: dict[str, str] = {}
        for col, spec in s.columns.items():
            for alias in spec.aliases:
                key = normalise_header(alias)
                if key in owner and owner[key] != col:
                    raise PolicyError(f"{where} [columns]: header spelling {alias!r} is listed for both {owner[key]} "
                                      f"and {col}; give one column and let several roles name it")
                owner[key] = col


def check_tasks(p) -> None:
    """config/tasks.toml: every status and kind labelled, deadlines name known categories (and are
    real dates), no 问题类别 or 完成情况 label claimed twice, the tracker's alias sections present."""
    from pipelines.policy.schema import TASK_KINDS, TASK_STATUSES

    t = p.tasks
    for section, codes, expected in (("status_labels", t.status_labels, TASK_STATUSES),
                                     ("kind_labels", t.kind_labels, TASK_KINDS)):
        if sorted(codes) != sorted(expected):
            raise PolicyError(f"config/tasks.toml [{section}]: found {', '.join(sorted(codes))}; expected exactly "
                              f"{', '.join(expected)}")
    for i, d in enumerate(t.deadlines):
        _missing(d.categories, t.categories, f"config/tasks.toml [[deadlines]][{i}].categories", "category")
        try:
            __import__("datetime").date(d.year, d.month, d.day)
        except ValueError:
            raise PolicyError(f"config/tasks.toml [[deadlines]][{i}]: {d.year}-{d.month}-{d.day} is not a date") from None
    _unique([d.code for d in t.deadlines], "config/tasks.toml [[deadlines]]")
    for what, lists in (("categories", t.categories), ("completion", t.completion.model_dump())):
        owner: dict[str, str] = {}
        for code, labels in lists.items():
            for label in labels:
                key = normalise_header(label)
                if key in owner and owner[key] != code:
                    raise PolicyError(f"config/tasks.toml [{what}]: label {label!r} is listed for both "
                                      f"{owner[key]} and {code}")
                owner[key] = code
    for section in ("tasks", "instructions"):
        if section not in p.aliases:
            raise PolicyError(f"config/header_aliases.toml: section [{section}] missing (the rectification tracker's "
                              "columns, config/tasks.toml)")

def check_departments(p) -> None:
    """config/departments.toml: each department's alias section exists, rules name a department
    and are unique, the code lists the thresholds name are codes of their lists."""
    d = p.departments
    for folder, spec in d.departments.items():
        _missing([spec.aliases], p.aliases, f"config/departments.toml [departments].{folder}.aliases",
                 "config/header_aliases.toml section")
        if "record_date" not in p.aliases[spec.aliases]:
            raise PolicyError(f"config/header_aliases.toml [{spec.aliases}]: expected a record_date column "
                              f"(the date findings of {folder} carry)")
    _unique([r.code for r in d.rule], "config/departments.toml [[rule]].code")
    _missing(list(d.synth.plants), [r.code for r in d.rule], "config/departments.toml [synth].plants", "rule")
    for r in d.rule:
        _missing([r.department], d.departments, f"config/departments.toml [[rule]] {r.code}.department", "department")
    t = d.thresholds
    for name, lst in (("enrolled_codes", "dept_enrolment"), ("assistance_codes", "dept_assistance"),
                      ("death_codes", "dept_change_type")):
        _missing(getattr(t, name), p.code_labels.get(lst, {}), f"config/departments.toml [thresholds].{name}",
                 f"code of config/code_labels.toml [{lst}]")
