"""`povmon survey --design NAME --period Q`: one survey, on its own (no registry needed).

    run(raw_dir, processed_dir, name, period) reads the files config/surveys/<name>.toml names
    (pipelines.ingest.readers.read_sheets: any export format, the project's limits), maps headers
    through the design's columns (one column may play several roles), types and quarantines rows
    in SQL (sql/svy_stage.sql), estimates FGT and mean income at the lines of lines.toml, the Gini,
    the relative lines and the Alkire–Foster H, A, M0 of the design, each with linearised SEs and the design's df
    (pipelines/measures/design.py), for the whole sample and each domain, and publishes them in
    the period's `measures` partition as data_source 'survey:<name>' (the rows of other sources
    are kept), with the quarantined rows in `survey_quarantine`, in one warehouse transaction.

Fails (exit 2, one line) when no file matches, a required column is missing, or every row is
quarantined: never an empty result reported as a success.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import replace
from pathlib import Path

import duckdb
import pandas as pd

from pipelines import warehouse
from pipelines.graph import bind_params, bind_rows
from pipelines.ingest import headers as hdr
from pipelines.ingest.readers import Limits, read_sheets
from pipelines.measures import design as svy
from pipelines.measures import nodes
from pipelines.measures.pipeline import MEASURES_COLUMNS, ORDER_BY, write_csv_atomic
from pipelines.periods import Period
from pipelines.policy import Policy, load_policy

QUARANTINE_COLUMNS = ("period", "design", "source_file", "source_row", "reason", "reason_column")
PART_COLUMNS = ("region_level", "region_code", "measure", "line_name", "line_value", "estimate", "std_error",
                "design_df", "n_unweighted", "n_weighted")


class SurveyError(ValueError):
    """A survey cannot be estimated: no file, or nothing loaded (CLI exit 2)."""


# ---- reading ---------------------------------------------------------------------------------

def design_columns(spec) -> list[hdr.Column]:
    """The design's columns as the ingest header mapper sees them."""
    return [hdr.Column(name, col.kind, col.required, False, tuple(col.aliases)) for name, col in spec.columns.items()]


def survey_files(raw_dir: Path, pattern: str, period: str) -> list[Path]:
    """Files matching the design's pattern for the period (hidden and Office lock files ignored)."""
    found = sorted(p for p in Path(raw_dir).glob(pattern.format(period=period))
                   if not p.name.startswith((".", "~$")) and not p.is_dir())
    return found


def read_survey(raw_dir: Path, spec, name: str, period: str, policy: Policy) -> pd.DataFrame:
    """Every data row of the period's files: canonical columns as text + source_file, source_row."""
    files = survey_files(raw_dir, spec.files, period)
    if not files:
        raise SurveyError(f"survey {name} {period}: no file matches {Path(raw_dir) / spec.files.format(period=period)} "
                          f"(config/surveys/{name}.toml files)")
    columns = design_columns(spec)
    t = policy.thresholds.ingest  # a design may have few columns: one may be misspelt and still be found
    finder = hdr.header_finder(columns, t.max_title_rows, min(t.min_header_matches, max(1, len(columns) - 1)))
    limits = Limits.from_policy(policy)
    frames = []
    for path in files:
        rel = str(path.relative_to(raw_dir)) if path.is_relative_to(raw_dir) else path.name
        for sheet in read_sheets(path, finder, limits=limits):
            where = rel + (f", sheet {sheet.sheet}" if sheet.sheet else "")
            headers = [str(h) for h in sheet.data.columns]
            found = hdr.map_headers(headers, columns, where, sheet.first_column,
                                    config_file=f"config/surveys/{name}.toml [columns]")
            frame = pd.DataFrame({col.name: (sheet.data.iloc[:, found[col.name]].astype("string")
                                             if col.name in found else pd.Series([None] * len(sheet.data), dtype="string"))
                                  for col in columns})
            frame.insert(0, "source_row", pd.Series(sheet.source_row, dtype="int64").values)
            frame.insert(0, "source_file", rel)
            frames.append(frame.reset_index(drop=True))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def stage_context(spec) -> dict:
    """The jinja context of sql/svy_stage.sql for one design (column names the policy checked)."""
    d = spec.design
    roles = [("weight", d.weight), ("stratum", d.stratum), ("psu", d.psu), ("fpc", d.fpc), ("psu2", d.psu2),
             ("fpc2", d.fpc2)]
    if spec.unit == "household":
        roles.append(("household_size", d.household_size))
    return {"columns": [{"name": n, "kind": c.kind} for n, c in spec.columns.items()],
            "required": [{"role": r, "column": c} for r, c in roles if c is not None],
            "weight": d.weight, "household_size": d.household_size if spec.unit == "household" else None}


