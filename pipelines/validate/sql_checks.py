"""The expectation suites (expectations/*.json) as SQL: what `validate --engine spark` checks.

Great Expectations validates on DuckDB (pipelines/validate/pipeline.py: validate_with_gx). On Spark
the same suites are checked by SQL written here from each expectation's JSON, run on the engine's
connection (pipelines/engines.py transpiles it), with GX's semantics and result fields, so the gate,
the run summary and nodes.failing_count read them as they read GX's:

  expect_column_values_to_be_in_set / _be_between / _not_be_null / _be_unique,
  expect_compound_columns_to_be_unique   element_count, missing_count, unexpected_count,
                                         unexpected_percent (of the non-missing values; NULLs are
                                         not checked, except by not_be_null; `mostly` honoured)
  unexpected_rows_expectation            observed_value: the rows of its query ({batch} = the table)
  expect_table_columns_to_match_set      observed_value (the table's columns), details.mismatched

All the checks of a suite are one query (a union of one count row per expectation): one pass of
jobs on Spark. Data Docs are GX's and are not written by these checks. An expectation type not
listed here is refused (EngineError), never skipped.
"""

from __future__ import annotations

import math

from pipelines.warehouse import sql_literal

COLUMN_MAP = {"expect_column_values_to_be_in_set", "expect_column_values_to_be_between",
              "expect_column_values_to_not_be_null", "expect_column_values_to_be_unique",
              "expect_compound_columns_to_be_unique"}


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(v) -> str:
    """A value of a value_set or a bound as SQL: text quoted, finite numbers as they are; anything
    else (NaN, infinity, a list) is refused rather than spelt as a word SQL would read as a column."""
    if isinstance(v, str):
        return sql_literal(v)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        from pipelines.engines import EngineError

        raise EngineError(f"expectation value {v!r}: expected text or a finite number (pipelines/validate/sql_checks.py)")
    return repr(v)


def _values(values: list) -> str:
    """A value_set as SQL; None is left out, as Great Expectations leaves it out."""
    return ", ".join(_literal(v) for v in values if v is not None)


def count_sql(e: dict, table: str) -> str | None:
    """SELECT of (element_count, missing_count, unexpected_count) of a column-map expectation, or
    of (observed, null, null) of an unexpected_rows_expectation; None for a table-level one."""
    kind, kw = e["type"], e["kwargs"]
    if kind == "unexpected_rows_expectation":
        return f"select count(*), cast(null as bigint), cast(null as bigint) from ({kw['unexpected_rows_query'].format(batch=table)}) as u"
    if kind == "expect_table_columns_to_match_set":
        return None
    if kind not in COLUMN_MAP:
        from pipelines.engines import EngineError

        raise EngineError(f"expectation {e['meta'].get('title', kind)!r}: type {kind} has no SQL check "
                          "(pipelines/validate/sql_checks.py)")
    t = f"(select * from {table}) as t"
    if kind == "expect_compound_columns_to_be_unique":
        cols = [_ident(c) for c in kw["column_list"]]
        missing = " and ".join(f"{c} is null" for c in cols)  # ignore_row_if all_values_are_missing
        complete = " and ".join(f"{c} is not null" for c in cols)  # GX joins on =: a null key matches nothing
        keys = ", ".join(cols)
        return (f"select count(*), count(*) filter (where {missing}), "
                f"coalesce(sum(case when {complete} and n > 1 then 1 else 0 end), 0) "
                f"from (select {keys}, count(*) over (partition by {keys}) as n from {t}) as c")
    col = _ident(kw["column"])
    if kind == "expect_column_values_to_not_be_null":
        return f"select count(*), 0, count(*) filter (where {col} is null) from {t}"
    if kind == "expect_column_values_to_be_unique":
        return (f"select count(*), count(*) filter (where {col} is null), "
                f"count(*) filter (where {col} is not null and n > 1) "
                f"from (select {col}, count(*) over (partition by {col}) as n from {t}) as c")
    if kind == "expect_column_values_to_be_in_set":
        bad = f"{col} not in ({_values(kw['value_set'])})"
    else:  # between (inclusive unless strict_min / strict_max)
        parts = []
        if kw.get("min_value") is not None:
            parts.append(f"{col} {'<=' if kw.get('strict_min') else '<'} {_literal(kw['min_value'])}")
        if kw.get("max_value") is not None:
            parts.append(f"{col} {'>=' if kw.get('strict_max') else '>'} {_literal(kw['max_value'])}")
        bad = " or ".join(parts) or "false"
    return (f"select count(*), count(*) filter (where {col} is null), "
            f"count(*) filter (where {col} is not null and ({bad})) from {t}")


def _column_result(e: dict, element: int, missing: int, unexpected: int) -> tuple[bool, dict]:
    checked = element - missing if e["type"] != "expect_column_values_to_not_be_null" else element
    percent = 100.0 * unexpected / checked if checked else 0.0
    mostly = e["kwargs"].get("mostly")
    success = unexpected == 0 if mostly is None else (checked == 0 or (checked - unexpected) / checked >= mostly)
    result = {"element_count": element, "unexpected_count": unexpected, "unexpected_percent": percent}
    if e["type"] != "expect_column_values_to_not_be_null":
        result["missing_count"] = missing
    return success, result


def _columns_result(e: dict, columns: list[str]) -> tuple[bool, dict]:
    wanted = set(e["kwargs"]["column_set"])
    missing, unexpected = sorted(wanted - set(columns)), sorted(set(columns) - wanted)
    success = not missing and (not unexpected or not e["kwargs"].get("exact_match", True))
    mismatched = {k: v for k, v in (("missing", missing), ("unexpected", unexpected)) if v}
    return success, {"observed_value": sorted(columns), "details": {"mismatched": mismatched} if mismatched else {}}


def check_suite(con, name: str, data: dict) -> list[dict]:
    """The flat results (validate_with_gx's shape) of one suite on its table on `con`."""
    table = data["meta"]["batch_table"]
    expectations = data["expectations"]
    selects = [(i, count_sql(e, table)) for i, e in enumerate(expectations)]
    queries = [f"select {i} as i, * from ({q}) as q{i}" for i, q in selects if q is not None]
    counts = {}
    if queries:
        counts = {row[0]: row[1:] for row in con.execute("\nunion all\n".join(queries)).fetchall()}
    columns = None
    out = []
    for i, e in enumerate(expectations):
        if e["type"] == "expect_table_columns_to_match_set":
            if columns is None:
                columns = [r[0] for r in con.execute(f"describe select * from {table}").fetchall()]
            success, result = _columns_result(e, columns)
        elif e["type"] == "unexpected_rows_expectation":
            observed = int(counts[i][0])
            success, result = observed == 0, {"observed_value": observed}
        else:
            success, result = _column_result(e, *(int(v) for v in counts[i]))
        out.append({"suite": name, "title": e["meta"]["title"], "type": e["type"], "severity": e["severity"],
                    "criterion": e["meta"].get("criterion"), "success": bool(success), "result": result,
                    "exception": None})
    return out


def check(con, suite_data: dict[str, dict]) -> list[dict]:
    """Every suite's results, in suite order (as validate_with_gx returns them)."""
    return [r for name, data in suite_data.items() for r in check_suite(con, name, data)]
