"""benchmarks/factory.py: the canonical columns it knows are the ones ingest writes; hand specs
get defaults and a consistent income identity; generated tables are deterministic and clean."""

from __future__ import annotations

import duckdb
import pytest

from benchmarks import factory
from pipelines import warehouse
from pipelines.ingest.pipeline import OUTPUTS


def _value(sql: str):
    with duckdb.connect() as con:
        return con.execute(sql).fetchall()[0][0]


def _schema(processed, table) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in duckdb.sql(f"describe select * from {warehouse.scan(processed, table)}").fetchall()]


@pytest.mark.parametrize("table", sorted(factory.TABLES))
def test_factory_columns_are_the_ones_ingest_writes(ingested_city, table):
    processed = ingested_city / "processed"
    spec = factory.TABLES[table]
    assert _schema(processed, table) == list(spec.columns.items())
    assert (spec.partition, list(spec.key)) == (OUTPUTS[table][0], OUTPUTS[table][1])
    layouts = {f.parent.name.partition("=")[0] if f.parent.name != table else None
               for f in warehouse.table_files(processed, table)}
    assert layouts == {spec.partition}


def test_every_ingest_output_is_in_the_factory():
    assert set(OUTPUTS) == set(factory.TABLES) == set(factory.CANONICAL + factory.ACCOUNTING + factory.LEDGERS
                                                       + factory.DEPARTMENTS)


def test_household_spec_gets_defaults_location_sizes_and_income_identity():
    hh, members = factory.household({
        "key": "h1", "village": "140521100200", "size": 3, "poverty_status": "poor",
        "per_capita_net_income": 3500.0, "production_cost": 500.0, "transfer_income": 1000.0,
        "members": [{}, {}, {"age": 9, "school_status": None}]}, period="2020Q2")
    assert (hh["county_code"], hh["township_code"], hh["village_code"]) == ("140521", "140521100", "140521100200")
    assert (hh["household_size"], hh["household_size_annual"], hh["member_count"]) == (3, 3, 3)
    # net = 3 500 x 3; gross = net + cost; wage = gross - transfer (operating and property 0)
    assert (hh["net_income"], hh["gross_income"], hh["wage_income"]) == (10_500.0, 11_000.0, 10_000.0)
    assert hh["per_capita_net_income_derived"] == 3500.0 and hh["period"] == "2020Q2"
    assert hh["poverty_status"] == "poor" and hh["food_secure"] is True and hh["water_quantity_lpd"] is None
    assert set(hh) == set(factory.columns("households"))
    assert [(m["person_key"], m["relation"], m["sex"]) for m in members] == [
        ("h1-p0", "head", "male"), ("h1-p1", "spouse", "female"), ("h1-p2", "son", "male")]
    assert members[2]["age"] == 9 and members[2]["birth_year"] == 2011
    assert members[0]["age"] == 40 and members[0]["resident_med_ins"] is True


def test_a_column_the_schema_lacks_is_refused():
    with pytest.raises(KeyError, match="households has no column househld_size"):
        factory.household_row("h1", "140521100200", househld_size=3)
    with pytest.raises(KeyError, match="persons has no column name"):
        factory.write("/nonexistent", {"persons": [{"name": "张三"}]}, period="2020Q2")


def test_written_small_tables_have_the_canonical_types_and_layout(tmp_path):
    hh, members = factory.household({"key": "h1", "village": "140521100200", "size": 2})
    factory.write(tmp_path, {"households": [hh], "persons": members, "findings": [],
                             "population": factory.population_rows({"140521100200": ("甲村", 900)}),
                             "regions": factory.region_rows({"140521": "沁水县"}, {"140521100": "甲镇"},
                                                            {"140521100200": "甲村"})}, period="2020Q2")
    for table in ("households", "persons", "findings", "population", "regions"):
        assert _schema(tmp_path, table) == list(factory.TABLES[table].columns.items()), table
    assert _value(f"select count(*) from {warehouse.scan(tmp_path, 'persons', '2020Q2')}") == 2
    assert _value(f"select count(*) from {warehouse.scan(tmp_path, 'findings', '2020Q2')}") == 0
    assert list(warehouse.partitions(tmp_path, "population")) == ["2020"]
    assert duckdb.sql(f"select parent_code from {warehouse.scan(tmp_path, 'regions')} order by level").fetchall() == [
        ("1405",), ("140521",), ("140521100",)]


def test_generated_tables_are_deterministic_and_consistent(tmp_path):
    first = factory.write_generated(tmp_path / "a", 3_000, "2020Q2")
    again = factory.write_generated(tmp_path / "b", 3_000, "2020Q2")
    assert first == again and first["households"] == 1_000 and first["persons"] == 3_000
    for table in first:
        (a,), (b,) = warehouse.table_files(tmp_path / "a", table), warehouse.table_files(tmp_path / "b", table)
        assert a.read_bytes() == b.read_bytes(), table
        assert _schema(tmp_path / "a", table) == list(factory.TABLES[table].columns.items()), table
    scan = lambda t: warehouse.scan(tmp_path / "a", t)  # noqa: E731
    bad = _value(f"""
        select count(*) from {scan('households')} as h
        left join (select household_key, count(*) as n, count(*) filter (where relation = 'head') as heads
                   from {scan('persons')} group by 1) as p using (household_key)
        where p.n is distinct from h.household_size or p.heads is distinct from 1
           or abs(h.gross_income - (h.wage_income + h.operating_income + h.property_income + h.transfer_income)) > 1
           or abs(h.net_income - h.per_capita_net_income * h.household_size) > 1
           or not exists (select 1 from {scan('regions')} as g where g.level = 'village' and g.code = h.village_code)
    """)
    assert bad == 0
