"""Poverty measures as functions notebooks can call on any table, relation or DataFrame.

Each function binds its input to the fixed view names a SQL file in `sql/` reads, runs that file
on the connection and returns the result as a (temporary) table relation. The arithmetic lives in
the SQL; Python only renames columns at the boundary and renders config lists with jinja2.

Common output columns: domain_level, domain_code, measure, line_name, line_value, estimate,
[std_error,] n_unweighted, n_weighted. `total` names the whole-input domain (level, code);
`by` adds one domain per distinct value (domain_level = by_level or the column name).
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction
from pathlib import Path
from typing import Any, Iterable, Mapping

import duckdb
import jinja2

SQL_DIR = Path(__file__).parent / "sql"
LONELY_PSU_RULES = ("adjust", "certainty")
_counter = itertools.count()
_env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)

Data = str | duckdb.DuckDBPyRelation | Any  # table/view name, SELECT text, relation, DataFrame


# ---- plumbing --------------------------------------------------------------------------------

def render_sql(name: str, **context: Any) -> str:
    """Text of sql/<name>.sql, rendered with jinja2 when context is given."""
    text = (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")
    return _env.from_string(text).render(**context) if context else text


def _source(con: duckdb.DuckDBPyConnection, data: Data) -> str:
    """A FROM-clause item for `data`: a name, a parenthesised query, or a registered object."""
    if isinstance(data, str):
        text = data.strip()
        return f"({text})" if text.lower().startswith(("select", "with", "from")) else text
    name = f"_povmon_src_{next(_counter)}"
    if isinstance(data, duckdb.DuckDBPyRelation):
        data.create_view(name, replace=True)
    else:
        con.register(name, data)
    return name


def _bind(con: duckdb.DuckDBPyConnection, view: str, data: Data, columns: Mapping[str, str]) -> None:
    """Create temp view `view` selecting `columns` {output name: expression} from `data`."""
    select = ", ".join(f"{expr} as {name}" for name, expr in columns.items())
    con.execute(f"create or replace temp view {view} as select {select} from {_source(con, data)} as src")


def _params(con: duckdb.DuckDBPyConnection, table: str, values: Mapping[str, Any],
            types: Mapping[str, str]) -> None:
    """One-row temp table of parameters, bound as prepared-statement values."""
    cols = ", ".join(f"cast(? as {types[k]}) as {k}" for k in values)
    con.execute(f"create or replace temp table {table} as select {cols}", list(values.values()))


def _rows(con: duckdb.DuckDBPyConnection, table: str, columns: Mapping[str, str],
          rows: Iterable[tuple]) -> None:
    """Temp table `table` with typed `columns` holding `rows`."""
    con.execute(f"create or replace temp table {table} "
                f"({', '.join(f'{c} {t}' for c, t in columns.items())})")
    rows = list(rows)
    if rows:
        con.executemany(f"insert into {table} values ({', '.join('?' * len(columns))})", rows)


def _domains(con: duckdb.DuckDBPyConnection, total: tuple[str, str] | None, by_level: str | None) -> None:
    level, code = total if total is not None else (None, None)
    _params(con, "domain_params", {"total_level": level, "total_code": code, "by_level": by_level},
            {"total_level": "varchar", "total_code": "varchar", "by_level": "varchar"})


def _unit_domains(con: duckdb.DuckDBPyConnection) -> None:
    """int_unit_domains: the bound fgt_input's units in each of their domains (fgt, gini)."""
    con.execute(f"create or replace temp table int_unit_domains as {render_sql('int_unit_domains')}")


def _materialise(con: duckdb.DuckDBPyConnection, sql: str, prefix: str) -> duckdb.DuckDBPyRelation:
    name = f"_povmon_{prefix}_{next(_counter)}"
    con.execute(f"create or replace temp table {name} as {sql}")
    return con.table(name)


def _lines(con: duckdb.DuckDBPyConnection, lines: Mapping[str, float] | float) -> None:
    if not isinstance(lines, Mapping):
        lines = {"line": float(lines)}
    _rows(con, "fgt_lines", {"line_name": "varchar", "line_value": "double"},
          [(k, float(v)) for k, v in lines.items()])


# ---- income poverty --------------------------------------------------------------------------

