"""Risk's wide tables are sorted once: created in their ORDER (Graph.run(ordered=...)) and copied
as they are (warehouse.write_parquet(presorted=True)); the bytes are those of the sorted write."""

from __future__ import annotations

import duckdb
import pytest

from pipelines import warehouse
from pipelines.graph import Graph
from pipelines.risk import pipeline as risk_pipeline

from .conftest import COUNTY, TOWNSHIP, City


@pytest.fixture
def con():
    with duckdb.connect() as c:
        c.execute("set threads = 2")
        yield c


def out_of_order(con, path, keys: str) -> int:
    """Rows of the Parquet file at `path` that sort before the row above them on `keys`."""
    return con.execute(f"select count(*) from (select ({keys}) as k, lag(({keys})) over (order by pos) as above "
                       f"from (select *, row_number() over () as pos from read_parquet({warehouse.sql_literal(str(path))}))) "
                       "where k < above").fetchone()[0]


def test_graph_creates_an_ordered_model_in_that_order(tmp_path, con):
    (tmp_path / "shuffled.sql").write_text("-- shuffled: the input in another order\n"
                                           "select * from input order by (i * 7919) % 20000\n")
    (tmp_path / "downstream.sql").write_text("-- downstream: reads shuffled\nselect i from {{ ref('shuffled') }}\n")
    con.execute("create table input as select i, 'x' || i as v from range(20000) t(i)")
    made = Graph(tmp_path).run(con, ["downstream"], ordered={"shuffled": "i"})
    assert made == ["shuffled", "downstream"]  # the ordered model is still a model of the run
    positions = con.execute("select count(*) from (select i, row_number() over () - 1 as pos from shuffled) "
                            "where i <> pos").fetchone()[0]
    assert positions == 0
    # without `ordered`, the model keeps its own order (not sorted by i)
    Graph(tmp_path).run(con, ["shuffled"])
    assert con.execute("select list(i)[1:3] from (select i from shuffled limit 3)").fetchone()[0] != [0, 1, 2]


def test_presorted_write_has_the_bytes_of_the_sorted_write(tmp_path, con):
    con.execute("create table rows_any as select i, i % 13 as k, 'v' || (i * 31 % 997) as v, [i, i + 1] as l "
                "from range(300000) t(i) order by random()")
    con.execute("create table rows_sorted as select * from rows_any order by k, i")
    sorted_rows = warehouse.write_parquet(con, "rows_any", tmp_path / "a.parquet", order_by="k, i")
    copied = warehouse.write_parquet(con, "rows_sorted", tmp_path / "b.parquet", order_by="k, i", presorted=True)
    assert sorted_rows == copied == 300000
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()
    assert con.execute("select current_setting('threads')").fetchone()[0] == 2  # restored
    with pytest.raises(ValueError, match="table name"):
        warehouse.write_parquet(con, "select * from rows_sorted", tmp_path / "c.parquet", order_by="k", presorted=True)
    assert not (tmp_path / "c.parquet").exists()


def test_risk_writes_its_presorted_tables_in_order(tmp_path):
    # households whose keys run against the village order, in two quarters: both written tables
    # must come out in ORDER (county, township, village, household_key)
    city = City(tmp_path)
    villages = [f"{TOWNSHIP}{v}" for v in ("203", "201", "202")]
    for period in ("2020Q1", "2020Q2"):
        for n in range(30):
            city.household(period, f"h{29 - n:02d}", village_code=villages[n % 3], pci=3000.0 + 200 * n)
    city.write()
    result = city.run("2020Q2")
    assert result["previous"] == "2020Q1"
    check = duckdb.connect()
    for table in risk_pipeline.PRESORTED:
        path = warehouse.stable_path(city.processed, table, "2020Q2")
        assert check.execute(f"select count(*) from read_parquet({warehouse.sql_literal(str(path))})").fetchone()[0] == 30
        assert out_of_order(check, path, risk_pipeline.ORDER[table]) == 0
        assert check.execute(f"select min(county_code) = max(county_code) and min(county_code) = '{COUNTY}' "
                             f"from read_parquet({warehouse.sql_literal(str(path))})").fetchone()[0]


def test_graph_uses_models_built_by_an_earlier_run_as_they_are(tmp_path, con):
    # risk builds its outputs one at a time (each written, the wide ones read back from their file):
    # a later run must not create again what an earlier one built (nor what replaced it)
    (tmp_path / "first.sql").write_text("-- first: the input doubled\nselect i * 2 as i from input\n")
    (tmp_path / "second.sql").write_text("-- second: reads first\nselect sum(i) as s from {{ ref('first') }}\n")
    con.execute("create table input as select i from range(10) t(i)")
    graph = Graph(tmp_path)
    assert graph.run(con, ["first"]) == ["first"]
    con.execute("drop table first")
    con.execute("create view first as select 100 as i")  # what risk.read_back does with a written table
    assert graph.run(con, ["second"], built={"first"}) == ["second"]
    assert con.execute("select s from second").fetchone()[0] == 100
    assert graph.run(con, ["second"]) == ["first", "second"]  # without `built`: made again from input
    assert con.execute("select s from second").fetchone()[0] == 90
