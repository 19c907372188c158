"""`make bench-national` (benchmarks/national.py) at a tiny size: every stage timed once, its row
counts those of the raw files and the warehouse, the README table between its markers with one row
per stage; the pure parts (projection, skip, merge, markers) by hand. Timings are never asserted."""

from __future__ import annotations

import json

import duckdb
import pyarrow.csv as pcsv
import pytest

from benchmarks import national

README = "# x\n\nbefore\n\n" + national.BEGIN + "\nold\n" + national.END + "\n\nafter\n"
COLUMNS = ["persons", "format", "stage", "rows", "wall s", "CPU s", "peak RSS MB", "rows/s", "reference s", "ratio",
           "load"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    base = tmp_path_factory.mktemp("national")
    readme = base / "README.md"
    readme.write_text(README, encoding="utf-8")
    code = national.main(["--sizes", "1500", "--formats", "csv", "--data", str(base / "data"),
                          "--json", str(base / "national.json"), "--readme", str(readme), "--keep-run"])
    assert code == 0
    return base, json.loads((base / "national.json").read_text(encoding="utf-8"))


def table_rows(text: str) -> list[list[str]]:
    body = text.split(national.BEGIN, 1)[1].split(national.END, 1)[0]
    rows = [line.strip().strip("|").split("|") for line in body.splitlines() if line.startswith("|")]
    return [[c.strip() for c in r] for r in rows]


def test_every_stage_counts_the_rows_the_warehouse_holds(tiny):
    base, results = tiny
    [entry] = results["entries"]
    assert list(entry["stages"]) == list(national.STAGES)
    root = base / "data" / "csv-1500"
    # ingest read every data row of the quarter's raw registry CSVs (counted here with pyarrow)
    raw_rows = sum(pcsv.read_csv(f).num_rows for f in (root / "raw" / "registry" / national.PERIOD).glob("*.csv"))
    assert entry["stages"]["ingest"]["rows"] == raw_rows == entry["references"]["duckdb_copy"]["rows"]
    processed = root / "run" / "processed"
    with duckdb.connect() as con:
        persons = con.execute(f"select count(*) from read_parquet('{processed}/current/persons/*/*.parquet', "
                              "hive_partitioning = true) where period = ?", [national.PERIOD]).fetchone()[0]
    assert persons == entry["persons"] > 0
    for stage in national.STAGES[1:]:
        assert entry["stages"][stage]["rows"] == persons, stage
    for t in entry["stages"].values():
        assert t["seconds"] > 0 and t["peak_rss_mb"] > 0
        assert t["rows_per_second"] == round(t["rows"] / t["seconds"])
    # the bulk CSV mode plants no defects: every raw row loads
    assert raw_rows == persons
    assert entry["references"]["reference_sql"]["outputs"]["ref_risk"] > 0
    pair = entry["stages"]["measures"]["seconds"] + entry["stages"]["risk"]["seconds"]
    assert entry["ratios"]["measures+risk"] == round(pair / entry["references"]["reference_sql"]["seconds"], 2)
    # ingest's like-for-like yardstick copies every file ingest reads: the registry and more
    all_files = entry["references"]["duckdb_copy_all"]
    assert all_files["rows"] > raw_rows
    assert entry["ratios"]["ingest_all_files"] == round(entry["stages"]["ingest"]["seconds"] / all_files["seconds"], 2)


def test_readme_table_has_a_row_per_stage(tiny):
    base, results = tiny
    text = (base / "README.md").read_text(encoding="utf-8")
    assert text.startswith("# x\n\nbefore\n\n") and text.endswith("\n\nafter\n") and "\nold\n" not in text
    rows = table_rows(text)
    assert rows[0] == COLUMNS and all(len(r) == len(COLUMNS) for r in rows)
    stages = [r[2] for r in rows[2:]]
    assert stages == ["synth (generator)", "ingest", "ingest vs every file it reads", *national.STAGES[1:],
                      "measures + risk", "**raw → report**"]
    persons = f"{results['entries'][0]['persons']:,}"
    assert {r[0] for r in rows[2:]} == {persons} and {r[1] for r in rows[2:]} == {"csv"}
    ingest = rows[2 + 1 + national.STAGES.index("ingest")]
    assert ingest[3] == persons and ingest[9] != ""  # rows and a ratio to the plain read + write


def entry(n: int, fmt: str, seconds: float, raw_bytes: int) -> dict:
    return {"persons_asked": n, "persons": n, "format": fmt, "raw_bytes": raw_bytes, "total_seconds": seconds,
            "synth": {"seconds": seconds / 2}, "stages": {"ingest": {"seconds": seconds * 0.75},
                                                        "risk": {"seconds": seconds * 0.25}}}


def test_projection_is_linear_from_the_largest_run_of_the_format():
    runs = [entry(1_000, "csv", 10.0, 1_000), entry(2_000, "csv", 30.0, 2_000), entry(5_000, "parquet", 1.0, 1)]
    p = national.projection(runs, 20_000, "csv", free_bytes=10**9)
    assert p["from_persons"] == 2_000
    assert p["projected_seconds"] == 300 and p["projected_synth_seconds"] == 150
    assert p["projected_raw_bytes"] == 20_000 and p["projected_stage_seconds"] == {"ingest": 225, "risk": 75}
    assert national.projection(runs, 20_000, "xlsx", free_bytes=1) is None


def test_a_size_that_would_not_fit_is_skipped_with_its_reason():
    p = national.projection([entry(1_000, "csv", 60.0, 10 * 2**30)], 10_000, "csv", free_bytes=200 * 2**30)
    assert national.should_skip(p, budget=None) is None  # 100 GiB fits in 200
    # stages 60 s + synth 30 s at 1 000 persons -> 900 s at 10 000
    assert national.should_skip(p, budget=900) is None
    assert national.should_skip(p, budget=600) == ("projected 15 min (synth + stages, linear from 1,000 persons) "
                                                   "> budget 10 min")
    p = national.projection([entry(1_000, "csv", 60.0, 10 * 2**30)], 100_000, "csv", free_bytes=200 * 2**30)
    why = national.should_skip(p, budget=None)
    assert why == "projected raw data 1000.0 GiB > free disk 200.0 GiB"


def test_merge_replaces_a_rerun_and_markers_are_required(tmp_path):
    results = national.merge({"entries": [entry(1_000, "csv", 1.0, 1), entry(1_000, "parquet", 2.0, 1)]},
                             entry(1_000, "csv", 5.0, 1))
    assert sorted((e["format"], e["total_seconds"]) for e in results["entries"]) == [("csv", 5.0), ("parquet", 2.0)]
    readme = tmp_path / "README.md"
    readme.write_text("no markers\n", encoding="utf-8")
    with pytest.raises(ValueError, match="markers"):
        national.write_readme(readme, "table")
    assert readme.read_text(encoding="utf-8") == "no markers\n"


def test_cpu_of_a_child_process_counts_in_the_stage():
    """A stage's CPU includes its children's (the report's Chromium): a child that burns 1 CPU
    second and then idles (so it is sampled alive) adds at least that much to a parent that waits."""
    import subprocess
    import sys

    burn = ("import time\nstart = time.process_time()\nwhile time.process_time() - start < 1.0:\n    pass\n"
            "time.sleep(1.0)\n")
    _, t = national.measure(lambda: subprocess.run([sys.executable, "-c", burn], check=True))
    assert t["cpu_seconds"] >= 0.95
