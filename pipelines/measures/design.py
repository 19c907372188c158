"""Design-based survey estimators callable on any DuckDB relation, the design given by name
(config/surveys/<name>.toml) or by columns.

    from pipelines.measures import design as svy
    d = svy.Design(stratum="stype", psu=None, weight="pw", fpc="fpc", income="api00")
    svy.survey_fgt(con, "apistrat", {"line": 600}, d, by="awards")     # FGT + mean, SE, df
    svy.survey_gini(con, rel, "sample_city", by="county_code")          # design by name
    svy.survey_arpr(con, df, d, share=0.6)                              # relative line
    svy.survey_alkire_foster(con, df, d, weights, ["1/3"], indicators=...)
    svy.survey_difference(con, df, d, lines, group="period", a="2020Q2", b="2020Q1")
    svy.survey_ratio(con, df, d, numerator="api00", denominator="enroll")

Every function returns a relation with domain_level, domain_code, measure, line_name, line_value,
estimate, std_error, design_df, n_unweighted, n_weighted. The arithmetic is SQL (sql/svy_*.sql):
each estimator writes its linearised values, sql/svy_variance.sql turns them into a variance
(strata, PSUs, fpc, lonely-PSU rule) and the design's degrees of freedom.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from typing import Any, Iterable, Mapping

import duckdb

from pipelines.graph import bind_params, bind_rows
from pipelines.measures import nodes

LONELY_PSU_RULES = nodes.LONELY_PSU_RULES
_counter = itertools.count()


@dataclass(frozen=True)
class Design:
    """SQL expressions over the data's columns. stratum None: one stratum; psu None: each row is
    its own PSU; fpc None: with replacement (then a second stage adds nothing, as in R).
    `weight` is the PERSON weight expression."""

    weight: str
    income: str = "income"
    stratum: str | None = None
    psu: str | None = None
    fpc: str | None = None
    psu2: str | None = None  # second-stage unit; counts only with fpc and fpc2 (as R)
    fpc2: str | None = None  # SSUs of the PSU in the population, or the second stage's sampling fraction
    lonely_psu: str = "adjust"
    total: tuple[str, str] | None = ("all", "all")
    domains: Mapping[str, str] | None = None  # domain level -> column (used by the survey verb)

    def __post_init__(self) -> None:
        if self.lonely_psu not in LONELY_PSU_RULES:
            raise ValueError(f"lonely_psu must be one of {LONELY_PSU_RULES}, got {self.lonely_psu!r}")


def from_policy(name: str, policy=None) -> Design:
    """The design of config/surveys/<name>.toml over its canonical column names."""
    from pipelines.policy import load_policy

    policy = policy or load_policy()
    if name not in policy.surveys:
        raise KeyError(f"survey design {name!r} not found in config/surveys/ "
                       f"(found: {', '.join(policy.surveys) or 'none'})")
    spec = policy.surveys[name]
    d = spec.design
    weight = f"{d.weight} * {d.household_size}" if spec.unit == "household" else d.weight
    # lines are per person: a household total is divided by the household's size
    income = f"{d.income} / {d.household_size}" if d.income_concept == "household_total" else d.income
    return Design(weight=weight, income=income, stratum=d.stratum, psu=d.psu, fpc=d.fpc, psu2=d.psu2, fpc2=d.fpc2,
                  lonely_psu=d.lonely_psu, total=(spec.total.level, spec.total.code),
                  domains={level: dom.column for level, dom in spec.domains.items()})


def resolve(design: str | Design, policy=None) -> Design:
    return from_policy(design, policy) if isinstance(design, str) else design


# ---- binding ---------------------------------------------------------------------------------

def _bind_input(con: duckdb.DuckDBPyConnection, data: nodes.Data, d: Design, by: str | None,
                extra: Mapping[str, str] | None = None, name: str = "svy_input") -> None:
    """Temp TABLE `name`: stratum, psu, weight, fpc, ssu, fpc2, domain_code, income (+ extra) of every row.
    A table, not a view: rows that are their own PSU get a row number that must stay put."""
    cols = {
        "stratum": f"cast({d.stratum} as varchar)" if d.stratum else "'1'",
        "psu": f"cast({d.psu} as varchar)" if d.psu else "cast(row_number() over () as varchar)",
        "weight": f"cast({d.weight} as double)",
        "fpc": f"cast({d.fpc} as double)" if d.fpc else "cast(null as double)",
        "ssu": f"cast({d.psu2} as varchar)" if d.psu2 else "cast(null as varchar)",
        "fpc2": f"cast({d.fpc2} as double)" if d.fpc2 else "cast(null as double)",
        "domain_code": f"cast({by} as varchar)" if by else "cast(null as varchar)",
        "income": f"cast({d.income} as double)",
        **(extra or {}),
    }
    select = ", ".join(f"{expr} as {col}" for col, expr in cols.items())
    con.execute(f"create or replace temp table {name} as select {select} from {nodes._source(con, data)} as src")
    con.execute(f"create or replace temp view svy_design as select stratum, psu, fpc, ssu, fpc2 from {name}")


def _finish(con: duckdb.DuckDBPyConnection, point: str, z: str, d: Design) -> duckdb.DuckDBPyRelation:
    """svy_result on the estimator's point table and linearised values."""
    con.execute(f"create or replace temp view svy_point as select domain_level, domain_code, measure, line_name, "
                f"line_value, estimate, n_unweighted, n_weighted from {point}")
    con.execute(f"create or replace temp view svy_z as select domain_level, domain_code, measure, line_name, "
                f"stratum, psu, ssu, z from {z}")
    bind_params(con, "svy_params", {"lonely_psu": d.lonely_psu})
    return nodes._materialise(con, "svy_result", "svyres")


