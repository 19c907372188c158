"""The expectation suites as SQL (pipelines/validate/sql_checks.py), on DuckDB, against hand counts.

A five-row table written by hand; each expectation's counts are worked out below. (Equality with
Great Expectations' own results on the test city, on Spark, is in test_spark_ingest_validate.py.)"""

from __future__ import annotations

import pytest

from pipelines import engines
from pipelines.validate import nodes, sql_checks


def _e(kind: str, title: str, **kwargs) -> dict:
    return {"type": kind, "kwargs": kwargs, "meta": {"title": title}, "severity": "critical"}


SUITE = {"meta": {"batch_table": "people"}, "expectations": [
    _e("expect_column_values_to_be_in_set", "sex", column="sex", value_set=["male", "female"]),
    _e("expect_column_values_to_not_be_null", "key", column="key"),
    _e("expect_column_values_to_be_unique", "key unique", column="key"),
    _e("expect_column_values_to_be_between", "size", column="size", min_value=1, max_value=30),
    _e("expect_column_values_to_be_between", "size mostly", column="size", min_value=1, max_value=30, mostly=0.5),
    _e("expect_compound_columns_to_be_unique", "pair", column_list=["key", "cadre"]),
    _e("unexpected_rows_expectation", "big", unexpected_rows_query="select * from {batch} where size > 3"),
    _e("expect_table_columns_to_match_set", "columns", column_set=["key", "sex", "gone"], exact_match=False),
]}


@pytest.fixture()
def con():
    import duckdb

    c = duckdb.connect()
    # key: a, a, b, NULL, c   sex: male, X, NULL, female, Y   size: 1, 40, 0, NULL, 5   cadre: 1, 1, 2, 3, NULL
    c.execute("create table people as select * from (values ('a', 'male', 1, 1), ('a', 'X', 40, 1), "
              "('b', null, 0, 2), (null, 'female', null, 3), ('c', 'Y', 5, null)) t(key, sex, size, cadre)")
    return c


def test_counts_and_success_as_worked_out_by_hand(con):
    results = {r["title"]: r for r in sql_checks.check_suite(con, "s", SUITE)}
    sex = results["sex"]["result"]  # 4 non-null; X and Y are not in the set
    assert (sex["element_count"], sex["missing_count"], sex["unexpected_count"]) == (5, 1, 2)
    assert sex["unexpected_percent"] == pytest.approx(50.0) and not results["sex"]["success"]
    assert results["key"]["result"]["unexpected_count"] == 1 and not results["key"]["success"]
    assert results["key unique"]["result"]["unexpected_count"] == 2  # both rows of 'a'; NULL not checked
    size = results["size"]["result"]  # 4 non-null: 40 and 0 out of [1, 30]
    assert (size["missing_count"], size["unexpected_count"]) == (1, 2) and not results["size"]["success"]
    assert results["size mostly"]["success"]  # 2 of 4 in range = 0.5 >= mostly
    assert results["pair"]["result"]["unexpected_count"] == 2  # (a, 1) twice
    assert results["big"]["result"] == {"observed_value": 2} and nodes.failing_count(results["big"]) == 2
    columns = results["columns"]
    assert not columns["success"] and columns["result"]["details"]["mismatched"]["missing"] == ["gone"]
    assert nodes.failing_count(columns) == 1


def test_an_expectation_type_without_sql_is_refused_not_skipped(con):
    suite = {"meta": {"batch_table": "people"},
             "expectations": [_e("expect_column_mean_to_be_between", "mean", column="size")]}
    with pytest.raises(engines.EngineError, match="expect_column_mean_to_be_between has no SQL check"):
        sql_checks.check_suite(con, "s", suite)


def test_compound_keys_with_a_null_part_are_never_duplicates(con):
    """GX compares compound keys with `=`: ('h1', NULL) twice is not a duplicate (a partition by
    would put the NULLs together); a key wholly NULL is ignored as missing."""
    con.execute("create table pairs as select * from (values ('h1', null), ('h1', null), ('h2', 'c'), "
                "('h2', 'c'), (null, null)) t(hh, cadre)")
    suite = {"meta": {"batch_table": "pairs"},
             "expectations": [_e("expect_compound_columns_to_be_unique", "pair", column_list=["hh", "cadre"])]}
    (result,) = sql_checks.check_suite(con, "s", suite)
    assert result["result"]["unexpected_count"] == 2 and result["result"]["missing_count"] == 1  # ('h2', 'c') twice


def test_a_null_in_a_value_set_is_left_out_and_a_non_finite_bound_refused(con):
    suite = {"meta": {"batch_table": "people"},
             "expectations": [_e("expect_column_values_to_be_in_set", "sex", column="sex",
                                 value_set=["male", "female", None])]}
    (result,) = sql_checks.check_suite(con, "s", suite)
    assert result["result"]["unexpected_count"] == 2  # X and Y, as without the None
    bad = {"meta": {"batch_table": "people"},
           "expectations": [_e("expect_column_values_to_be_between", "size", column="size", max_value=float("inf"))]}
    with pytest.raises(engines.EngineError, match="expectation value inf: expected text or a finite number"):
        sql_checks.check_suite(con, "s", bad)
