"""The problem ledger (问题清单): computed in SQL (sql/problems.sql, sql/problem_summary.sql), staged
as Parquet (tables problems, problem_summary, partition period=<p>; view `problems` in
povmon.duckdb) and printed as one Excel workbook per county — a 汇总 sheet and one sheet per
township that the township works through — published together by the validate stage's warehouse
transaction.

Printing (sql/print/problem_sheet.sql) joins the stored ledger with what only data/raw holds:
户编号, 户主 and the members' names (pipelines.risk.cards.raw_roster) and the 整改措施 / 责任单位 of
returned sheets the ledger cites (raw_rectification_text). None of it is stored under
data/processed. The sheet ends in three empty columns (整改措施, 责任单位, 整改完成时间); filled in
and put under data/raw/rectification/<p>/, `povmon ingest` reads it back (table `rectification`)
and the next quarter's ledger cites it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pyarrow as pa

from pipelines import inert, params, warehouse
from pipelines.graph import Graph
from pipelines.periods import Period
from pipelines.policy import Policy
from pipelines.policy.schema import LEDGER_SHEET_COLUMNS, LEDGER_SUMMARY_COLUMNS

SQL_DIR = Path(__file__).parent / "sql"
PRINT_GRAPH = Graph(SQL_DIR / "print")  # print time: reads the stored ledger and the raw lookups
PRINT_MODEL = "problem_sheet"

# the stored ledger's columns and types (sql/problems.sql), in order
PROBLEM_COLUMNS = {
    "period": "varchar", "county_code": "varchar", "county_name": "varchar", "township_code": "varchar",
    "township_name": "varchar", "village_code": "varchar", "village_name": "varchar", "household_key": "varchar",
    "criterion": "varchar", "criterion_label": "varchar", "criterion_order": "integer", "members": "varchar",
    "problem": "varchar", "cadre_name": "varchar", "cadre_phone": "varchar", "cadre_unit": "varchar",
    "status": "varchar", "is_open": "boolean", "first_found_period": "varchar", "deadline": "date",
    "days_to_deadline": "integer", "overdue": "boolean", "rectification_period": "varchar",
    "rectification_completed_on": "date", "rectification_measure_given": "boolean",
    "rectification_source_file": "varchar", "rectification_sheet": "varchar", "rectification_source_row": "bigint",
    "source": "varchar", "source_label": "varchar",
}
# what sql/problems.sql reads of the previous quarter's ledger (columns every ledger version has)
PREVIOUS_COLUMNS = ("period", "county_code", "county_name", "township_code", "township_name", "village_code",
                    "village_name", "household_key", "criterion", "members", "problem", "cadre_name", "cadre_phone",
                    "cadre_unit", "status", "first_found_period", "deadline")
RECTIFICATION_COLUMNS = {"period": "varchar", "household_key": "varchar", "criterion": "varchar",
                         "completed_on": "date", "measure_given": "boolean", "unit_given": "boolean",
                         "source_file": "varchar",
                         "sheet": "varchar", "source_row": "bigint"}
ORDER_BY = "county_code, township_code, village_code, household_key, criterion_order, status"
# published by validate for the period: the shared criteria models and the ledger
STAGED = ("int_person_deprivations", "int_household_deprivations", "problems", "problem_summary")
STAGED_ORDER = {"int_person_deprivations": "household_key, person_key",
                "int_household_deprivations": "household_key",
                "problems": ORDER_BY,
                "problem_summary": "region_level, region_code"}
LEVEL_LABELS = {"county": "县", "township": "乡镇"}
FILL_IN = ("measure", "responsible_unit", "completed_on")  # left empty for the township


# ---- SQL inputs ----------------------------------------------------------------------------------

def _empty(columns: dict[str, str]) -> str:
    return "select " + ", ".join(f"cast(null as {t}) as {c}" for c, t in columns.items()) + " where false"


def bind_previous(con: duckdb.DuckDBPyConnection, processed_dir: Path, period: str) -> None:
    """Table previous_problems: the previous quarter's ledger (empty when there is none)."""
    previous = warehouse.scan(processed_dir, "problems", Period.parse(period).previous)
    cols = {c: PROBLEM_COLUMNS[c] for c in PREVIOUS_COLUMNS}
    source = f"select {', '.join(PREVIOUS_COLUMNS)} from {previous}" if previous is not None else _empty(cols)
    con.execute(f"create or replace table previous_problems as {source}")


