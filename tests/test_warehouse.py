"""pipelines.warehouse on real DuckDB and tiny Parquet files: layout, scan, atomic and
deterministic writes, the views in povmon.duckdb."""

from __future__ import annotations

import os
import subprocess
import sys

import duckdb
import pytest

from pipelines import warehouse as wh


@pytest.fixture
def con():
    with duckdb.connect() as c:
        yield c


def rows(con, source: str, order: str = "1") -> list[tuple]:
    return con.execute(f"select * from {source} order by {order}").fetchall()


def test_sql_literal_and_escape():
    assert wh.sql_literal("it's") == "'it''s'"
    assert wh.sql_escape("a'b'") == "a''b''"
    assert wh.sql_literal(None) == "null"


def test_partition_path_layout(tmp_path):
    assert wh.partition_path(tmp_path, "risk", "2020Q2") == tmp_path / "risk" / "period=2020Q2" / "data.parquet"
    assert wh.partition_path(tmp_path, "population", 2020, key="year") == \
        tmp_path / "population" / "year=2020" / "data.parquet"
    assert wh.partition_path(tmp_path, "regions") == tmp_path / "regions" / "data.parquet"
    for bad in ("../x", "a/b", ".hidden", ""):
        with pytest.raises(ValueError):
            wh.partition_path(tmp_path, "risk", bad)
    with pytest.raises(ValueError):
        wh.partition_path(tmp_path, "risk; drop", "2020Q2")


def test_scan_brings_partition_columns_back(tmp_path, con):
    """Files without their partition column (as ingest used to write) read with it, typed."""
    for q in ("2020Q1", "2020Q2"):
        wh.write_table(con, f"select 'h{q[-1]}' as household_key", tmp_path, "households", q, order_by="1")
    wh.write_table(con, "select 'v1' as village_code, 10 as rural_population", tmp_path, "population", 2020,
                   key="year", order_by="1")

    one = wh.scan(tmp_path, "households", "2020Q2")
    assert rows(con, one) == [("h2", "2020Q2")]
    assert rows(con, wh.scan(tmp_path, "households")) == [("h1", "2020Q1"), ("h2", "2020Q2")]
    pop = wh.scan(tmp_path, "population")
    assert con.execute(f"select year, rural_population from {pop} where year = 2020").fetchall() == [(2020, 10)]
    assert {c[0]: c[1] for c in con.execute(f"describe select * from {pop}").fetchall()}["year"] == "INTEGER"

    assert wh.scan(tmp_path, "households", "2019Q4") is None
    assert wh.scan(tmp_path, "measures") is None
    assert wh.scan(tmp_path, "population", "2020Q2") is None  # not partitioned by quarter


def test_scan_keeps_the_files_own_period_column_in_place(tmp_path, con):
    wh.write_table(con, "select '2020Q2' as period, 1.5 as estimate", tmp_path, "measures", "2020Q2", order_by="1")
    assert [c[0] for c in con.execute(f"describe select * from {wh.scan(tmp_path, 'measures')}").fetchall()] == \
        ["period", "estimate"]


def test_upto_leaves_out_later_quarters_only(tmp_path, con):
    for part in ("2020Q1", "2020Q2", "2020Q3", "reference"):
        wh.write_table(con, "select 1 as n", tmp_path, "findings", part, order_by="1")
    got = rows(con, wh.scan(tmp_path, "findings", upto="2020Q2"), "period")
    assert [r[1] for r in got] == ["2020Q1", "2020Q2", "reference"]
    assert [p.parent.name for p in wh.table_files(tmp_path, "findings", ["2020Q3", "2021Q1"])] == ["period=2020Q3"]


def test_paths_with_quotes_and_glob_characters(tmp_path, con):
    odd = tmp_path / "it's [a] dir"
    wh.write_table(con, "select 1 as n, '2020Q1' as period", odd, "risk", "2020Q1", order_by="1")
    assert rows(con, wh.scan(odd, "risk")) == [(1, "2020Q1")]
    assert wh.refresh_views(odd) == ["risk"]


def test_write_is_deterministic_and_restores_threads(tmp_path, con):
    con.execute("set threads = 2")
    con.execute("create table a as select i, i % 7 as k from range(5000) t(i)")
    con.execute("create table b as select * from a order by random()")
    n = wh.write_table(con, "a", tmp_path / "x", "t", "2020Q1", order_by="k, i")
    wh.write_table(con, "select * from b -- a trailing comment", tmp_path / "y", "t", "2020Q1", order_by=["k", "i"])
    assert n == 5000
    first = wh.partition_path(tmp_path / "x", "t", "2020Q1").read_bytes()
    assert first == wh.partition_path(tmp_path / "y", "t", "2020Q1").read_bytes()
    assert con.execute("select current_setting('threads')").fetchone()[0] == 2
    assert not con.execute("select 1 from duckdb_tables() where table_name like '_povmon_sorted%'").fetchall()


