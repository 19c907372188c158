"""The DuckDB adapter: without it GX reads no rows from duckdb-engine; with it, real counts."""

from __future__ import annotations

import duckdb

from pipelines.validate import gx_duckdb


def _run(db):
    ge = gx_duckdb.gx()
    ctx = gx_duckdb.context(None)
    ds = ctx.data_sources.add_sql(name="t", connection_string=f"duckdb:///{db}")
    batch = ds.add_table_asset(name="t", table_name="t").add_batch_definition_whole_table("all").get_batch()
    try:
        return batch.validate(ge.expectations.ExpectColumnValuesToBeInSet(column="s", value_set=["y"]))
    finally:
        ds.get_engine().dispose()


def test_adapter_fixes_duckdb_metric_reads(tmp_path):
    db = tmp_path / "t.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("create table t as select i, case when i % 5 = 0 then 'x' else 'y' end as s from range(10) r(i)")
    gx_duckdb.gx()
    gx_duckdb.uninstall_duckdb_adapter()
    try:
        broken = _run(db)
    finally:
        gx_duckdb.install_duckdb_adapter()
    assert not broken.success and broken.result.get("unexpected_count") is None  # the GX bug
    fixed = _run(db)
    assert fixed.result["unexpected_count"] == 2 and fixed.result["element_count"] == 10
