"""measures.pipeline.run on a tiny processed directory: schema, labels, determinism, view."""

from __future__ import annotations

import duckdb

from pipelines import warehouse
from pipelines.measures.pipeline import MEASURES_COLUMNS, run
from tiny_city import PERIOD, write_processed


def test_run_writes_deterministic_labelled_table(tmp_path):
    processed = write_processed(tmp_path / "processed")
    duckdb.connect(str(processed / "povmon.duckdb")).close()  # ingest owns creating it
    summary = run(processed, PERIOD)
    out = warehouse.stable_path(processed, "measures", PERIOD)
    first = out.read_bytes()
    assert summary["view_registered"] and summary["survey"]
    assert summary["city_incidence_administrative"] == "0.29%"

    con = duckdb.connect(str(processed / "povmon.duckdb"))
    assert tuple(c[0] for c in con.execute("describe measures").fetchall()) == MEASURES_COLUMNS
    # registry estimates carry no sampling error (NULL, not 0); survey ones do
    assert con.execute("select count(*) from measures where data_source = 'registry' "
                       "and std_error is not null").fetchall()[0][0] == 0
    assert con.execute("select count(*) from measures where data_source = 'survey' and measure = 'fgt0' "
                       "and std_error is null").fetchall()[0][0] == 0
    # ... and so no interval: before, greatest(0, NULL) / least(1, NULL) made every registry CI [0, 1]
    registry = con.execute("select count(*), count(ci_low), count(ci_high) from measures "
                           "where data_source = 'registry'").fetchone()
    assert registry[0] > 0 and registry[1:] == (0, 0)
    assert con.execute("select count(*) from measures where std_error is not null and "
                       "(ci_low is null or ci_high is null)").fetchone()[0] == 0
    csv_rows = (out.parent / "measures.csv").read_text(encoding="utf-8-sig").splitlines()
    header = csv_rows[0].split(",")
    lo, hi, src = header.index("ci_low"), header.index("ci_high"), header.index("data_source")
    registry_csv = [r.split(",") for r in csv_rows[1:] if r.split(",")[src] == "registry"]
    assert registry_csv and all(r[lo] == "" and r[hi] == "" for r in registry_csv)
    assert {r[0] for r in con.execute("select distinct data_source from measures").fetchall()} == {"registry", "survey"}
    # CIs are estimate ± z·SE, truncated to the measure's range: shares stay within [0, 1]
    rows = con.execute("select measure, estimate, std_error, ci_low, ci_high from measures "
                       "where data_source = 'survey' and std_error is not null").fetchall()
    z = 1.959963984540054
    for measure, est, se, lo, hi in rows:
        assert lo == max(0.0, est - z * se) or abs(lo - max(0.0, est - z * se)) < 1e-9, measure
        if measure != "mean_income":
            assert 0 <= lo <= est <= hi <= 1, measure
    assert any(est - z * se < 0 for _m, est, se, _lo, _hi in rows), "the tiny design has a CI that needs truncating"
    # one row per key
    assert con.execute("select count(*) - count(distinct (data_source, region_level, region_code, "
                       "population_group, measure, line_name)) from measures").fetchall()[0][0] == 0
    names = dict(con.execute("select region_code, region_name from measures where region_level in "
                             "('city', 'county')").fetchall())
    assert names["1405"] == "晋城市" and names["140522"] == "阳城县"
    con.close()

    run(processed, PERIOD)
    assert out.read_bytes() == first
    assert (out.parent / "measures.csv").exists()
    assert not list(out.parent.glob(".*tmp"))


def test_an_empty_survey_partition_is_no_survey_and_says_so(tmp_path):
    """Every survey row quarantined leaves an empty partition: no "survey": true with nothing behind it."""
    processed = write_processed(tmp_path / "processed")
    path = warehouse.stable_path(processed, "survey_households", PERIOD)
    con = duckdb.connect()
    con.execute(f"copy (select * from read_parquet('{path}') where false) to '{tmp_path / 'empty.parquet'}' "
                "(format parquet)")
    con.close()
    path.unlink()
    (tmp_path / "empty.parquet").rename(path)
    summary = run(processed, PERIOD)
    assert summary["survey"] is False and summary["survey_rows"] == 0
    assert "every survey row quarantined" in summary["survey_warning"]
    assert "survey" not in summary["rows"] and summary["rows"]["registry"] > 0


def test_stale_household_table_is_refused_with_one_line(tmp_path):
    """Measures reads the household facts validate stored; a household ingested after validate
    (no row there) stops the stage instead of counting it as having no ill or disabled member."""
    import pytest

    from benchmarks import factory

    processed = write_processed(tmp_path / "processed")
    late, members = factory.household({"key": "late", "village": "140524100200", "size": 2}, period=PERIOD)
    households = duckdb.sql(f"select * from {warehouse.scan(processed, 'households', PERIOD)}").df()
    persons = duckdb.sql(f"select * from {warehouse.scan(processed, 'persons', PERIOD)}").df()
    factory.write(processed, {"households": households.to_dict("records") + [late],
                              "persons": persons.to_dict("records") + members}, period=PERIOD)
    with pytest.raises(FileNotFoundError) as err:
        run(processed, PERIOD)
    assert str(err.value) == (f"measures {PERIOD}: int_household_deprivations for {PERIOD} has no row for 1 "
                              f"household(s) of households: run povmon validate --period {PERIOD} again")
    assert warehouse.scan(processed, "measures", PERIOD) is None  # nothing written
