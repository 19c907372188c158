"""Ingest replaces only its own tables in processed_dir: other stages' outputs, other quarters'
partitions, .gitkeep and the other views stay; reference rows have a clean home."""

from __future__ import annotations

import duckdb

from pipelines import warehouse
from pipelines.ingest.pipeline import OUTPUTS, UNITS_TABLE, run
from tests.ingest.test_ingest_defects import REFERENCE, build_raw


def views(processed) -> set[str]:
    with duckdb.connect(str(processed / "povmon.duckdb"), read_only=True) as con:
        return {r[0] for r in con.execute("select view_name from duckdb_views() where not internal").fetchall()}


def test_ingest_keeps_what_it_does_not_own(tmp_path):
    raw, processed = tmp_path / "raw", tmp_path / "processed"
    build_raw(raw)  # one quarter: 2020Q4
    processed.mkdir()
    (processed / ".gitkeep").touch()
    with duckdb.connect() as con, warehouse.transaction(processed, stage="test") as tx:
        tx.write_table(con, "select '2020Q4' as period, 0.1 as estimate", "measures", "2020Q4", order_by="1")
        tx.write_table(con, "select '2019Q4' as period, 'old' as household_key", "households", "2019Q4", order_by="1")
        tx.write_table(con, "select 'stale' as household_key", "households", "__HIVE_DEFAULT_PARTITION__",
                       order_by="1")
    measures = warehouse.partitions(processed, "measures")["2020Q4"]
    measures_bytes = measures.read_bytes()
    reader = duckdb.connect(str(processed / "povmon.duckdb"), read_only=True)

    run(raw, processed)

    assert reader.execute("select count(*) from measures").fetchone() == (1,)  # an open reader is not disturbed
    reader.close()  # (in one process, DuckDB hands new connections the open instance until it is closed)
    assert (processed / ".gitkeep").exists()
    kept = warehouse.partitions(processed, "measures")["2020Q4"]
    assert kept.read_bytes() == measures_bytes and kept.stat().st_ino == measures.stat().st_ino  # a hard link
    assert sorted(warehouse.partitions(processed, "households")) == ["2019Q4", "2020Q4"]  # not-a-quarter dropped
    assert views(processed) == set(OUTPUTS) | {UNITS_TABLE, "measures"}
    with duckdb.connect(str(processed / "povmon.duckdb"), read_only=True) as con:
        assert con.execute("select distinct period from households order by 1").fetchall() == [("2019Q4",), ("2020Q4",)]
        assert con.execute("select period from ingest_manifest where source_file = ?", [REFERENCE]).fetchall() \
            == [("reference",)]
    assert warehouse.stable_path(processed, "ingest_manifest").is_file()
    assert not [p for p in tmp_path.iterdir() if ".build" in p.name]
    assert not list((processed / warehouse.STAGING).iterdir())


def test_ingest_imports_a_warehouse_of_the_old_layout(tmp_path):
    """Table folders directly under processed_dir (before snapshots; or dropped in by hand) become
    part of the first snapshot, then go; the old layout's build folder beside it goes too."""
    raw, processed = tmp_path / "raw", tmp_path / "processed"
    build_raw(raw)
    with duckdb.connect() as con:
        warehouse.write_table(con, "select '2019Q4' as period, 'old' as household_key", processed, "households",
                              "2019Q4", order_by="1")
        warehouse.write_table(con, "select '2020Q4' as period, 0.1 as estimate", processed, "measures", "2020Q4",
                              order_by="1")
    old_measures = (processed / "measures" / "period=2020Q4" / "data.parquet").read_bytes()
    (tmp_path / ".processed.build-4242" / "out").mkdir(parents=True)  # a killed run of the old layout

    run(raw, processed)

    assert not (processed / "households").exists() and not (processed / "measures").exists()
    assert not (tmp_path / ".processed.build-4242").exists()
    assert sorted(warehouse.partitions(processed, "households")) == ["2019Q4", "2020Q4"]
    assert warehouse.partitions(processed, "measures")["2020Q4"].read_bytes() == old_measures
    assert views(processed) == set(OUTPUTS) | {UNITS_TABLE, "measures"}


def test_ingest_with_periods_keeps_the_other_quarters(tmp_path):
    raw, processed = tmp_path / "raw", tmp_path / "processed"
    build_raw(raw)
    run(raw, processed)
    current = warehouse.snapshot(processed)
    first = {p.relative_to(current): p.read_bytes() for p in current.rglob("*.parquet")}
    (raw / "registry" / "2020Q4").rename(raw / "registry" / "2020Q3")  # the same exports, another quarter
    (raw / "pairing" / "2020Q4").rename(raw / "pairing" / "2020Q3")

    run(raw, processed, periods=["2020Q3"])

    assert sorted(warehouse.partitions(processed, "persons")) == ["2020Q3", "2020Q4"]
    for rel, data in first.items():
        if "period=2020Q4" in str(rel):
            assert (warehouse.snapshot(processed) / rel).read_bytes() == data, rel
    with duckdb.connect(str(processed / "povmon.duckdb"), read_only=True) as con:
        assert dict(con.execute("select period, count(*) from ingest_manifest where source_kind = 'registry' "
                                "group by 1").fetchall()) == {"2020Q3": 3, "2020Q4": 3}
