"""The problem ledger (问题清单): computed in SQL (sql/problems.sql, sql/problem_summary.sql), staged
as Parquet (tables problems, problem_summary, partition period=<p>; view `problems` in
povmon.duckdb) and as one Excel workbook per county (Chinese headers, a 汇总 sheet and one sheet per
township), published together by the validate stage's warehouse transaction."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from pipelines import inert, warehouse
from pipelines.periods import Period

# column: (type, Chinese header in the Excel export; None = not exported)
PROBLEM_COLUMNS = {
    "period": ("varchar", "期别"),
    "county_code": ("varchar", "县代码"),
    "county_name": ("varchar", "县(市、区)"),
    "township_code": ("varchar", "乡镇代码"),
    "township_name": ("varchar", "乡(镇)"),
    "village_code": ("varchar", "村代码"),
    "village_name": ("varchar", "行政村"),
    "household_key": ("varchar", "户标识(假名)"),
    "criterion": ("varchar", None),
    "criterion_label": ("varchar", "问题类别"),
    "criterion_order": ("integer", None),
    "members": ("varchar", "涉及成员(假名)及问题"),
    "problem": ("varchar", "问题描述"),
    "cadre_name": ("varchar", "帮扶责任人"),
    "cadre_phone": ("varchar", "帮扶责任人电话"),
    "cadre_unit": ("varchar", "帮扶责任人单位"),
    "status": ("varchar", "整改状态"),
    "first_found_period": ("varchar", "首次发现期别"),
    "deadline": ("date", "清零时限"),
}
ORDER_BY = "county_code, township_code, village_code, household_key, criterion_order, status"
# published by validate for the period: the shared criteria models and the ledger
STAGED = ("int_person_deprivations", "int_household_deprivations", "problems", "problem_summary")
STAGED_ORDER = {"int_person_deprivations": "household_key, person_key",
                "int_household_deprivations": "household_key",
                "problems": ORDER_BY,
                "problem_summary": "region_level, region_code"}
SUMMARY_HEADERS = {
    "region_level": "层级", "region_code": "代码", "region_name": "名称", "new_problems": "新发现",
    "open_carried": "持续", "open_problems": "未整改合计", "cleared": "已整改", "cleared_to_zero": "是否清零",
    "deadline": "清零时限", "days_to_deadline": "距时限天数",
}
LEVEL_LABELS = {"county": "县", "township": "乡镇"}


# ---- SQL ---------------------------------------------------------------------------------------

def bind_previous(con: duckdb.DuckDBPyConnection, processed_dir: Path, period: str) -> None:
    """Table previous_problems: the previous quarter's ledger (empty when there is none)."""
    columns = ", ".join(f"cast(null as {t}) as {c}" for c, (t, _) in PROBLEM_COLUMNS.items())
    previous = warehouse.scan(processed_dir, "problems", Period.parse(period).previous)
    source = (f"select {', '.join(PROBLEM_COLUMNS)} from {previous}" if previous is not None
              else f"select {columns} where false")
    con.execute(f"create or replace table previous_problems as {source}")


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


def _write_table(ws, fmt_head, quoted, headers: list[str], rows: list[tuple]) -> None:
    """Header row and data rows; text as string cells, formula-like text quote-prefixed (`quoted`)."""
    ws.write_row(0, 0, headers, fmt_head)
    for i, row in enumerate(rows, start=1):
        for j, v in enumerate(row):
            v = "" if v is None else (v.isoformat() if isinstance(v, dt.date) else v)
            if isinstance(v, str):
                inert.write_text(ws, i, j, v, None, quoted)
            else:
                ws.write(i, j, v)
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(len(rows), 1), len(headers) - 1)
    for j, h in enumerate(headers):
        ws.set_column(j, j, max(10, min(60, 2 * len(h) + 4)))


def write_excel(con: duckdb.DuckDBPyConnection, period: str, out_dir: Path) -> list[Path]:
    """One workbook per county: 汇总 (county + its townships), then one sheet per township."""
    counties = con.execute("select distinct county_code, any_value(county_name) over (partition by county_code) "
                           "from problems order by 1").fetchall()
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for county_code, county_name in counties:
        path = out_dir / f"{county_code}_{county_name or ''}_问题清单_{period}.xlsx"
        with warehouse.atomic_path(path) as tmp:
            _write_workbook(con, tmp, county_code, county_name, period)
        written.append(path)
    return written


def _write_workbook(con: duckdb.DuckDBPyConnection, path: Path, county_code: str, county_name: str | None,
                    period: str) -> None:
    """One county's workbook at `path`."""
    import xlsxwriter

    exported = [c for c, (_t, h) in PROBLEM_COLUMNS.items() if h]
    headers = [PROBLEM_COLUMNS[c][1] for c in exported]
    wb = xlsxwriter.Workbook(str(path), inert.WORKBOOK_OPTIONS)  # strings stay strings (pipelines/inert.py)
    wb.set_properties({"title": f"{county_name} 两不愁三保障及饮水安全问题清单 {period}",
                       "created": dt.datetime(2000, 1, 1)})  # fixed: same data, same bytes
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    quoted = wb.add_format({"quote_prefix": True})
    summary_cols = list(SUMMARY_HEADERS)
    srows = con.execute(f"select {', '.join(summary_cols)} from problem_summary where county_code = ? "
                        "order by region_level, region_code", [county_code]).fetchall()
    srows = [(LEVEL_LABELS.get(r[0], r[0]), *r[1:6], "是" if r[6] else "否", *r[7:]) for r in srows]
    used = {"汇总"}
    _write_table(wb.add_worksheet("汇总"), head, quoted, list(SUMMARY_HEADERS.values()), srows)
    townships = con.execute("select distinct township_code, township_name from problems where county_code = ? "
                            "order by 1, 2", [county_code]).fetchall()
    for township_code, township_name in townships:
        rows = con.execute(f"select {', '.join(exported)} from problems where township_code = ? "
                           f"order by {ORDER_BY}", [township_code]).fetchall()
        _write_table(wb.add_worksheet(_sheet_name(township_name or township_code, used)), head, quoted, headers, rows)
    wb.close()


def stage(con: duckdb.DuckDBPyConnection, tx: warehouse.Transaction, period: str) -> None:
    """Stage the criteria models and the ledger (ordered: deterministic bytes) as the period's
    partitions in the warehouse transaction; they are published only if the data-quality gate passed."""
    for table in STAGED:
        query = f"select {', '.join(PROBLEM_COLUMNS)} from problems" if table == "problems" else table
        tx.write_table(con, query, table, period, order_by=STAGED_ORDER[table])


def publish(tx: warehouse.Transaction, period: str, reports_dir: Path) -> dict:
    """Build the Excel workbooks from the staged tables in a folder beside reports_dir/<p>/问题清单,
    which the transaction's commit swaps in whole with the Parquet."""
    target = reports_dir / period / "问题清单"
    built = tx.folder(target)
    with duckdb.connect() as con:
        for table in ("problems", "problem_summary"):
            con.execute(f"create view {table} as select * from {warehouse.read_files([tx.path(table, period)])}")
        books = write_excel(con, period, built)
        counts = dict(con.execute("select status, count(*) from problems group by 1 order by 1").fetchall())
    return {"output": str(tx.stable_path("problems", period)), "rows": int(sum(counts.values())),
            "by_status": counts, "excel": [str(target / p.name) for p in books]}