def test_write_keeps_row_groups_small_and_in_order(tmp_path, con):
    # row groups of 122 880 rows: the Parquet writer buffers one row group (a million rows of a wide
    # table did not fit beside a stage's tables under the memory cap)
    con.execute("create table big as select 299999 - i as i from range(300000) t(i)")
    wh.write_table(con, "big", tmp_path, "t", "2020Q1", order_by="i")
    path = wh.sql_literal(str(wh.partition_path(tmp_path, "t", "2020Q1")))
    groups = con.execute(f"select row_group_id, max(row_group_num_rows) from parquet_metadata({path}) "
                         "group by 1 order by 1").fetchall()
    assert [n for _, n in groups] == [122880, 122880, 54240]
    assert con.execute(f"select count(*) from (select i, row_number() over () - 1 as pos from read_parquet({path})) "
                       "where i <> pos").fetchone()[0] == 0


def test_failed_write_leaves_the_old_file(tmp_path, con):
    target = wh.partition_path(tmp_path, "t", "2020Q1")
    wh.write_table(con, "select 1 as n", tmp_path, "t", "2020Q1", order_by="n")
    before = target.read_bytes()
    with pytest.raises(duckdb.Error, match="boom"):
        wh.write_table(con, "select case when i = 4000 then error('boom') else i end as n from range(5000) t(i)",
                       tmp_path, "t", "2020Q1", order_by="n")
    assert target.read_bytes() == before
    assert [p.name for p in target.parent.iterdir()] == ["data.parquet"]  # no temp file left
    assert not con.execute("select 1 from duckdb_tables() where table_name like '_povmon_sorted%'").fetchall()


def test_refresh_views_picks_up_new_tables_and_survives_an_open_reader(tmp_path, con):
    processed = tmp_path / "processed"
    wh.write_table(con, "select 'h1' as household_key, '2020Q1' as period", processed, "households", "2020Q1",
                   order_by="1")
    assert wh.refresh_views(processed) == ["households"]
    reader = duckdb.connect(str(processed / "povmon.duckdb"), read_only=True)
    try:
        wh.write_table(con, "select 'v' as level", processed, "regions", order_by="1")
        (processed / "notes").mkdir()  # a directory without Parquet is not a table
        assert wh.refresh_views(processed) == ["households", "regions"]
        assert reader.execute("select household_key from households").fetchall() == [("h1",)]  # old file, still fine
    finally:
        reader.close()
    with duckdb.connect(str(processed / "povmon.duckdb"), read_only=True) as fresh:
        assert fresh.execute("select level from regions").fetchall() == [("v",)]
    assert sorted(p.name for p in processed.iterdir() if p.is_file()) == [".writer.lock", "povmon.duckdb"]


def test_views_hold_absolute_paths(tmp_path, con):
    """A reader in another working directory, given a relative path to the database, sees the data."""
    processed = tmp_path / "data" / "processed"
    wh.write_table(con, "select 3 as n", processed, "regions", order_by="1")
    wh.refresh_views(os.path.relpath(processed))
    code = ("import duckdb; print(duckdb.connect('data/processed/povmon.duckdb', read_only=True)"
            ".sql('select n from regions').fetchall())")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[(3,)]"


# ---- config/warehouse.toml [engine]: every stage's DuckDB limits ---------------------------------

def _engine_policy(**engine):
    from pipelines.policy import load_policy

    return load_policy(overrides={"warehouse": {"engine": engine}})


def test_connect_applies_engine_limits(tmp_path, monkeypatch):
    monkeypatch.delenv(wh.MEMORY_ENV, raising=False)
    monkeypatch.delenv(wh.THREADS_ENV, raising=False)
    policy = _engine_policy(memory_limit="512MB", threads=1, temp_directory=str(tmp_path / "mine"))
    with wh.connect(policy, spill=tmp_path / "tx") as con:
        limit, threads, temp = con.execute("select current_setting('memory_limit'), current_setting('threads'), "
                                           "current_setting('temp_directory')").fetchone()
    assert limit == "488.2 MiB"  # DuckDB shows 512 MB (10^6 bytes) in MiB: 512e6 / 2^20
    assert threads == 1
    assert temp == str(tmp_path / "mine")  # [engine] temp_directory wins over the caller's spill folder


def test_connect_spills_in_callers_folder_and_env_overrides(tmp_path, monkeypatch):
    policy = _engine_policy(memory_limit="1GB", threads=64, temp_directory="")
    monkeypatch.setenv(wh.MEMORY_ENV, "256MB")
    monkeypatch.delenv(wh.THREADS_ENV, raising=False)
    settings = wh.engine_settings(policy, spill=tmp_path / "spill")
    assert settings["memory_limit"] == "256MB"
    assert settings["threads"] == str(os.cpu_count() or 1)  # 64 asked: never more than the cores
    assert settings["temp_directory"] == str(tmp_path / "spill")


def test_engine_memory_limit_must_be_a_size():
    from pipelines.policy import PolicyError

    with pytest.raises(PolicyError, match="warehouse.*memory_limit"):
        _engine_policy(memory_limit="lots", threads=2)
