"""The DuckDB adapter: without it GX reads no rows from duckdb-engine; with it, real counts."""

from __future__ import annotations

import subprocess
import sys

import duckdb
import pytest

from pipelines.config import PROJECT_ROOT
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



def test_an_unexpected_rows_query_is_scanned_once_for_its_rows_and_its_count(tmp_path, monkeypatch):
    """GX asks an UnexpectedRowsExpectation's query twice (its rows, then COUNT(*) around it, or
    the other way): the adapter runs it once on DuckDB and counts the rows it read. Hand count:
    i in 0..9 with i % 4 = 1 -> 1, 5, 9 (3 rows); a query matching nothing counts 0."""
    from great_expectations.execution_engine.sqlalchemy_execution_engine import SqlAlchemyExecutionEngine

    db = tmp_path / "t.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("create table t as select i from range(10) r(i)")
    ge = gx_duckdb.gx()
    ran: list[str] = []
    recover = SqlAlchemyExecutionEngine._execute_query_with_recovery

    def counted(connection, query):
        ran.append(str(query))
        return recover(connection, query)

    monkeypatch.setattr(SqlAlchemyExecutionEngine, "_execute_query_with_recovery", staticmethod(counted))
    ctx = gx_duckdb.context(None)
    ds = ctx.data_sources.add_sql(name="t", connection_string=f"duckdb:///{db}",
                                  kwargs={"connect_args": {"read_only": True}})
    batch = ds.add_table_asset(name="t", table_name="t").add_batch_definition_whole_table("all").get_batch()
    try:
        found = [batch.validate(ge.expectations.UnexpectedRowsExpectation(
            unexpected_rows_query=f"select * from {{batch}} where i % 4 = {r}")) for r in (1, 7)]
    finally:
        ds.get_engine().dispose()
    assert [(f.success, f.result.get("observed_value")) for f in found] == [(False, 3), (True, 0)], found
    for r in (1, 7):
        scans = [q for q in ran if f"i % 4 = {r}" in q]
        assert len(scans) == 1 and not scans[0].startswith("SELECT COUNT(*)"), ran  # once, as the rows query
    assert sum("AS unexpected_row_count" in q for q in ran) == 2  # the counts: a constant each
    # each query's rows are let go once both its rows and its count were answered (not held for the
    # rest of the checkpoint: at 1 M persons a failing expectation's rows are many)
    assert batch.data.execution_engine.__dict__.get("_povmon_text_rows") == {}

# GX imports every PySpark module when pyspark is installed (it is: --engine spark). Spark Connect's
# import calls sys.exit(0) in a process whose main module has no file and no spec (a pytest-xdist
# worker, `python -c`) when grpc is missing: validate died with exit 0 in such a process.
FILELESS_MAIN = """
import sys
sys.modules['__main__'].__spec__ = None
sys.modules['__main__'].__dict__.pop('__file__', None)
{before}
from pipelines.validate import gx_duckdb
ge = gx_duckdb.gx()
import great_expectations.compatibility.pyspark as gx_spark
import pyspark.sql
print('ok', ge.__name__, type(gx_spark.ConnectDataFrame).__name__, 'pyspark.sql.connect' in sys.modules,
      pyspark.sql.SparkSession.__name__)
"""


@pytest.mark.parametrize("before", ["", "import pyspark.sql"], ids=["pyspark-not-loaded", "pyspark-loaded-first"])
def test_gx_imports_in_a_process_without_a_main_file_and_pyspark_still_imports_after(before):
    import pyspark  # noqa: F401  -- installed with the project (the 'spark' extra); this test is about it

    code = FILELESS_MAIN.format(before=before)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=PROJECT_ROOT,
                          timeout=300)
    assert done.returncode == 0 and done.stdout.split() == ["ok", "great_expectations", "NotImported", "False",
                                                            "SparkSession"], done.stdout + done.stderr
    assert "pandas >= 3.0.0" not in done.stderr  # pyspark's connect warning is not printed either


def test_without_hiding_the_connect_import_exits_such_a_process():
    """The failure the hiding avoids (if PySpark stops exiting, the hiding can go)."""
    code = ("import sys\nsys.modules['__main__'].__spec__ = None\n"
            "sys.modules['__main__'].__dict__.pop('__file__', None)\n"
            "import pyspark.sql.connect.dataframe\nprint('imported')\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "imported" not in done.stdout
