"""The generator's names-only county export (config/synth.toml layout = "names_only", domain.md
§1): in the small city 陵川县 sends it; every planted case of truth/defects.csv lands as the
truth says, and the rest of the county loads with the village codes its names resolve to."""

from __future__ import annotations

import csv
import re
import zipfile

import duckdb
import pytest

from pipelines.policy import load_policy

COUNTY = "140524"
FILE = f"registry/2020Q4/{COUNTY}_陵川县_建档立卡人口_2020Q4.xlsx"


@pytest.fixture(scope="module")
def names_only_city(ingested_city):
    """The small city (tests/conftest.py): 陵川县 sends the names-only export (config/synth.toml)."""
    assert load_policy().raw("synth")["counties"][COUNTY]["layout"] == "names_only"
    con = duckdb.connect(str(ingested_city / "processed" / "povmon.duckdb"), read_only=True)
    yield ingested_city, con
    con.close()


def _truth(base):
    with open(base / "truth" / "defects.csv", encoding="utf-8") as fh:
        return [d for d in csv.DictReader(fh) if d["file"] == FILE]


def test_the_file_is_shaped_as_a_county_saves_it(names_only_city):
    base, _con = names_only_city
    with zipfile.ZipFile(base / "raw" / FILE) as zf:
        workbook = zf.read("xl/workbook.xml").decode()
        sheet = zf.read("xl/worksheets/sheet3.xml").decode()
        strings = zf.read("xl/sharedStrings.xml").decode()
    names = re.findall(r'<sheet name="([^"]+)"([^>]*)/>', workbook)
    assert [n for n, _ in names] == ["填表说明", "代码表", "成员信息"]
    assert [n for n, attrs in names if 'state="hidden"' in attrs] == ["代码表"]
    assert "行政区划代码" not in strings and "村代码" not in strings  # names only
    for text in ("合计", "人 数", "务工时间（月）", "收入情况（元）", "陵川县建档立卡贫困人口信息采集表（成员）", "１"):
        assert text in strings, text
    assert '<mergeCell ref="A3:A4"/>' in sheet  # 序号 merged down over the two header rows


def test_every_planted_case_lands_as_the_truth_says(names_only_city):
    base, con = names_only_city
    truth = _truth(base)
    kinds = {d["kind"] for d in truth}
    assert {"id_damaged_by_spreadsheet", "total_row", "unknown_place_name"} <= kinds
    got = {"quarantine": set(con.execute("select period, source_file, sheet, source_row, reason from quarantine").fetchall()),
           "finding": set(con.execute("select period, source_file, sheet, source_row, reason from findings").fetchall())}
    missed = [d for d in truth if (d["period"], d["file"], d["sheet"], int(d["source_row"]), d["expected_reason"])
              not in got[d["expected_disposition"]]]
    assert not missed, missed[:5]
    # the file's quarantine holds the planted rows only
    planted = {int(d["source_row"]) for d in truth if d["expected_disposition"] == "quarantine"}
    rows = {r[0] for r in con.execute("select source_row from quarantine where source_file = ?", [FILE]).fetchall()}
    assert rows == planted


def test_the_county_loads_with_the_codes_its_names_resolve_to(names_only_city):
    _base, con = names_only_city
    read, loaded, quarantined = con.execute("select rows_read, rows_loaded, rows_quarantined from ingest_manifest "
                                            "where source_file = ?", [FILE]).fetchone()
    assert read == loaded + quarantined and loaded > 100
    assert con.execute("select count(*) from quarantine where source_file = ?", [FILE]).fetchone()[0] == quarantined
    policy_villages = {v.code: v.name for v in load_policy().villages}
    codes = con.execute("select distinct village_code from persons where county_code = ?", [COUNTY]).fetchall()
    assert codes and all(c in policy_villages and c.startswith(COUNTY) for (c,) in codes)
    # persons of the names-only county are as many as loaded rows of its file
    assert con.execute("select count(*) from persons where county_code = ? and source_file = ?",
                       [COUNTY, FILE]).fetchone()[0] == loaded
