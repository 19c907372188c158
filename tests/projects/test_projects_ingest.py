"""Project lists load through ingest: every row loaded or quarantined with its reason, counts
reconciled in ingest_manifest, beneficiaries keyed with the registry's HMAC, planted defects found."""

from __future__ import annotations

import duckdb
import pytest

from pipelines import keys
from pipelines.ingest.pipeline import run
from pipelines.policy import load_policy
from tests.conftest import TEST_KEY
from tests.projects.fixture import BENEFICIARIES, HEAD2_ID, HH1, HH2, PERIOD, PROJECTS, STRANGER_ID, write_fixture

LIFTED = {"thresholds": {"ingest": {"max_quarantined_share": 1.0}}}


@pytest.fixture(scope="module")
def ingested(tmp_path_factory):
    base = tmp_path_factory.mktemp("projects")
    write_fixture(base / "raw")
    summary = run(base / "raw", base / "processed", policy=load_policy(overrides=LIFTED))
    con = duckdb.connect(str(base / "processed" / "povmon.duckdb"), read_only=True)
    yield summary, con
    con.close()


def test_projects_load_with_village_type_and_money(ingested):
    _, con = ingested
    rows = con.execute("select project_key, project_type, fund_source, village_code, county_code, planned, received, "
                       "paid, stated_households, listed_households, registered_households from projects "
                       "order by project_key").fetchall()
    assert rows == [
        ("140524:P1", "industry", "central", "140524100200", "140524", 100, 80, 60, 2, 2, 2),
        ("140524:P2", "infrastructure", "provincial", "140524100201", "140524", 50, 50, 50, 3, 1, 1),
        ("140524:P5", "industry", "integrated", "140524100202", "140524", 30, 20, 5, 1, 1, 0),
        ("140524:P6", "health", "social", "140524100200", "140524", 8, 4, 0, None, 0, 0),
    ]
    assert con.execute("select started_on from projects where project_key = '140524:P1'").fetchone()[0].isoformat() == "2020-03-01"


def test_quarantine_reasons_and_manifest_reconcile(ingested):
    _, con = ingested
    q = con.execute("select source_kind, sheet, source_row, reason, column_name from quarantine "
                    "where source_kind like 'project%' order by sheet, source_row").fetchall()
    assert q == [
        ("project_beneficiaries", "受益户名单", 6, "unknown_project", "项目编号"),
        ("project_beneficiaries", "受益户名单", 7, "duplicate_beneficiary", "户编号"),
        ("project_beneficiaries", "受益户名单", 8, "unknown_project", "项目编号"),
        ("projects", "项目清单", 5, "paid_over_received", "已支付(万元)"),
        ("projects", "项目清单", 6, "unknown_village", "实施地点"),
    ]
    m = dict(((r[0], r[1]), r[2:]) for r in con.execute(
        "select source_kind, sheet, rows_read, rows_loaded, rows_quarantined from ingest_manifest "
        "where source_kind like 'project%'").fetchall())
    assert m == {("projects", "项目清单"): (len(PROJECTS), 4, 2),
                 ("project_beneficiaries", "受益户名单"): (len(BENEFICIARIES), 4, 3)}


def test_beneficiaries_keyed_like_the_registry_no_raw_ids(ingested):
    _, con = ingested
    rows = con.execute("select project_key, household_key, person_key, in_registry from project_beneficiaries "
                       "order by project_key, source_row").fetchall()
    h1, h2 = keys.household_key(HH1, TEST_KEY), keys.household_key(HH2, TEST_KEY)
    assert rows == [
        ("140524:P1", h1, None, True),
        ("140524:P1", h2, keys.person_key(HEAD2_ID, TEST_KEY), True),
        ("140524:P2", h1, None, True),
        ("140524:P5", None, keys.person_key(STRANGER_ID, TEST_KEY), False),
    ]
    # the registry's own keys agree
    assert {r[0] for r in con.execute("select household_key from households").fetchall()} == {h1, h2}
    text = " ".join(str(v) for t in ("projects", "project_beneficiaries", "quarantine", "findings")
                    for r in con.execute(f"select * from {t}").fetchall() for v in r)
    for raw in (HH1, HH2, HEAD2_ID, STRANGER_ID, "张三", "王五", "某某"):
        assert raw not in text


def test_planted_findings(ingested):
    _, con = ingested
    f = con.execute("select source_row, reason, column_name, detail from findings "
                    "where source_kind like 'project%' order by reason, source_row").fetchall()
    assert [(r[0], r[1], r[2]) for r in f] == [
        (5, "beneficiary_not_in_registry", "户编号"),
        (4, "households_count_mismatch", "带贫户数"),
    ]
    assert "带贫户数 3, beneficiary list names 1" in f[1][3]
