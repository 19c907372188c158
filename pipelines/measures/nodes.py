"""Poverty measures as functions notebooks can call on any table, relation or DataFrame.

Each function binds its input and parameters to the names a model in `sql/` refers to (views and
parameter tables), runs the model with the project's graph runner (pipelines/graph.py) and returns
the result as a (temporary) table relation. The arithmetic lives in the SQL; Python only renames
columns at the boundary; jinja only loops over indicator names.

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

from pipelines.graph import Graph, bind_params, bind_rows

SQL_DIR = Path(__file__).parent / "sql"
GRAPH = Graph(SQL_DIR)
LONELY_PSU_RULES = ("adjust", "certainty")
_counter = itertools.count()

Data = str | duckdb.DuckDBPyRelation | Any  # table/view name, SELECT text, relation, DataFrame


# ---- plumbing --------------------------------------------------------------------------------

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


def _domains(con: duckdb.DuckDBPyConnection, total: tuple[str, str] | None, by_level: str | None) -> None:
    level, code = total if total is not None else (None, None)
    bind_rows(con, "domain_params", {"total_level": "varchar", "total_code": "varchar", "by_level": "varchar"},
              [(level, code, by_level)])


def _materialise(con: duckdb.DuckDBPyConnection, model: str, prefix: str,
                 context: Mapping[str, Any] | None = None) -> duckdb.DuckDBPyRelation:
    """Run `model` (and the models it needs) with the graph runner; its result is kept under a
    fresh name so that the next call of the same measure does not overwrite it."""
    name = f"_povmon_{prefix}_{next(_counter)}"
    GRAPH.run(con, [model], context=context)
    con.execute(f"alter table {model} rename to {name}")
    return con.table(name)


def _lines(con: duckdb.DuckDBPyConnection, lines: Mapping[str, float] | float) -> None:
    if not isinstance(lines, Mapping):
        lines = {"line": float(lines)}
    bind_rows(con, "fgt_lines", {"line_name": "varchar", "line_value": "double"},
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
    return _materialise(con, "fgt", "fgt")


def gini(con: duckdb.DuckDBPyConnection, data: Data, *, income: str = "income",
         weight: str | None = None, by: str | None = None, by_level: str | None = None,
         total: tuple[str, str] | None = ("all", "all")) -> duckdb.DuckDBPyRelation:
    """Weighted Gini coefficient and weighted mean income (measures gini, mean_income)."""
    _bind(con, "fgt_input", data, {"domain_code": f"cast({by} as varchar)" if by else "cast(null as varchar)",
                                   "income": income, "weight": weight or "1.0"})
    _domains(con, total, (by_level or by) if by else None)
    return _materialise(con, "gini", "gini")


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
    bind_params(con, "survey_params", {"lonely_psu": lonely_psu})
    _domains(con, total, by_level)
    return _materialise(con, "survey_ratio", "svy")


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
    values = _materialise(con, "survey_fgt_values", "svyvals")
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


def bind_cutoffs(con: duckdb.DuckDBPyConnection, cutoffs: Iterable[Any], ints: Mapping[str, int],
                 total_weight: int) -> None:
    """af_cutoffs(k_name, k_num, k_den). Two cutoffs that are the same k ("1" and "4/4") are
    refused: they would be one group counted twice."""
    rows: dict[str, tuple] = {}
    for k in cutoffs:
        name, frac = cutoff(k, ints, total_weight)
        if name in rows:
            raise ValueError(f"cutoffs {rows[name][0]!r} and {k!r} are the same ({name}); list each k once")
        rows[name] = (k, frac)
    bind_rows(con, "af_cutoffs", {"k_name": "varchar", "k_num": "bigint", "k_den": "bigint"},
              [(name, f.numerator, f.denominator) for name, (_, f) in rows.items()])


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
    _af_weights(con, ints, total_weight)
    spec = [{"name": n, "column": f"ind_{n}"} for n in ints]
    return _materialise(con, "af_scores", "afs", {"indicators": spec})


def _af_weights(con: duckdb.DuckDBPyConnection, ints: Mapping[str, int], total_weight: int) -> None:
    """af_weights: one row, the integer weight w_<indicator> of each indicator and their total."""
    bind_params(con, "af_weights", {**{f"w_{n}": int(w) for n, w in ints.items()}, "total_weight": int(total_weight)})


def alkire_foster(con: duckdb.DuckDBPyConnection, data: Data, weights: Mapping[str, Any],
                  cutoffs: Iterable[Any], *, indicators: Mapping[str, str] | None = None,
                  weight: str | None = None, by: str | None = None, by_level: str | None = None,
                  total: tuple[str, str] | None = ("all", "all")) -> duckdb.DuckDBPyRelation:
    """Alkire–Foster H, A, M0 at each cutoff k, with uncensored / censored headcounts and
    % contributions (as shares) per indicator. Cutoffs: "any" or shares such as "1/3"."""
    ints, total_weight = integer_weights(weights)
    cols = indicators or {name: f"{name}_deprived" for name in ints}
    view = {"domain_code": f"cast({by} as varchar)" if by else "cast(null as varchar)", "weight": weight or "1.0"}
    view.update({f"ind_{name}": expr for name, expr in cols.items()})
    _bind(con, "af_input", data, view)
    _af_weights(con, ints, total_weight)
    bind_cutoffs(con, cutoffs, ints, total_weight)
    _domains(con, total, (by_level or by) if by else None)
    spec = [{"name": n, "column": f"ind_{n}"} for n in ints]
    return _materialise(con, "alkire_foster", "af", {"indicators": spec})


def water_levels(con: duckdb.DuckDBPyConnection, data: Data, *, weight: str | None = None,
                 by: str | None = None, by_level: str | None = None,
                 total: tuple[str, str] | None = ("all", "all")) -> duckdb.DuckDBPyRelation:
    """Weighted shares of units at each 饮水安全 level (safe / basic / unsafe / unknown)."""
    _bind(con, "water_input", data, {"domain_code": f"cast({by} as varchar)" if by else "cast(null as varchar)",
                                     "weight": weight or "1.0", "water_level": "water_level"})
    _domains(con, total, (by_level or by) if by else None)
    return _materialise(con, "water_levels", "water")


# ---- administrative incidence ----------------------------------------------------------------

def administrative_incidence(con: duckdb.DuckDBPyConnection, year: int, city_code: str,
                             poor_statuses: Iterable[str] = ("poor", "returned")) -> duckdb.DuckDBPyRelation:
    """贫困发生率 (administrative): poor registered persons / 农村户籍人口, by village, township,
    county and city. Reads views households, persons (one period) and population on `con`;
    `poor_statuses` are the 脱贫状态 codes counted as poor (the policy's status group `poor`)."""
    bind_rows(con, "incidence_params", {"year": "integer", "city_code": "varchar", "poor_group": "varchar"},
              [(year, city_code, "poor")])
    bind_rows(con, "param_status_groups", {"group_name": "varchar", "code": "varchar"},
              [("poor", s) for s in poor_statuses])
    return _materialise(con, "incidence_administrative", "inc")


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
