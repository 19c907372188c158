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
    """One row: the period, its end, its 清零 deadline and the ledger's status labels."""
    p = _need_period(period, "param_ledger")
    led = policy.validate.ledger
    bind_rows(con, "param_ledger", {"period": "varchar", "period_end": "date", "deadline": "date",
                                    "status_new": "varchar", "status_open": "varchar", "status_cleared": "varchar"},
              [(str(p), p.end_date, policy.calendar.next_deadline(p.end_date), led.status_new, led.status_open,
                led.status_cleared)])


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