def bind_rectification(con: duckdb.DuckDBPyConnection, processed_dir: Path, period: str) -> list[str]:
    """Table rectification: the returned-sheet rows ingest loaded for quarters before `period`
    (empty when none). Returns those quarters."""
    parts = {q: f for q, f in warehouse.partitions(processed_dir, "rectification").items() if q < period}
    source = (f"select {', '.join(RECTIFICATION_COLUMNS)} from {warehouse.read_files(list(parts.values()))}"
              if parts else _empty(RECTIFICATION_COLUMNS))
    con.execute(f"create or replace table rectification as {source}")
    return sorted(parts)


# ---- print-time tables from data/raw ---------------------------------------------------------------

def _register(con: duckdb.DuckDBPyConnection, name: str, columns: dict[str, pa.DataType], rows: list[tuple]) -> None:
    """A temp table from Python rows with explicit types (an empty one keeps its columns)."""
    table = pa.table({c: pa.array([r[i] for r in rows], t) for i, (c, t) in enumerate(columns.items())})
    con.register(f"{name}_arrow", table)
    con.execute(f"create or replace temp table {name} as select * from {name}_arrow")
    con.unregister(f"{name}_arrow")


def bind_print_inputs(con: duckdb.DuckDBPyConnection, period: str, raw_dir: Path | None, read_ahead=None) -> dict:
    """roster_households, roster_persons and rectification_text, read from raw_dir (empty without
    one; the roster from `read_ahead` when it read it, pipelines/readahead.py). Returns counts for
    the run summary: households without a raw row, reports not found."""
    from pipelines.risk.cards import EMPTY_ROSTER_HOUSEHOLDS, EMPTY_ROSTER_PERSONS, Roster, raw_rectification_text, \
        raw_roster

    import pandas as pd

    roster = read_ahead.roster(period, raw_dir) if read_ahead is not None and raw_dir is not None else None
    roster = roster if roster is not None else raw_roster(period, raw_dir) if raw_dir is not None else Roster(
        pd.DataFrame(EMPTY_ROSTER_HOUSEHOLDS, dtype=object), pd.DataFrame(EMPTY_ROSTER_PERSONS, dtype=object))
    roster.register(con)
    refs = con.execute("select distinct rectification_source_file, rectification_sheet, rectification_source_row "
                       "from problems where rectification_source_file is not null order by 1, 2, 3").fetchall()
    text = raw_rectification_text(raw_dir, refs) if raw_dir is not None and refs else None
    rows = [] if text is None else list(text.itertuples(index=False, name=None))
    _register(con, "rectification_text", {"source_file": pa.string(), "sheet": pa.string(), "source_row": pa.int64(),
                                          "measure": pa.string(), "responsible_unit": pa.string()}, rows)
    missing = con.execute("select count(distinct household_key) from problems as p where not exists "
                          "(select 1 from roster_households as h where h.household_key = p.household_key)").fetchone()[0]
    return {"households_not_in_raw": int(missing), "reports_cited": len(refs),
            "reports_not_found": len(refs) - len({(r[0], r[1], r[2]) for r in rows})}


def sheet_rows(con: duckdb.DuckDBPyConnection, period: str, policy: Policy) -> None:
    """Table problem_sheet on `con` (which has problems and the print-time tables)."""
    params.bind(con, policy, PRINT_GRAPH.sources([PRINT_MODEL]), period=period)
    PRINT_GRAPH.run(con, [PRINT_MODEL])


# ---- Excel -----------------------------------------------------------------------------------------

def _sheet_name(name: str, used: set[str]) -> str:
    """Excel sheet names: at most 31 characters, none of []:*?/\\, unique."""
    clean = "".join("_" if ch in "[]:*?/\\" else ch for ch in (name or "未知"))[:31]
    out, i = clean, 2
    while out in used:
        out = f"{clean[:28]}_{i}"
        i += 1
    used.add(out)
    return out


class _Formats:
    """The workbook's cell formats."""

    def __init__(self, wb):
        self.title = wb.add_format({"bold": True, "font_size": 14})
        self.head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True,
                                   "valign": "top"})
        self.fill_head = wb.add_format({"bold": True, "bg_color": "#FFE699", "border": 1, "text_wrap": True,
                                        "valign": "top"})
        self.text = wb.add_format({"text_wrap": True, "valign": "top"})
        self.quoted = wb.add_format({"text_wrap": True, "valign": "top", "quote_prefix": True})
        self.date = wb.add_format({"num_format": "yyyy-mm-dd", "valign": "top"})
        self.number = wb.add_format({"valign": "top"})
        self.overdue = wb.add_format({"font_color": "#C00000", "bold": True, "valign": "top"})
        self.fill_in = wb.add_format({"bg_color": "#FFF2CC", "border": 1, "text_wrap": True, "valign": "top"})
        self.fill_date = wb.add_format({"bg_color": "#FFF2CC", "border": 1, "num_format": "yyyy-mm-dd"})


