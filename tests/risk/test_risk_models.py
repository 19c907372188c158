"""The risk models: values reach the SQL only as parameter tables, and every model's declared key
holds on a small city with two quarters, pairings and movers."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from pipelines.risk import rules
from pipelines.risk.pipeline import CARDS_GRAPH, GRAPH, build, card_context
from tests.risk.conftest import make_policy

Q1, Q2 = "2020Q1", "2020Q2"


def test_values_reach_the_sql_only_as_tables():
    """Render every model with distinctive thresholds and band codes: no number, label, listed code
    or band code is in the text (band signals are: they name sig_<code> columns)."""
    bands = [b.model_dump() | {"code": f"band_{i}"} for i, b in enumerate(make_policy().risk.bands)]
    policy = make_policy(risk={
        "bands": bands,
        "signals": {"large_medical_min": 23456.5, "transfer_share_min": 0.4321, "income_drop_min": 0.2468,
                    "single_migrant_wage_share_min": 0.6543, "rigid_spending_ratio": 1.2345},
        "assistance": {"max_households_per_cadre": 97}})
    context = rules.template_context(policy) | card_context(policy)
    sql = "\n".join(graph.render(name, context) for graph in (GRAPH, CARDS_GRAPH) for name in graph.models)
    for number in ("23456", "0.4321", "0.2468", "0.6543", "1.2345", "97"):
        assert number not in sql
    labels = policy.labels
    for domain in ("signal", "income_band", "risk_level", "proposed_category", "elimination_status",
                   "assistance_gap", "watch_group", "requirement", "poverty_status"):
        for label in labels.of(domain).values():
            assert f"'{label}'" not in sql, (domain, label)
    listed = [*policy.risk.signals.labour_capable, *policy.risk.signals.migrant_statuses,
              *policy.risk.signals.shock_causes, *policy.codes("poverty_status"), *policy.codes("cadre_rank")]
    # 'other' is also a status flow of transitions.sql; 'poor' also the name of a status group
    for code in set(listed) - {"other"} - set(policy.groups):
        assert f"'{code}'" not in sql, code
    for band in policy.risk.bands:
        assert f"'{band.code}'" not in sql, band.code
    for received in policy.risk.cards.received:  # 明白卡 policy labels and codes come in as tables
        assert received.label not in sql and not any(f"'{c}'" in sql for c in received.codes), received.code


def test_every_model_declares_a_key():
    for graph in (GRAPH, CARDS_GRAPH):
        for model in graph.models.values():
            assert model.key, model.name
            assert model.description and not model.description.startswith("{"), model.name


@pytest.fixture
def built(city):
    c = city
    for period, shift in ((Q1, 0), (Q2, -500)):
        for i in range(12):
            status = ("poor", "returned", "exited_supported", None)[i % 4]
            c.household(period, f"h{i:02d}", pci=3_500 + 400 * i + shift, poverty_status=status,
                        monitoring_category="unstable_exited" if i % 5 == 0 else None,
                        township_code="140524101" if i % 2 else "140524100",
                        village_code="140524101200" if i % 2 else "140524100200",
                        members=[{"person_key": f"h{i:02d}-a"}, {"person_key": f"h{i:02d}-b"}])
            c.pairing(period, f"h{i:02d}", f"c{i % 3}", ("county_leader", "village_cadre", "township_cadre")[i % 3],
                      end=date(2020, 3, 31) if i % 4 == 1 else None)
    c.pairing(Q2, "h01", "c1", "village_cadre", end=date(2020, 3, 31))  # the same lapsed pairing twice
    c.household(Q1, "gone", poverty_status="poor", pci=3_000)
    c.household(Q2, "new", poverty_status="poor", pci=3_000, members=[{"person_key": "h03-b"}])
    processed = c.write()
    con = duckdb.connect()
    build(con, processed, Q2, Q1, c.policy)
    yield con
    con.close()


@pytest.mark.parametrize("name", sorted(GRAPH.models))
def test_declared_keys_hold(built, name):
    model = GRAPH.models[name]
    rows = built.execute(f"select count(*) from {name}").fetchone()[0]
    assert rows > 0
    key = ", ".join(model.key)
    dup = built.execute(f"select count(*) from (select {key} from {name} group by all having count(*) > 1)").fetchone()[0]
    assert dup == 0, f"{name}: {dup} duplicated key(s) ({key})"
    for column in set(model.key) - model.nullable_key:  # `?` in the header: null on some rows by design
        nulls = built.execute(f"select count(*) from {name} where {column} is null").fetchone()[0]
        assert nulls == 0, f"{name}.{column}: {nulls} null(s)"
