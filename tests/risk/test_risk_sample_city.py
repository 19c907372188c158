"""Risk and transitions on the small synthetic city (tests/conftest.py `staged_city`), against the
generator's truth: every household it pushed back into poverty by an illness or disaster shock is
found as 返贫 with that reason, and the transition counts reconcile."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from pipelines.keys import household_key
from pipelines.warehouse import scan

PERIOD = "2020Q2"


@pytest.fixture(scope="module")
def transitions(staged_city) -> pd.DataFrame:
    sql = scan(staged_city / "processed", "transitions", PERIOD)
    return duckdb.sql(f"select * from {sql}").df()


def test_every_planted_return_to_poverty_found_with_its_cause(staged_city, transitions):
    events = pd.read_csv(staged_city / "truth" / "events.csv", dtype=str)
    planted = events[(events.event == "return_to_poverty") & (events.period == PERIOD)]
    assert len(planted) >= 2 and set(planted.cause) <= {"illness", "disaster"}
    found = transitions.set_index("household_key")
    for row in planted.itertuples():
        got = found.loc[household_key(row.household_id)]
        assert (got.status_flow, got.return_cause) == ("returned_to_poverty", row.cause), row.household_id
    # and nothing else is reported as having returned this quarter
    returned = set(transitions.loc[transitions.status_flow == "returned_to_poverty", "household_key"])
    assert returned == {household_key(h) for h in planted.household_id}


def test_transition_counts_reconcile_with_both_snapshots(staged_city):
    processed = staged_city / "processed"
    matrix = duckdb.sql(f"select * from {scan(processed, 'transition_matrix', PERIOD)}").df()
    for period, side in (("2020Q1", "from_status"), (PERIOD, "to_status")):
        hh = duckdb.sql(f"select * from {scan(processed, 'households', period)}").df()
        status = hh.poverty_status.where(hh.household_type == "registered", "not_registered").fillna("unknown")
        flows = matrix[matrix[side] != "absent"].groupby(side).households.sum()
        assert flows.to_dict() == status.value_counts().to_dict(), side
