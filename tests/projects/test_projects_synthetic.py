"""The sample city's project lists (pipelines/synth/projects.py) after ingest: every planted defect
of data/truth/projects.csv found with its reason and nothing else flagged (recall and precision 1),
the money of the loaded projects equal to the truth, counts reconciled with the raw workbooks."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest
from openpyxl import load_workbook

from pipelines import warehouse


@pytest.fixture(scope="module")
def city(ingested_city):
    con = duckdb.connect()
    processed = ingested_city / "processed"
    for t in ("projects", "project_beneficiaries", "quarantine", "findings", "ingest_manifest"):
        con.execute(f"create view {t} as select * from {warehouse.scan(processed, t)}")
    truth = pd.read_csv(ingested_city / "truth" / "projects.csv", dtype={"county_code": str, "village_code": str})
    yield ingested_city, con, truth.fillna({"expected_reason": "", "expected_disposition": ""})
    con.close()


def test_planted_defects_found_exactly(city):
    _, con, truth = city
    assert set(truth["expected_reason"]) == {"", "paid_over_received", "unknown_village", "households_count_mismatch",
                                             "beneficiary_not_in_registry", "unknown_project"}
    planted = {d: {(r.period, r.file, r.sheet, int(r.source_row), r.expected_reason)
                   for r in truth[truth["expected_disposition"] == d].itertuples()} for d in ("quarantine", "finding")}
    assert all(planted.values())
    got = {d: set(con.execute(f"select period, source_file, sheet, source_row, reason from {t} "
                              "where source_kind like 'project%'").fetchall())
           for d, t in (("quarantine", "quarantine"), ("finding", "findings"))}
    assert got == planted  # recall and precision 1, row by row
    # every county file of every quarter carries each plant
    per_file = truth[truth["expected_reason"] != ""].groupby("file")["expected_reason"].nunique()
    assert (per_file == 5).all() and len(per_file) == truth["file"].nunique()
    strangers = truth[truth["expected_reason"] == "beneficiary_not_in_registry"]
    found = {r[0] for r in con.execute(
        "select p.project_id from project_beneficiaries as b inner join projects as p using (period, project_key) "
        "where not b.in_registry").fetchall()}
    assert found == set(strangers["project_id"])


def test_loaded_money_equals_the_truth(city):
    _, con, truth = city
    good = truth[(truth["kind"] == "project") & (truth["expected_disposition"] != "quarantine")]
    got = con.execute("select project_id, project_type, fund_source, village_code, planned, received, paid, "
                      "listed_households, registered_households from projects order by project_id").df()
    want = good.sort_values("project_id")
    assert list(got["project_id"]) == list(want["project_id"])
    for col in ("project_type", "fund_source", "village_code"):
        assert list(got[col]) == list(want[col])
    for col in ("planned", "received", "paid"):
        assert got[col].to_numpy() == pytest.approx(want[col].to_numpy())
    assert list(got["listed_households"]) == list(want["listed_households"].astype(int))
    # every listed household is registered except the one planted stranger per county file
    strangers = set(truth.loc[truth["expected_reason"] == "beneficiary_not_in_registry", "project_id"])
    for pid, listed, registered in got[["project_id", "listed_households", "registered_households"]].itertuples(index=False):
        assert registered == listed - (1 if pid in strangers else 0)


def test_manifest_counts_reconcile_with_the_workbooks(city):
    data_dir, con, _ = city
    for (path, sheet, read, loaded, quarantined) in con.execute(
            "select source_file, sheet, rows_read, rows_loaded, rows_quarantined from ingest_manifest "
            "where source_kind like 'project%'").fetchall():
        ws = load_workbook(data_dir / "raw" / path, read_only=True)[sheet]
        header = 2 if sheet == "项目清单" else 1  # the project sheet has a title row
        assert read == ws.max_row - header == loaded + quarantined