def fgt(con: duckdb.DuckDBPyConnection, data: Data, lines: Mapping[str, float] | float, *,
        income: str = "income", weight: str | None = None, by: str | None = None,
        by_level: str | None = None, total: tuple[str, str] | None = ("all", "all")) -> duckdb.DuckDBPyRelation:
    """P0, P1, P2 and share_of_poor of a census population at each line (poor: income < line).

    `weight` is an expression (e.g. "household_size" to count persons; default 1 per row)."""
    _bind(con, "fgt_input", data, {"domain_code": f"cast({by} as varchar)" if by else "cast(null as varchar)",
                                   "income": income, "weight": weight or "1.0"})
    _lines(con, lines)
    _domains(con, total, (by_level or by) if by else None)
    _unit_domains(con)
    return _materialise(con, render_sql("fgt"), "fgt")


def gini(con: duckdb.DuckDBPyConnection, data: Data, *, income: str = "income",
         weight: str | None = None, by: str | None = None, by_level: str | None = None,
         total: tuple[str, str] | None = ("all", "all")) -> duckdb.DuckDBPyRelation:
    """Weighted Gini coefficient and weighted mean income (measures gini, mean_income)."""
    _bind(con, "fgt_input", data, {"domain_code": f"cast({by} as varchar)" if by else "cast(null as varchar)",
                                   "income": income, "weight": weight or "1.0"})
    _domains(con, total, (by_level or by) if by else None)
    _unit_domains(con)
    return _materialise(con, render_sql("gini"), "gini")


def survey_ratio(con: duckdb.DuckDBPyConnection, values: Data, *, lonely_psu: str = "adjust",
                 by_level: str | None = None,
                 total: tuple[str, str] | None = ("all", "all")) -> duckdb.DuckDBPyRelation:
    """Design-based ratio means sum(w y)/sum(w) with linearised SEs (stratified cluster design,
    with replacement). `values` has columns stratum, psu, weight, domain_code, measure,
    line_name, line_value, y (one row per unit and measure)."""
    if lonely_psu not in LONELY_PSU_RULES:
        raise ValueError(f"lonely_psu must be one of {LONELY_PSU_RULES}, got {lonely_psu!r}")
    _bind(con, "survey_values", values, {c: c for c in (
        "stratum", "psu", "weight", "domain_code", "measure", "line_name", "line_value", "y")})
    _params(con, "survey_params", {"lonely_psu": lonely_psu}, {"lonely_psu": "varchar"})
    _domains(con, total, by_level)
    return _materialise(con, render_sql("survey_ratio"), "svy")


def survey_fgt(con: duckdb.DuckDBPyConnection, data: Data, lines: Mapping[str, float] | float, *,
               stratum: str, psu: str, weight: str, income: str = "income", by: str | None = None,
               by_level: str | None = None, lonely_psu: str = "adjust",
               total: tuple[str, str] | None = ("all", "all")) -> duckdb.DuckDBPyRelation:
    """Survey-weighted P0, P1, P2 and mean income with Taylor-linearised SEs, for the whole
    sample and each value of `by` as a domain of the full design. `weight` is the person weight
    expression (design weight x household size for household-level per-capita income)."""
    _bind(con, "survey_input", data, {
        "stratum": f"cast({stratum} as varchar)", "psu": f"cast({psu} as varchar)",
        "weight": weight, "income": income,
        "domain_code": f"cast({by} as varchar)" if by else "cast(null as varchar)"})
    _lines(con, lines)
    values = _materialise(con, render_sql("survey_fgt_values"), "svyvals")
    return survey_ratio(con, values, lonely_psu=lonely_psu, by_level=(by_level or by) if by else None,
                        total=total)


# ---- multidimensional ------------------------------------------------------------------------

def _fraction(value: Any) -> Fraction:
    if isinstance(value, str):
        return Fraction(value.strip())
    if isinstance(value, float):
        return Fraction(value).limit_denominator(10**6)
    return Fraction(value)


