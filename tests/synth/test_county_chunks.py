"""County formats in several chunks (issue 12 part 4): a city bigger than [run]
county_chunk_households writes one file per county, quarter and chunk; planted persons, defect IDs
and 户编号 stay unique across chunks, and ingest catches every planted defect where truth says."""

from __future__ import annotations

import csv
import re

import duckdb
import pytest

from pipelines.synth import pipeline

HOUSEHOLDS, CHUNK, PERIOD = 700, 300, "2020Q2"  # chunks of 300, 300, 100 households


@pytest.fixture(scope="module")
def chunked_city(tmp_path_factory, monkeypatch_module):
    settings = pipeline.load_settings()
    settings["synth"]["run"]["county_chunk_households"] = CHUNK
    monkeypatch_module.setattr(pipeline, "load_settings", lambda policy=None: settings)
    out = tmp_path_factory.mktemp("chunked_city")
    summary = pipeline.run(out, HOUSEHOLDS, 11, [PERIOD], "county")
    from pipelines.ingest.pipeline import run as ingest

    ingest(raw_dir=out / "raw", processed_dir=out / "processed")
    return out, summary


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def test_one_file_per_county_and_chunk(chunked_city):
    out, summary = chunked_city
    names = sorted(p.name for p in (out / "raw" / "registry" / PERIOD).iterdir())
    counties = sorted(pipeline.load_settings()["counties"]["code"])
    assert len(names) == 3 * len(counties)
    for code in counties:
        mine = [n for n in names if n.startswith(code)]
        assert [re.search(r"_part-(\d{5})\.", n).group(1) for n in mine] == ["00000", "00001", "00002"], mine
        assert all(f"_建档立卡人口_{PERIOD}_part-" in n for n in mine)
    assert summary["mode"] == "county"


def test_defect_ids_unique_and_each_caught(chunked_city):
    out, _ = chunked_city
    with open(out / "truth" / "defects.csv", encoding="utf-8") as fh:
        defects = list(csv.DictReader(fh))
    # a household defect marks several rows with one ID; no ID is shared between chunks
    by_part: dict[str, set] = {}
    for d in defects:
        by_part.setdefault(d["file"].rsplit("_part-", 1)[1][:5], set()).add(d["defect_id"])
    assert sorted(by_part) == ["00000", "00001", "00002"]
    assert sum(map(len, by_part.values())) == len(set().union(*by_part.values()))
    # every chunk plants its own: the names-only county's 合计 row once per part file
    assert sum(d["kind"] == "total_row" for d in defects) == 3
    with duckdb.connect(str(out / "processed" / "povmon.duckdb"), read_only=True) as con:
        got = {"quarantine": set(con.execute("select period, source_file, source_row, reason from quarantine").fetchall()),
               "finding": set(con.execute("select period, source_file, source_row, reason from findings").fetchall())}
        households = con.execute("select count(*), count(distinct household_key) from households").fetchone()
    missed = [d for d in defects
              if (d["period"], d["file"], int(d["source_row"]), d["expected_reason"]) not in got[d["expected_disposition"]]]
    assert not missed, missed[:3]
    assert households[0] == households[1] > 0


def test_only_planted_rows_quarantined(chunked_city):
    """An ID or 户编号 repeated by a later chunk would be quarantined as a duplicate no truth row names."""
    out, summary = chunked_city
    with open(out / "truth" / "defects.csv", encoding="utf-8") as fh:
        planted = {(d["file"], int(d["source_row"])) for d in csv.DictReader(fh) if d["expected_disposition"] == "quarantine"}
    with duckdb.connect(str(out / "processed" / "povmon.duckdb"), read_only=True) as con:
        quarantined = set(con.execute("select source_file, source_row from quarantine where source_kind = 'registry'").fetchall())
        persons, keys = con.execute("select count(*), count(distinct person_key) from persons").fetchone()
    assert quarantined and quarantined <= planted
    assert persons == keys > 0.9 * summary["persons"][PERIOD]