def _write_cell(ws, fmt: _Formats, row: int, col: int, value, cell_format=None) -> None:
    """Text as a string cell (formula-like text quote-prefixed), numbers as numbers, dates as dates."""
    if value is None:
        ws.write_blank(row, col, None, cell_format)
    elif isinstance(value, bool):
        inert.write_text(ws, row, col, "是" if value else "否", cell_format or fmt.text, fmt.quoted)
    elif isinstance(value, dt.date):
        ws.write_datetime(row, col, dt.datetime(value.year, value.month, value.day), cell_format or fmt.date)
    elif isinstance(value, (int, float)):
        ws.write_number(row, col, value, cell_format or fmt.number)
    else:
        inert.write_text(ws, row, col, str(value), cell_format or fmt.text, fmt.quoted)


def _header(ws, fmt: _Formats, row: int, headers: list[str], fill_in: set[int] = frozenset()) -> None:
    for j, h in enumerate(headers):
        inert.write_text(ws, row, j, h, fmt.fill_head if j in fill_in else fmt.head, fmt.quoted)


def _title(ws, fmt: _Formats, text: str, width: int) -> None:
    ws.merge_range(0, 0, 0, max(width - 1, 1), "", fmt.title)
    inert.write_text(ws, 0, 0, text, fmt.title, fmt.quoted)
    ws.set_row(0, 24)


def write_excel(con: duckdb.DuckDBPyConnection, period: str, out_dir: Path, policy: Policy | None = None,
                raw_dir: Path | None = None) -> list[Path]:
    """One workbook per county (`con` has the tables problems and problem_summary): 汇总 (county +
    its townships), then one sheet per township. Names, 户编号 and cited reports from raw_dir."""
    from pipelines.policy import load_policy

    policy = policy or load_policy()
    bind_print_inputs(con, period, raw_dir)
    sheet_rows(con, period, policy)
    return write_excel_prepared(con, period, out_dir, policy)


def _write_workbook(con: duckdb.DuckDBPyConnection, path: Path, county_code: str, county_name: str | None,
                    period: str, policy: Policy) -> None:
    """One county's workbook at `path`."""
    import xlsxwriter

    led = policy.validate.ledger
    end = Period.parse(period).end_date
    wb = xlsxwriter.Workbook(str(path), inert.WORKBOOK_OPTIONS)  # strings stay strings (pipelines/inert.py)
    wb.set_properties({"title": f"{county_name} 两不愁三保障及饮水安全问题清单 {period}",
                       "created": dt.datetime(2000, 1, 1)})  # fixed: same data, same bytes
    fmt = _Formats(wb)
    _write_summary(con, wb.add_worksheet("汇总"), fmt, county_code, county_name, period, end, led)
    used = {"汇总"}
    townships = con.execute("select distinct township_code, township_name from problems where county_code = ? "
                            "order by 1, 2", [county_code]).fetchall()
    for township_code, township_name in townships:
        ws = wb.add_worksheet(_sheet_name(township_name or township_code, used))
        _write_township(con, ws, fmt, township_code, f"{county_name or county_code}{township_name or township_code}",
                        period, end, led)
    wb.close()


def _write_summary(con, ws, fmt: _Formats, county_code: str, county_name: str | None, period: str, end: dt.date,
                   led) -> None:
    cols = list(LEDGER_SUMMARY_COLUMNS)
    rows = con.execute(f"select {', '.join(cols)} from problem_summary where county_code = ? "
                       "order by case region_level when 'county' then 0 else 1 end, region_code",
                       [county_code]).fetchall()
    _title(ws, fmt, f"{county_name or county_code} 两不愁三保障及饮水安全问题清零进度 {period}（截至 {end.isoformat()}）",
           len(cols))
    _header(ws, fmt, 1, [led.summary[c] for c in cols])
    for i, row in enumerate(rows, start=2):
        values = dict(zip(cols, row))
        values["region_level"] = LEVEL_LABELS.get(values["region_level"], values["region_level"])
        for j, c in enumerate(cols):
            red = c in ("overdue_open", "days_to_deadline") and values[c] is not None and (
                values[c] > 0 if c == "overdue_open" else values[c] < 0)
            _write_cell(ws, fmt, i, j, values[c], fmt.overdue if red else None)
    ws.freeze_panes(2, 0)
    ws.autofilter(1, 0, max(len(rows) + 1, 2), len(cols) - 1)
    for j, c in enumerate(cols):
        ws.set_column(j, j, max(10, min(30, 2 * len(led.summary[c]) + 2)))


