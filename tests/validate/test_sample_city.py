"""The sample city (session fixture ingested_city): the CI run of the same checks. The ledger
must list exactly the households the generator planted as deprived (truth/deprivations.csv)."""

from __future__ import annotations

import csv
import shutil

import duckdb
import pytest

from pipelines import warehouse
from pipelines.keys import household_key
from pipelines.validate import pipeline

PERIODS = ("2020Q1", "2020Q2")


@pytest.fixture(scope="module")
def validated(ingested_city, tmp_path_factory):
    """Both quarters validated on a copy of the processed tables (the fixture stays untouched)."""
    root = tmp_path_factory.mktemp("validated")
    processed = shutil.copytree(ingested_city / "processed", root / "processed", symlinks=True)
    summaries = {p: pipeline.run(processed, p, docs_dir=root / "docs" / p, reports_dir=root / "reports",
                                 raw_dir=ingested_city / "raw")
                 for p in PERIODS}
    return ingested_city, processed, root, summaries


def test_sample_city_passes_the_gate_and_writes_docs(validated):
    _city, _processed, root, summaries = validated
    for period, s in summaries.items():
        assert s["data_quality"]["success"], s["data_quality"]
        assert (root / "docs" / period / "index.html").exists()
        assert s["ledger"]["excel"]
    assert summaries["2020Q2"]["known_findings"], "the synthetic city plants defects ingest reports"


def test_ledger_matches_planted_deprivations(validated):
    city, processed, _root, _s = validated
    with open(city / "truth" / "deprivations.csv", encoding="utf-8-sig") as fh:
        truth = list(csv.DictReader(fh))
    assert {r["edge_case"] for r in truth} >= {"age_15y364d", "send_teaching", "newborn", "C_renovated",
                                               "quantity_349", "quantity_35"}
    for period in PERIODS:
        expected = {(household_key(r["household_id"]), r["criterion"]) for r in truth
                    if r["period"] == period and r["deprived"] == "true"}
        part = warehouse.stable_path(processed, "problems", period)
        got = set(duckdb.sql(f"select household_key, criterion from read_parquet('{part}') "
                             f"where status <> '已整改'").fetchall())
        assert got - expected == set(), f"{period}: false positives"
        assert expected - got == set(), f"{period}: misses"


def test_planted_defect_on_a_copy_fails_the_gate(validated, tmp_path):
    _city, processed, _root, _s = validated
    copy = shutil.copytree(processed, tmp_path / "processed", symlinks=True)
    part = warehouse.partitions(copy, "persons")["2020Q2"]
    duckdb.execute(f"copy (select * from read_parquet('{part}') union all (select * from read_parquet('{part}') "
                   f"limit 1)) to '{tmp_path / 'p.parquet'}' (format parquet)")
    dropped_in = copy / "persons" / "period=2020Q2" / "data.parquet"  # a partition dropped in by hand is imported
    dropped_in.parent.mkdir(parents=True)
    shutil.move(tmp_path / "p.parquet", dropped_in)
    with pytest.raises(pipeline.DataQualityError, match="人员键唯一.*: 2 rows"):
        pipeline.run(copy, "2020Q2", docs_dir=tmp_path / "docs", reports_dir=tmp_path / "reports")


def test_each_county_workbook_lists_exactly_its_problems(validated):
    """Read back: the township sheets of each county's 问题清单 hold the county's `problems` rows, one
    sheet row per row (户编号 hashed back to the table's key), each under its own township's sheet,
    with the 户主 named; the 汇总 sheet's county counts are the table's."""
    from collections import Counter

    from openpyxl import load_workbook

    from pipelines.policy import load_policy

    _city, processed, _root, summaries = validated
    led = load_policy().validate.ledger
    sheet, summary_labels = led.sheet, led.summary
    part = warehouse.stable_path(processed, "problems", "2020Q2")
    books = summaries["2020Q2"]["ledger"]["excel"]
    counties = {c for (c,) in duckdb.sql(f"select distinct county_code from read_parquet('{part}')").fetchall()}
    assert len(books) == len(counties) >= 2
    for book in books:
        county = book.rsplit("/", 1)[-1][:6]
        table = Counter(duckdb.sql(
            f"select household_key, criterion_label, status, township_name from read_parquet('{part}') "
            f"where county_code = '{county}'").fetchall())
        wb = load_workbook(book, read_only=True)
        printed = Counter()
        for ws in wb.worksheets[1:]:
            rows = list(ws.iter_rows(min_row=2, values_only=True))
            h = rows[0]
            for r in rows[1:]:
                assert r[h.index(sheet["township_name"])] == ws.title
                assert r[h.index(sheet["head_name"])] and not r[h.index(sheet["head_name"])].startswith("(")
                printed[(household_key(r[h.index(sheet["household_id"])]), r[h.index(sheet["criterion_label"])],
                         r[h.index(sheet["status"])], ws.title)] += 1
        assert printed == table, county
        rows = list(wb.worksheets[0].iter_rows(min_row=2, values_only=True))
        h = rows[0]
        total = next(r for r in rows[1:] if r[h.index(summary_labels["region_code"])] == county)
        statuses = Counter(s for (_k, _c, s, _t), n in table.items() for _ in range(n))
        assert total[h.index(summary_labels["new_problems"])] == statuses[led.status_new]
        assert total[h.index(summary_labels["cleared"])] == statuses[led.status_cleared]
        assert total[h.index(summary_labels["open_problems"])] == sum(table.values()) - statuses[led.status_cleared]