def template_context(policy: Policy) -> dict:
    """svy_stage's context for the design measures.toml names (else the first): what the
    portability test renders (pipelines.graph.stage_graphs)."""
    name = policy.measures.survey.design or next(iter(sorted(policy.surveys)), None)
    if name is None:
        return {"columns": [{"name": "weight", "kind": "decimal"}], "required": [], "weight": "weight",
                "household_size": None}
    return stage_context(policy.surveys[name])


def yes_no_rows(policy: Policy) -> list[tuple[str, str]]:
    """(label, 'true' | 'false') of config/code_labels.toml [yes_no]."""
    return [(label, code) for code, labels in policy.code_labels["yes_no"].items() for label in labels]


def stage_rows(con: duckdb.DuckDBPyConnection, raw: pd.DataFrame, spec, policy: Policy) -> None:
    """Temp table svy_staged: typed rows with their quarantine reason (sql/svy_stage.sql)."""
    con.register("svy_raw_frame", raw)
    con.execute("create or replace temp table svy_raw as select * from svy_raw_frame")
    con.unregister("svy_raw_frame")
    bind_rows(con, "svy_yes_no", {"label": "varchar", "code": "varchar"}, yes_no_rows(policy))
    nodes.GRAPH.run(con, ["svy_stage"], context=stage_context(spec))
    con.execute("create or replace temp table svy_staged as select * from svy_stage")


def refuse_empty(con: duckdb.DuckDBPyConnection, name: str, period: str) -> tuple[int, int]:
    """(rows read, rows loaded); raises when nothing is left to estimate."""
    read, loaded = con.execute("select count(*), count(*) filter (where reason is null) from svy_staged").fetchone()
    if loaded == 0:
        reasons = con.execute("select reason || coalesce(' (' || reason_column || ')', '') || ' ' || count(*) "
                              "from svy_staged group by reason, reason_column order by count(*) desc, 1").fetchall()
        shown = "; ".join(r[0] for r in reasons[:3]) or "no data row"
        raise SurveyError(f"survey {name} {period}: all {read} rows quarantined ({shown}); nothing to estimate")
    return read, loaded


# ---- estimating ------------------------------------------------------------------------------