def _ratio(con: duckdb.DuckDBPyConnection, d: Design) -> duckdb.DuckDBPyRelation:
    """Estimate the ratios of the bound svy_ratio_values (domains from domain_params)."""
    nodes.GRAPH.run(con, ["svy_ratio_z"])
    return _finish(con, "svy_ratio_point", "svy_ratio_z", d)


def _by_level(by: str | None, by_level: str | None) -> str | None:
    return (by_level or by) if by else None


# ---- estimators ------------------------------------------------------------------------------

def survey_fgt(con: duckdb.DuckDBPyConnection, data: nodes.Data, lines: Mapping[str, float] | float,
               design: str | Design, *, by: str | None = None, by_level: str | None = None,
               policy=None) -> duckdb.DuckDBPyRelation:
    """FGT P0, P1, P2 at each line and mean income, with linearised SEs, for the whole sample and
    each value of `by` (domains of the full design). Poor: income strictly below the line."""
    d = resolve(design, policy)
    _bind_input(con, data, d, by)
    nodes._lines(con, lines)
    nodes._domains(con, d.total, _by_level(by, by_level))
    nodes.GRAPH.run(con, ["svy_fgt_values"])
    con.execute("create or replace temp view svy_ratio_values as select * from svy_fgt_values")
    return _ratio(con, d)


def survey_ratio(con: duckdb.DuckDBPyConnection, data: nodes.Data, design: str | Design, *, numerator: str,
                 denominator: str = "1.0", measure: str = "ratio", by: str | None = None,
                 by_level: str | None = None, policy=None) -> duckdb.DuckDBPyRelation:
    """sum(w numerator) / sum(w denominator) (a mean when the denominator is 1), linearised SE
    (R survey::svyratio / svymean)."""
    d = resolve(design, policy)
    _bind_input(con, data, d, by, extra={"y": f"cast({numerator} as double)", "x": f"cast({denominator} as double)",
                                           "income": "cast(null as double)"})
    nodes._domains(con, d.total, _by_level(by, by_level))
    con.execute(f"create or replace temp view svy_ratio_values as select stratum, psu, ssu, weight, domain_code, "
                f"{_lit(measure)} as measure, cast(null as varchar) as line_name, cast(null as double) as line_value, "
                "y, x from svy_input")
    return _ratio(con, d)


def survey_gini(con: duckdb.DuckDBPyConnection, data: nodes.Data, design: str | Design, *,
                by: str | None = None, by_level: str | None = None, policy=None) -> duckdb.DuckDBPyRelation:
    """Gini coefficient with its linearised SE (Langel & Tillé 2013)."""
    d = resolve(design, policy)
    _bind_input(con, data, d, by)
    nodes._domains(con, d.total, _by_level(by, by_level))
    nodes.GRAPH.run(con, ["svy_gini_z"])
    con.execute("create or replace temp view svy_gini_long as select domain_level, domain_code, 'gini' as measure, "
                "cast(null as varchar) as line_name, cast(null as double) as line_value, gini as estimate, "
                "n_unweighted, w_total as n_weighted from svy_gini_point")
    return _finish(con, "svy_gini_long", "svy_gini_z", d)


