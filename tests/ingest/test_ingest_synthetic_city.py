"""Ingest on the synthetic city (tests/conftest.py fixtures): planted defects, manifest, PII."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from pipelines.ingest import headers as hdr
from pipelines.ingest import readers
from pipelines.policy import load_policy


@pytest.fixture(scope="module")
def warehouse(ingested_city):
    con = duckdb.connect(str(ingested_city / "processed" / "povmon.duckdb"), read_only=True)
    yield con
    con.close()


def test_every_planted_defect_is_caught(ingested_city, warehouse):
    with open(ingested_city / "truth" / "defects.csv", encoding="utf-8") as fh:
        defects = list(csv.DictReader(fh))
    assert defects
    got = {
        "quarantine": set(warehouse.execute("select period, source_file, source_row, reason from quarantine").fetchall()),
        "finding": set(warehouse.execute("select period, source_file, source_row, reason from findings").fetchall()),
    }
    missed = [d for d in defects
              if (d["period"], d["file"], int(d["source_row"]), d["expected_reason"]) not in got[d["expected_disposition"]]]
    assert not missed, missed[:5]


def test_quarantine_holds_only_planted_rows(ingested_city, warehouse):
    with open(ingested_city / "truth" / "defects.csv", encoding="utf-8") as fh:
        planted = {(d["period"], d["file"], int(d["source_row"])) for d in csv.DictReader(fh)
                   if d["expected_disposition"] == "quarantine"}
    with open(ingested_city / "truth" / "projects.csv", encoding="utf-8") as fh:  # the project lists' plants
        planted |= {(d["period"], d["file"], int(d["source_row"])) for d in csv.DictReader(fh)
                    if d["expected_disposition"] == "quarantine"}
    # (the task lists' planted rows: tests/tasks against truth/tasks.csv)
    quarantined = set(warehouse.execute("select period, source_file, source_row from quarantine "
                                        "where source_kind not in ('tasks', 'instructions')").fetchall())
    assert quarantined <= planted


def test_manifest_reconciles_for_every_file(ingested_city, warehouse):
    raw = ingested_city / "raw"
    # every export under raw/<kind>/ (raw/SYNTHETIC.json, the generator's file list, is no export)
    files = {p.relative_to(raw).as_posix() for p in raw.rglob("*") if p.is_file() and p.parent != raw}
    manifest = warehouse.execute("select source_file, rows_read, rows_loaded, rows_quarantined from ingest_manifest").fetchall()
    assert {m[0] for m in manifest} == files
    for source_file, read, loaded, quarantined in manifest:
        assert read == loaded + quarantined > 0, source_file
    # per file and sheet (a project workbook holds the project list and its beneficiaries)
    per_sheet_q = {(f, s): n for f, s, n in warehouse.execute(
        "select source_file, sheet, count(*) from quarantine group by all").fetchall()}
    sheets = warehouse.execute("select source_file, sheet, rows_quarantined from ingest_manifest").fetchall()
    for source_file, sheet, quarantined in sheets:
        assert per_sheet_q.get((source_file, sheet), 0) == quarantined, (source_file, sheet)
    loaded = warehouse.execute("select sum(rows_loaded) from ingest_manifest where source_kind = 'registry'").fetchone()[0]
    assert warehouse.execute("select count(*) from persons").fetchone()[0] == loaded


def test_keys_unique(warehouse):
    for table, keys in [("persons", "period, person_key"), ("households", "period, household_key"),
                        ("pairings", "period, household_key, cadre_id"), ("population", "year, village_code")]:
        dup = warehouse.execute(f"select count(*) from (select {keys} from {table} group by all having count(*) > 1)")
        assert dup.fetchone()[0] == 0, table


def _pii_values(raw: Path) -> set[str]:
    """Names, ID numbers, phones and 人编号 of household members in the CSV exports."""
    policy = load_policy()
    aliases = policy.aliases
    values: set[str] = set()
    for section in ("registry", "pairing"):
        cols = hdr.columns_of(aliases[section])
        secret = {c.name for c in cols if c.pii} | ({"person_id"} if section == "registry" else set())
        finder = hdr.header_finder(cols, 10, 3)
        for path in sorted((raw / section).rglob("*.csv")):
            sheet = readers.read_csv(path, finder)
            lookup = hdr.alias_lookup(cols)
            for header in sheet.data.columns:
                if lookup.get(hdr.normalise(header)) in secret:
                    values |= {v.strip() for v in sheet.data[header].dropna() if len(v.strip()) >= 2}
    # a column-shifted row puts other cells (code labels) under a PII header: those are not PII
    labels = {hdr.normalise(label) for codes in policy.code_labels.values()
              for lst in codes.values() for label in lst}
    return {v for v in values if hdr.normalise(v) not in labels}


def test_no_pii_anywhere_under_processed(ingested_city):
    values = _pii_values(ingested_city / "raw")
    assert len(values) > 100
    blobs = b"\n".join(p.read_bytes() for p in (ingested_city / "processed").rglob("*") if p.is_file())
    leaked = [v for v in values if v.encode("utf-8") in blobs]
    assert not leaked, leaked[:5]


def _independent_row_count(path, sheet: str | None = None) -> int:
    """Data rows in a raw file, counted without povmon's readers (header and title rows excluded).
    A project workbook: the named sheet, its header the row holding 项目名称."""
    import openpyxl
    import pyreadstat

    suffix = path.suffix.lower()
    if sheet is not None and path.parent.parent.name == "projects":
        rows = list(openpyxl.load_workbook(path, read_only=True)[sheet].iter_rows(values_only=True))
        return len(rows) - next(i for i, r in enumerate(rows) if "项目名称" in r) - 1
    if suffix == ".csv":
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                return len(pd.read_csv(path, dtype=str, encoding=encoding, keep_default_na=False))
            except UnicodeDecodeError:
                continue
    if suffix == ".xlsx":
        # the sheet holding 户编号 (a names-only export has an instructions and a code-list sheet first)
        for ws in openpyxl.load_workbook(path, read_only=True).worksheets:
            rows = [r for r in ws.iter_rows(values_only=True)]
            # (a department list's header holds 身份证号)
            header = next((i for i, r in enumerate(rows) if "户编号" in r or "身份证号" in r), None)
            if header is not None:
                break
        # a header of two rows: the second holds sub-headers only (工资性收入 under 收入情况)
        if header + 1 < len(rows) and "工资性收入" in rows[header + 1]:
            header += 1
        return len(rows) - header - 1
    if suffix == ".dta":
        return len(pd.read_stata(path, convert_categoricals=False))
    if suffix == ".sav":
        return pyreadstat.read_sav(str(path), metadataonly=True)[1].number_rows
    raise AssertionError(f"unexpected raw file {path}")


def test_rows_read_match_the_raw_files_and_no_column_is_missing(ingested_city, warehouse):
    raw = ingested_city / "raw"
    manifest = warehouse.execute("select source_file, sheet, rows_read, missing_columns, unmapped_headers "
                                 "from ingest_manifest where source_kind not in ('tasks', 'instructions')"
                                 ).fetchall()  # the task lists: tests/tasks
    for source_file, sheet, rows_read, missing, unmapped in manifest:
        assert rows_read == _independent_row_count(raw / source_file, sheet), source_file
        # the generator writes every column under a known spelling (Stata/SPSS keep it as label),
        # except 村民小组 (its 自然村 column names the 组; the 问题清单 and 明白卡 print 村民小组 where
        # exported), those of the 2021 monitoring system (防返贫监测信息系统), which 2019-2020 exports lack,
        # and the village code of a names-only county (it names the village instead)
        monitoring_era = {"risk_eliminated", "risk_identified_date", "risk_eliminated_date"}
        got = set(missing.split(", ")) if missing else set()
        assert got <= monitoring_era | {"village_group", "village_code"} and unmapped is None, \
            (source_file, missing, unmapped)
        assert (monitoring_era <= got) == source_file.startswith("registry/"), source_file