def estimate(con: duckdb.DuckDBPyConnection, spec, name: str, period: str, policy: Policy) -> None:
    """Temp table svy_parts: every estimate of the loaded rows, whole sample and each domain."""
    con.execute("create or replace temp table svy_loaded as select * from svy_staged where reason is null")
    year = Period.parse(period).year
    lines = {n: v.value for n, v in policy.lines.for_year(year, policy.measures.lines.named).items()}
    base = svy.from_policy(name, policy)
    levels = [(None, None)] + [(level, dom.column) for level, dom in spec.domains.items()]
    parts = []
    for i, (level, column) in enumerate(levels):
        d = base if i == 0 else replace(base, total=None)
        runs = [svy.survey_fgt(con, "svy_loaded", lines, d, by=column, by_level=level),
                svy.survey_gini(con, "svy_loaded", d, by=column, by_level=level)]
        runs += [svy.survey_arpr(con, "svy_loaded", d, share=r.share, bandwidth_factor=r.bandwidth_factor,
                                 by=column, by_level=level) for r in spec.relative_lines]
        md = spec.multidimensional
        if md is not None:
            runs.append(svy.survey_alkire_foster(con, "svy_loaded", d, md.weights, md.cutoffs,
                                                 indicators=dict(md.indicators), by=column, by_level=level))
        for rel in runs:
            if i > 0:  # domains only: the whole sample came with the first level
                rel = rel.filter(f"domain_level = {warehouse.sql_literal(level)}")
            part = f"svy_part_{len(parts)}"
            rel.project("domain_level as region_level, domain_code as region_code, measure, line_name, "
                        "line_value, estimate, std_error, design_df, n_unweighted, n_weighted").to_table(part)
            parts.append(part)
    union = " union all ".join(f"select * from {p}" for p in parts)
    # incidence_survey: P0 at the named lines, relabelled as the measures stage does (the report's
    # incidence trend reads it, so a survey whose total is the city shows there)
    named = ", ".join(warehouse.sql_literal(n) for n in lines) or "null"  # no line that year: no incidence
    con.execute(f"create or replace temp table svy_parts as {union} union all select region_level, region_code, "
                "'incidence_survey' as measure, line_name, line_value, estimate, std_error, design_df, n_unweighted, "
                f"n_weighted from ({union}) where measure = 'fgt0' and line_name in ({named})")


def bind_labels(con: duckdb.DuckDBPyConnection, spec, policy: Policy) -> None:
    """svy_labels(level, code, name): the total's name, the design's labels, else the region list."""
    regions = {r.code: r.name for r in policy.regions}
    rows = [(spec.total.level, spec.total.code, spec.total.name)]
    codes = con.execute("select distinct region_level, region_code from svy_parts").fetchall()
    for level, code in codes:
        if level in spec.domains:
            label = spec.domains[level].labels.get(code, regions.get(code))
            if label is not None:
                rows.append((level, code, label))
    bind_rows(con, "svy_labels", {"level": "varchar", "code": "varchar", "name": "varchar"}, rows)


# ---- publishing ------------------------------------------------------------------------------

def _existing(con: duckdb.DuckDBPyConnection, processed_dir: Path, table: str, period: str, keep: str,
              columns: tuple[str, ...]) -> str | None:
    """SELECT of the current partition's rows that `keep` (a condition) retains, in `columns`."""
    source = warehouse.scan(processed_dir, table, period)
    if source is None:
        return None
    have = {r[0] for r in con.execute(f"describe select * from {source}").fetchall()}
    select = ", ".join(c if c in have else f"cast(null as bigint) as {c}" for c in columns)
    return f"select {select} from {source} where {keep}"


def add_difference(con: duckdb.DuckDBPyConnection, spec, name: str, period: str, previous: str,
                   raw_previous: pd.DataFrame, policy: Policy) -> tuple[int, int]:
    """Append to svy_parts the whole sample's FGT and mean of `period` minus `previous` (region
    level 'difference', code '<period>-<previous>'). The two quarters are independent samples:
    strata and PSUs are labelled apart by quarter. Returns the previous quarter's (read, loaded)."""
    con.execute("alter table svy_staged rename to svy_staged_now")
    try:
        stage_rows(con, raw_previous, spec, policy)
        counts = refuse_empty(con, name, previous)
        con.execute("create or replace temp table svy_both as "
                    f"select *, {warehouse.sql_literal(period)} as svy_quarter from svy_staged_now where reason is null "
                    f"union all select *, {warehouse.sql_literal(previous)} from svy_staged where reason is null")
    finally:
        con.execute("drop table if exists svy_staged")
        con.execute("alter table svy_staged_now rename to svy_staged")
    base = svy.from_policy(name, policy)
    d = replace(base, stratum=f"svy_quarter || '|' || {base.stratum or chr(39) + '1' + chr(39)}",
                psu=None if base.psu is None else f"svy_quarter || '|' || {base.psu}")
    year = Period.parse(period).year
    lines = {n: v.value for n, v in policy.lines.for_year(year, policy.measures.lines.named).items()}
    rel = svy.survey_difference(con, "svy_both", lines, d, group="svy_quarter", a=period, b=previous)
    rel.project("domain_level, domain_code, measure, line_name, line_value, estimate, std_error, design_df, "
                "cast(n_unweighted as bigint), n_weighted").insert_into("svy_parts")
    return counts


