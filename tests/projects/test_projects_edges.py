"""Edges of the project lists: --check lists both sheets with exact counts; an ID number a
spreadsheet turned into a number is quarantined (never keyed); a sheet that is neither list is
refused naming both sections; a rerun of ingest writes the same bytes."""

from __future__ import annotations

import duckdb
import pytest
from openpyxl import load_workbook

from pipelines import warehouse
from pipelines.ingest.pipeline import check, run
from pipelines.ingest.readers import IngestError
from pipelines.policy import load_policy
from tests.projects.fixture import BENEFICIARIES, PERIOD, PROJECTS, write_fixture

LIFTED = load_policy(overrides={"thresholds": {"ingest": {"max_quarantined_share": 1.0}}})


def test_check_lists_both_sheets_with_exact_counts(tmp_path):
    write_fixture(tmp_path / "raw")
    result = check(tmp_path / "raw", policy=LIFTED)
    rows = {r["sheet"]: r for r in result["rows"] if r["file"].startswith("projects/")}
    assert set(rows) == {"项目清单", "受益户名单"}
    assert (rows["项目清单"]["would load"], rows["项目清单"]["would quarantine"]) == (4, 2)
    assert (rows["受益户名单"]["would load"], rows["受益户名单"]["would quarantine"]) == (4, 3)
    assert rows["项目清单"]["would load"] + rows["项目清单"]["would quarantine"] == len(PROJECTS)
    assert rows["受益户名单"]["would load"] + rows["受益户名单"]["would quarantine"] == len(BENEFICIARIES)


def test_an_id_stored_as_a_number_is_quarantined_not_keyed(tmp_path):
    path = write_fixture(tmp_path / "raw")
    wb = load_workbook(path)
    ws = wb["受益户名单"]
    ws.cell(3, 7).value = int(ws.cell(3, 7).value[:17])  # row 3 (HH2's head by ID): now a number cell
    wb.save(path)
    run(tmp_path / "raw", tmp_path / "processed", policy=LIFTED)
    con = duckdb.connect()
    q = con.execute(f"select source_row, reason, column_name from {warehouse.scan(tmp_path / 'processed', 'quarantine')} "
                    "where source_kind = 'project_beneficiaries' and source_row = 3").fetchall()
    assert q == [(3, "id_damaged_by_spreadsheet", "户主身份证号")]
    listed = con.execute(f"select listed_households from {warehouse.scan(tmp_path / 'processed', 'projects')} "
                         "where project_key = '140524:P1'").fetchone()[0]
    assert listed == 1  # HH1 only: the damaged row is not guessed


def test_a_sheet_that_is_neither_list_is_refused(tmp_path):
    write_fixture(tmp_path / "raw")
    other = tmp_path / "raw" / "projects" / PERIOD / "说明.csv"
    other.write_text("项目名称,备注\n光伏,无\n", encoding="utf-8")
    with pytest.raises(IngestError, match=r"projects/2020Q4/说明.csv"):
        run(tmp_path / "raw", tmp_path / "processed", policy=LIFTED)


def test_rerun_writes_the_same_bytes(tmp_path):
    write_fixture(tmp_path / "raw")
    run(tmp_path / "raw", tmp_path / "a", policy=LIFTED)
    run(tmp_path / "raw", tmp_path / "b", policy=LIFTED)
    for table in ("projects", "project_beneficiaries"):
        a = warehouse.table_files(tmp_path / "a", table)
        b = warehouse.table_files(tmp_path / "b", table)
        assert [f.read_bytes() for f in a] == [f.read_bytes() for f in b] and a
