"""Every SQL model of every stage: portable to Spark SQL (SQLGlot), and every stored model's
declared key is unique and not null in the staged sample city's warehouse."""

from __future__ import annotations

import duckdb
import pytest
import sqlglot
from sqlglot import ErrorLevel

from pipelines import warehouse
from pipelines.graph import stage_graphs
from pipelines.policy import load_policy

POLICY = load_policy()
MODELS = [(stage, name) for stage, (graph, _ctx) in stage_graphs(POLICY).items() for name in graph.models]


@pytest.mark.parametrize(("stage", "name"), MODELS, ids=[f"{s}/{n}" for s, n in MODELS])
def test_model_transpiles_to_spark_sql(stage, name):
    graph, context = stage_graphs(POLICY)[stage]
    model = graph.models[name]
    sql = graph.render(name, context)
    try:
        spark = sqlglot.transpile(sql, read="duckdb", write="spark", unsupported_level=ErrorLevel.RAISE)
    except (sqlglot.errors.UnsupportedError, sqlglot.errors.ParseError) as exc:
        if model.duckdb_note:  # a DuckDB-only construct kept on purpose, with the reason in its header
            pytest.skip(f"{name}: duckdb-only ({model.duckdb_note})")
        pytest.fail(f"{model.path}: not expressible in Spark SQL: {exc}")
    assert len(spark) == 1 and spark[0].lower().lstrip().startswith(("with", "select", "/*"))


def test_every_model_has_a_header_line_and_stored_models_declare_a_key():
    for stage, (graph, _ctx) in stage_graphs(POLICY).items():
        for model in graph.models.values():
            first = model.path.read_text(encoding="utf-8").splitlines()[0]
            assert first.startswith(f"-- {model.name}:"), f"{model.path}: first line must say what the model is"


STORED = {  # models a stage writes to the warehouse, per period
    "persons", "households", "pairings", "survey_households", "population", "regions", "quarantine", "findings",
    "ingest_manifest",
    "int_person_deprivations", "int_household_deprivations", "problems", "problem_summary", "measures",
    "risk", "watch_group_counts", "assistance_gaps", "assistance_coverage", "transitions", "transition_matrix",
    "department_records", "crosscheck_findings", "crosscheck_lists",
}
STORED |= {"tasks", "instructions"}  # the rectification tracker's lists (ingest, issue 16 part 2)


@pytest.mark.parametrize("table", sorted(STORED))
def test_stored_model_key_is_unique_and_not_null(staged_city, table):
    models = {name: m for _s, (g, _c) in stage_graphs(POLICY).items() for name, m in g.models.items()}
    key, nullable = models[table].key, models[table].nullable_key
    assert key, f"{models[table].path}: a stored model declares its key (-- key: ...)"
    source = warehouse.scan(staged_city / "processed", table)
    assert source is not None, f"{table} not in the staged warehouse"
    con = duckdb.connect()
    cols = ", ".join(key)
    total, distinct, nulls = con.execute(
        f"select count(*), count(distinct ({cols})), count(*) filter (where "
        + (" or ".join(f"{k} is null" for k in key if k not in nullable) or "false") + f") from {source}").fetchone()
    assert total > 0
    assert nulls == 0, f"{table}: key column null in {nulls} rows"
    assert distinct == total, f"{table}: key ({cols}) repeats: {total - distinct} duplicate rows"