def survey_arpr(con: duckdb.DuckDBPyConnection, data: nodes.Data, design: str | Design, *,
                share: float = 0.6, bandwidth_factor: float = 0.79, by: str | None = None,
                by_level: str | None = None, policy=None) -> duckdb.DuckDBPyRelation:
    """At-risk-of-poverty rate at `share` x the weighted median (line from the whole sample),
    with an SE that reflects the estimated line; also the line and the median (whole sample)."""
    d = resolve(design, policy)
    _bind_input(con, data, d, by)
    nodes._domains(con, d.total, _by_level(by, by_level))
    bind_params(con, "arpr_params", {"line_name": f"median_pct_{round(share * 100):03d}", "share": float(share),
                                     "bandwidth_factor": float(bandwidth_factor)})
    nodes.GRAPH.run(con, ["svy_arpr_point", "svy_arpr_z"])
    return _finish(con, "svy_arpr_point", "svy_arpr_z", d)


def survey_alkire_foster(con: duckdb.DuckDBPyConnection, data: nodes.Data, design: str | Design,
                         weights: Mapping[str, Any], cutoffs: Iterable[Any], *,
                         indicators: Mapping[str, str] | None = None, by: str | None = None,
                         by_level: str | None = None, policy=None) -> duckdb.DuckDBPyRelation:
    """Alkire–Foster H, M0 (means) and A (the ratio M0 / H) at each cutoff, design-based SEs."""
    d = resolve(design, policy)
    ints, total_weight = nodes.integer_weights(weights)
    cols = indicators or {n: f"{n}_deprived" for n in ints}
    _bind_input(con, data, d, by, extra={"income": "cast(null as double)", **{f"ind_{n}": expr for n, expr in cols.items()}},
                name="svy_af_input")
    nodes._af_weights(con, ints, total_weight)
    nodes.bind_cutoffs(con, cutoffs, ints, total_weight)
    nodes._domains(con, d.total, _by_level(by, by_level))
    spec = [{"name": n, "column": f"ind_{n}"} for n in ints]
    nodes.GRAPH.run(con, ["svy_af_values"], context={"indicators": spec})
    con.execute("create or replace temp view svy_ratio_values as select * from svy_af_values")
    return _ratio(con, d)


def survey_difference(con: duckdb.DuckDBPyConnection, data: nodes.Data, lines: Mapping[str, float] | float,
                      design: str | Design, *, group: str, a: str, b: str,
                      policy=None) -> duckdb.DuckDBPyRelation:
    """FGT and mean of group a minus group b (two domains, or two quarters stacked in one relation),
    with the SE of the difference: linearised values z_a - z_b summed per PSU, so a covariance
    through shared PSUs counts (label PSUs apart when two quarters are independent samples)."""
    d = replace(resolve(design, policy), total=None)
    _bind_input(con, data, d, group)
    nodes._lines(con, lines)
    nodes._domains(con, None, "group")
    nodes.GRAPH.run(con, ["svy_fgt_values"])
    con.execute("create or replace temp view svy_ratio_values as select * from svy_fgt_values")
    nodes.GRAPH.run(con, ["svy_ratio_z"])
    bind_rows(con, "svy_contrast", {"domain_code": "varchar", "sign": "double"}, [(str(a), 1.0), (str(b), -1.0)])
    label = f"{a}-{b}"
    con.execute(f"""
        create or replace temp table svy_diff_point as
        select 'difference' as domain_level, {_lit(label)} as domain_code, p.measure, p.line_name,
               max(p.line_value) as line_value, sum(c.sign * p.estimate) as estimate,
               sum(p.n_unweighted) as n_unweighted, sum(p.n_weighted) as n_weighted, count(*) as groups
        from svy_ratio_point as p inner join svy_contrast as c on p.domain_code = c.domain_code
        group by p.measure, p.line_name""")
    missing = con.execute("select count(*) from svy_diff_point where groups < 2").fetchone()[0]
    if missing:
        raise ValueError(f"survey_difference: {group} has no unit with value {a!r} or {b!r}")
    con.execute(f"""
        create or replace temp table svy_diff_z as
        select 'difference' as domain_level, {_lit(label)} as domain_code, z.measure, z.line_name, z.stratum, z.psu, z.ssu,
               c.sign * z.z as z
        from svy_ratio_z as z inner join svy_contrast as c on z.domain_code = c.domain_code""")
    return _finish(con, "svy_diff_point", "svy_diff_z", d)


def _lit(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"