WIDTHS = {"row_no": 6, "members": 34, "problem": 30, "previous_rectification": 34, "measure": 30,
          "responsible_unit": 16, "completed_on": 14, "cadre_unit": 18, "household_id": 20}


def _write_township(con, ws, fmt: _Formats, township_code: str, title: str, period: str, end: dt.date, led) -> None:
    cols = list(LEDGER_SHEET_COLUMNS)
    rows = con.execute(f"select {', '.join(cols)}, overdue from problem_sheet where township_code = ? "
                       "order by row_no", [township_code]).fetchall()
    fill = {cols.index(c) for c in FILL_IN}
    _title(ws, fmt, f"{title} 两不愁三保障及饮水安全问题清单 {period}（截至 {end.isoformat()}；"
                    f"剩余天数为负数即已超过整改时限；请填写黄色三列后交回）", len(cols))
    _header(ws, fmt, 1, [led.sheet[c] for c in cols], fill)
    for i, (*row, overdue) in enumerate(rows, start=2):
        for j, (c, value) in enumerate(zip(cols, row)):
            if j in fill:
                ws.write_blank(i, j, None, fmt.fill_date if c == "completed_on" else fmt.fill_in)
            else:
                _write_cell(ws, fmt, i, j, value, fmt.overdue if c == "days_left" and overdue else None)
    last = max(len(rows) + 1, 2)
    done = cols.index("completed_on")
    ws.data_validation(2, done, last, done, {"validate": "date", "criteria": ">=", "value": dt.date(2000, 1, 1),
                                             "input_title": led.sheet["completed_on"],
                                             "input_message": "日期，如 2020-09-15",
                                             "error_message": "请填写日期"})
    ws.freeze_panes(2, 6)
    ws.autofilter(1, 0, last, len(cols) - 1)
    for j, c in enumerate(cols):
        ws.set_column(j, j, WIDTHS.get(c, max(10, min(24, 2 * len(led.sheet[c]) + 2))))


# ---- staging and publishing ---------------------------------------------------------------------------

def stage(con: duckdb.DuckDBPyConnection, tx: warehouse.Transaction, period: str) -> None:
    """Stage the criteria models and the ledger (ordered: deterministic bytes) as the period's
    partitions in the warehouse transaction; they are published only if the data-quality gate passed."""
    for table in STAGED:
        query = f"select {', '.join(PROBLEM_COLUMNS)} from problems" if table == "problems" else table
        tx.write_table(con, query, table, period, order_by=STAGED_ORDER[table])


def publish(tx: warehouse.Transaction, period: str, reports_dir: Path, policy: Policy,
            raw_dir: Path | None = None, read_ahead=None) -> dict:
    """Build the Excel workbooks from the staged tables (names and 户编号 from raw_dir) in a folder
    beside reports_dir/<p>/问题清单, which the transaction's commit swaps in whole with the Parquet."""
    target = reports_dir / period / "问题清单"
    built = tx.folder(target)
    with tx.connect(policy) as con:
        for table in ("problems", "problem_summary"):
            con.execute(f"create view {table} as select * from {warehouse.read_files([tx.path(table, period)])}")
        printed = bind_print_inputs(con, period, raw_dir, read_ahead)
        sheet_rows(con, period, policy)
        books = write_excel_prepared(con, period, built, policy)
        counts = dict(con.execute("select status, count(*) from problems group by 1 order by 1").fetchall())
    return {"output": str(tx.stable_path("problems", period)), "rows": int(sum(counts.values())),
            "by_status": counts, "excel": [str(target / p.name) for p in books], "printed": printed}


def write_excel_prepared(con: duckdb.DuckDBPyConnection, period: str, out_dir: Path, policy: Policy) -> list[Path]:
    """write_excel once problem_sheet exists on `con`."""
    counties = con.execute("select distinct county_code, any_value(county_name) over (partition by county_code) "
                           "from problems order by 1").fetchall()
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for county_code, county_name in counties:
        path = out_dir / f"{county_code}_{county_name or ''}_问题清单_{period}.xlsx"
        with warehouse.atomic_path(path) as tmp:
            _write_workbook(con, tmp, county_code, county_name, period, policy)
        written.append(path)
    return written