def integer_weights(weights: Mapping[str, Any]) -> tuple[dict[str, int], int]:
    """Relative weights as exact integers over their common denominator: ({name: int}, total).
    Floats are read as the nearest fraction with denominator <= 1e6 (0.1666… -> 1/6)."""
    fractions = {k: _fraction(v) for k, v in weights.items()}
    if any(f < 0 for f in fractions.values()) or sum(fractions.values()) == 0:
        raise ValueError(f"weights must be non-negative and not all zero: {weights}")
    lcm = math.lcm(*(f.denominator for f in fractions.values()))
    ints = {k: int(f * lcm) for k, f in fractions.items()}
    g = math.gcd(*ints.values())
    ints = {k: v // g for k, v in ints.items()}
    return ints, sum(ints.values())


def cutoff(k: Any, ints: Mapping[str, int], total_weight: int) -> tuple[str, Fraction]:
    """(name, k as a share of the total weight). "any" = deprived in at least one indicator."""
    if isinstance(k, str) and k.strip().lower() in ("any", "union"):
        return "k=any", Fraction(min(v for v in ints.values() if v > 0), total_weight)
    frac = _fraction(k)
    if not 0 < frac <= 1:
        raise ValueError(f"cutoff k must be in (0, 1], got {k!r}")
    return f"k={frac}", frac


def deprivation_scores(con: duckdb.DuckDBPyConnection, data: Data, weights: Mapping[str, Any], *,
                       indicators: Mapping[str, str] | None = None, weight: str | None = None,
                       by: str | None = None) -> duckdb.DuckDBPyRelation:
    """Per unit: d_<indicator> (0/1), score_num / score_den exact. `indicators` maps indicator
    name -> boolean column expression (default: "<name>_deprived")."""
    ints, total_weight = integer_weights(weights)
    cols = indicators or {name: f"{name}_deprived" for name in ints}
    view = {"domain_code": f"cast({by} as varchar)" if by else "cast(null as varchar)",
            "weight": weight or "1.0"}
    view.update({f"ind_{name}": expr for name, expr in cols.items()})
    _bind(con, "af_input", data, view)
    spec = [{"name": n, "column": f"ind_{n}", "weight": ints[n]} for n in ints]
    return _materialise(con, render_sql("af_scores", indicators=spec, total_weight=total_weight), "afs")


def alkire_foster(con: duckdb.DuckDBPyConnection, data: Data, weights: Mapping[str, Any],
                  cutoffs: Iterable[Any], *, indicators: Mapping[str, str] | None = None,
                  weight: str | None = None, by: str | None = None, by_level: str | None = None,
                  total: tuple[str, str] | None = ("all", "all")) -> duckdb.DuckDBPyRelation:
    """Alkire–Foster H, A, M0 at each cutoff k, with uncensored / censored headcounts and
    % contributions (as shares) per indicator. Cutoffs: "any" or shares such as "1/3"."""
    ints, total_weight = integer_weights(weights)
    scores = deprivation_scores(con, data, weights, indicators=indicators, weight=weight, by=by)
    scores.create_view("af_scores", replace=True)
    ks = [cutoff(k, ints, total_weight) for k in cutoffs]
    _rows(con, "af_cutoffs", {"k_name": "varchar", "k_num": "bigint", "k_den": "bigint"},
          [(name, f.numerator, f.denominator) for name, f in ks])
    _domains(con, total, (by_level or by) if by else None)
    spec = [{"name": n, "weight": ints[n]} for n in ints]
    return _materialise(con, render_sql("alkire_foster", indicators=spec, total_weight=total_weight), "af")


def water_levels(con: duckdb.DuckDBPyConnection, data: Data, *, weight: str | None = None,
                 by: str | None = None, by_level: str | None = None,
                 total: tuple[str, str] | None = ("all", "all")) -> duckdb.DuckDBPyRelation:
    """Weighted shares of units at each 饮水安全 level (safe / basic / unsafe / unknown)."""
    _bind(con, "water_input", data, {"domain_code": f"cast({by} as varchar)" if by else "cast(null as varchar)",
                                     "weight": weight or "1.0", "water_level": "water_level"})
    _domains(con, total, (by_level or by) if by else None)
    return _materialise(con, render_sql("water_levels"), "water")


# ---- administrative incidence ----------------------------------------------------------------

def administrative_incidence(con: duckdb.DuckDBPyConnection, year: int, city_code: str,
                             poor_statuses: Iterable[str] = ("poor", "returned")) -> duckdb.DuckDBPyRelation:
    """贫困发生率 (administrative): poor registered persons / 农村户籍人口, by village, township,
    county and city. Reads views households, persons (one period) and population on `con`."""
    _params(con, "incidence_params", {"year": year, "city_code": city_code},
            {"year": "integer", "city_code": "varchar"})
    statuses = list(poor_statuses)
    if not all(s.replace("_", "").isalnum() for s in statuses):
        raise ValueError(f"poor_statuses must be code names: {statuses}")
    return _materialise(con, render_sql("incidence_administrative", poor_statuses=statuses), "inc")


def format_incidence(rate: float | None, threshold: float = 0.0001, digits: int = 2) -> str:
    """An incidence the way the office prints it: "不到万分之一" below 0.01 % (but above 0),
    "0" when nobody is poor, otherwise a percentage such as "1.23%"; "—" when unknown."""
    if rate is None or (isinstance(rate, float) and math.isnan(rate)):
        return "—"
    if rate == 0:
        return "0"
    if rate < threshold:
        return "不到万分之一"
    return f"{rate * 100:.{digits}f}%"