def run(raw_dir: Path, processed_dir: Path, name: str, period: str, policy: Policy | None = None, *,
        previous: str | None = None) -> dict:
    """See the module docstring; `previous` (a quarter) adds the difference period - previous
    of the whole sample's FGT and mean, with its SE."""
    policy = policy or load_policy()
    period = str(Period.parse(period))
    previous = None if previous is None else str(Period.parse(previous))
    if name not in policy.surveys:
        raise SurveyError(f"survey design {name!r}: no config/surveys/{name}.toml "
                          f"(designs: {', '.join(policy.surveys) or 'none'})")
    spec = policy.surveys[name]
    source = f"survey:{name}"
    started = time.perf_counter()
    raw = read_survey(Path(raw_dir), spec, name, period, policy)
    raw_previous = None if previous is None else read_survey(Path(raw_dir), spec, name, previous, policy)
    processed_dir = Path(processed_dir)
    with warehouse.transaction(processed_dir, stage="survey") as tx:
        con = tx.connect()
        try:
            con.execute("set threads = 1")  # deterministic float sums -> deterministic bytes
            if raw.empty:
                raise SurveyError(f"survey {name} {period}: the files hold no data row")
            stage_rows(con, raw, spec, policy)
            read, loaded = refuse_empty(con, name, period)
            estimate(con, spec, name, period, policy)
            if previous is not None:
                add_difference(con, spec, name, period, previous, raw_previous, policy)
            bind_labels(con, spec, policy)
            z = statistics.NormalDist().inv_cdf(0.5 + policy.measures.survey.confidence_level / 2)
            bind_params(con, "svy_out_params", {"period": period, "data_source": source, "ci_z": z})
            nodes.GRAPH.run(con, ["svy_measures"])
            columns = MEASURES_COLUMNS
            queries = [f"select {', '.join(columns)} from svy_measures"]
            old = _existing(con, processed_dir, "measures", period,
                            f"data_source <> {warehouse.sql_literal(source)}", columns)
            queries += [old] if old else []
            con.execute("create or replace temp table measures_final as " + " union all ".join(queries))
            tx.write_table(con, "measures_final", "measures", period, order_by=ORDER_BY)
            write_csv_atomic(con, "measures_final", tx.path("measures", period, name="measures.csv"))
            q = [f"select {warehouse.sql_literal(period)} as period, {warehouse.sql_literal(name)} as design, "
                 "source_file, source_row, reason, reason_column from svy_staged where reason is not null"]
            old_q = _existing(con, processed_dir, "survey_quarantine", period,
                              f"design <> {warehouse.sql_literal(name)}", QUARANTINE_COLUMNS)
            q += [old_q] if old_q else []
            tx.write_table(con, " union all ".join(q), "survey_quarantine", period,
                           order_by="design, source_file, source_row")
            rows = con.execute("select count(*) from svy_measures").fetchone()[0]
            total = con.execute("select estimate, std_error from svy_measures where measure = 'fgt0' "
                                "and region_level = ? order by line_name limit 1", [spec.total.level]).fetchone()
        finally:
            con.close()
    return {"period": period, "design": name, "data_source": source, "rows_read": read, "rows_loaded": loaded,
            "rows_quarantined": read - loaded, "estimates": rows,
            "output": str(tx.stable_path("measures", period)),
            "fgt0_first_line": None if total is None else {"estimate": total[0], "std_error": total[1]},
            "seconds": round(time.perf_counter() - started, 2)}
