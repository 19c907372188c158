"""benchmarks/county_readers.py on the small city: every registry file of a quarter read through
ingest's readers, its row count the one ingest recorded for that file (timings never asserted)."""

from __future__ import annotations

import duckdb

from benchmarks.county_readers import bench_readers


def test_rows_read_per_sheet_match_ingest_manifest(ingested_city):
    result = bench_readers(ingested_city / "raw", "2020Q2")
    with duckdb.connect(str(ingested_city / "processed" / "povmon.duckdb"), read_only=True) as con:
        manifest = {(f, s or ""): n for f, s, n in con.execute(
            "select source_file, sheet, rows_read from ingest_manifest "
            "where source_kind = 'registry' and period = '2020Q2'").fetchall()}
    got = {(f"registry/2020Q2/{f['file']}", sheet): n for f in result["files"] for sheet, n in f["sheets"].items()}
    assert len(result["files"]) == 6 and {f for f, _ in manifest} == {f for f, _ in got}
    assert manifest.items() <= got.items()
    # what ingest read and set aside: only the names-only workbook's code list (a few rows)
    extra = {k: n for k, n in got.items() if k not in manifest}
    assert {s for _, s in extra} <= {"代码表"} and sum(extra.values()) < 10
    assert set(result["by_format"]) == {"csv", "xlsx", "dta", "sav"}
    assert sum(a["rows"] for a in result["by_format"].values()) == result["rows"] == sum(got.values())
