"""--engine spark: measures and risk of the staged sample city on local Spark equal DuckDB's.

The staged city (tests/conftest.py) ran measures and risk on DuckDB for STAGED_PERIODS. A copy of
its warehouse has the last period's outputs removed, then measures and risk run again for that
period on Spark (its transitions from the period before; one SparkSession for the test session,
local[2] from config/spark.toml): every output table must hold the same rows, keys and values
(floats within 1e-9) as DuckDB's, column types included (benchmarks/compare_warehouses.py). One
period keeps the test's cost down: each statement is a Spark job.

Java is required: without it the test FAILS (CI installs it with `make system-deps`)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from pipelines import engines, warehouse
from pipelines.measures.pipeline import run as measures
from pipelines.risk.pipeline import run as risk
from tests.conftest import STAGED_PERIODS

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from compare_warehouses import compare  # noqa: E402

OUTPUTS = ("measures", "risk", "watch_group_counts", "assistance_gaps", "assistance_coverage", "transitions",
           "transition_matrix")
PERIOD = STAGED_PERIODS[-1]  # its transitions come from the period before


@pytest.fixture(scope="session")
def spark_city(staged_city, tmp_path_factory) -> Path:
    """processed_dir: the staged city with PERIOD's measures and risk re-run on Spark (removed first)."""
    why = engines.java_missing()
    if why:
        pytest.fail(f"tests/spark needs Java: {why}", pytrace=False)
    processed = tmp_path_factory.mktemp("spark_city") / "processed"
    shutil.copytree(staged_city / "processed", processed, symlinks=True)
    with warehouse.transaction(processed, stage="test") as tx:
        for table in OUTPUTS:
            tx.delete(table, PERIOD)
    assert not any(PERIOD in warehouse.partitions(processed, t) for t in OUTPUTS)
    with engines.use("spark"):
        measures(processed, PERIOD)
        risk(processed, PERIOD)
    return processed


def test_measures_and_risk_on_spark_equal_duckdb(staged_city, spark_city):
    for table in OUTPUTS:
        assert sorted(warehouse.partitions(spark_city, table)) == sorted(
            warehouse.partitions(staged_city / "processed", table)), table
    diffs = compare(staged_city / "processed", spark_city, list(OUTPUTS), tolerance=1e-9, examples=3)
    assert [d.table for d in diffs] == list(OUTPUTS)
    assert all(d.rows_a > 0 for d in diffs), [d.line() for d in diffs]
    differing = [f"{d.line()} {' '.join(d.examples)}" for d in diffs if d.differs]
    assert not differing, "\n".join(differing)


def test_spark_rows_were_written_by_spark_not_carried_over(staged_city, spark_city):
    """The Spark run wrote the period's partition of every output anew (not the DuckDB file carried over)."""
    for table in OUTPUTS:
        path = warehouse.partitions(spark_city, table)[PERIOD]
        duck = warehouse.partitions(staged_city / "processed", table)[PERIOD]
        assert not path.resolve().samefile(duck.resolve()), f"{table} {PERIOD} carried over, not rewritten"


def test_engine_choice_is_checked_and_scoped():
    assert engines.current() == "duckdb"
    with engines.use("spark"):
        assert engines.current() == "spark"
    assert engines.current() == "duckdb"
    with pytest.raises(engines.EngineError, match="duckdb, spark"):
        with engines.use("polars"):
            pass


def test_round_rewrite_gives_duckdbs_result_on_half_way_values():
    """The SQL the Spark engine writes for round(x, n) computes DuckDB's round in plain floating point
    arithmetic: checked here on DuckDB itself over values whose x * 10^n is a tie in floating point
    (1.6761825 is 1.67618249999999990862 in binary: DuckDB gives 1.676182, rounding the text 1.676183)."""
    import duckdb
    import sqlglot

    con = duckdb.connect()
    assert con.execute("select round(6704.73 / 4000.0, 6)").fetchone()[0] == 1.676182  # the case Spark got wrong
    rewritten = engines._duckdb_round(sqlglot.parse_one("a / b", read="duckdb"), 6).sql("duckdb")
    total, differ = con.execute(
        f"select count(*), count(*) filter (where round(a / b, 6) is distinct from {rewritten}) from ("
        "select i / 100.0 as a, 4000.0 as b from range(0, 2000000, 7) t(i) "
        "union all select -(i + 0.5), 1000000.0 from range(1000) t(i) "
        "union all select null, 1.0)").fetchone()
    assert total == 286716 and differ == 0
    half_way = con.execute(f"select {rewritten} from (select 6704.73 as a, 4000.0 as b)").fetchone()[0]
    assert half_way == 1.676182


def test_cli_engine_spark_without_java_exits_2_naming_the_fix(tmp_path, monkeypatch, capsys):
    from pipelines.cli import main

    monkeypatch.setenv("PATH", str(tmp_path))  # no java on it
    monkeypatch.delenv("JAVA_HOME", raising=False)
    code = main(["measures", "--period", "2020Q2", "--engine", "spark", "--processed", str(tmp_path / "processed")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and "no Java runtime" in err[0] and "make system-deps" in err[0], err


def test_cli_refuses_an_unknown_engine(capsys):
    from pipelines.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["risk", "--period", "2020Q2", "--engine", "polars"])
    assert exc.value.code == 2
    assert "invalid choice: 'polars'" in capsys.readouterr().err
