"""项目账 / 资金账 / 政策账(按政策) report models against hand calculations on the hand-written
fixture (tests/projects/fixture.py): loaded projects P1, P2, P5, P6 of 陵川县 (140524); P3 (已支付 >
到位资金) and P4 (unknown village) are quarantined and count nowhere."""

from __future__ import annotations

import pytest

from pipelines.ingest.pipeline import run
from pipelines.policy import load_policy
from pipelines.report import queries
from pipelines.report.warehouse import open_warehouse
from tests.projects.fixture import PERIOD, write_fixture

LIFTED = {"thresholds": {"ingest": {"max_quarantined_share": 1.0}}}


@pytest.fixture(scope="module")
def wh(tmp_path_factory):
    base = tmp_path_factory.mktemp("projects_report")
    write_fixture(base / "raw")
    run(base / "raw", base / "processed", policy=load_policy(overrides=LIFTED))
    w = open_warehouse(base / "processed", upto=PERIOD)
    queries.bind_params(w, PERIOD)
    yield w
    w.close()


def _rows(wh, name, where=""):
    df = queries.query(wh, name)
    return df.query(where) if where else df


def test_project_ledger_by_county_and_type_by_hand(wh):
    df = _rows(wh, "projects_by_county_type").set_index(["is_total", "project_type"])
    county_all = df.loc[(0, "all")]
    # planned 100 + 50 + 30 + 8, received 80 + 50 + 20 + 4, paid 60 + 50 + 5 + 0
    assert (county_all["projects"], county_all["planned"], county_all["received"], county_all["paid"]) == (4, 188, 154, 115)
    assert county_all["disbursement_rate"] == pytest.approx(115 / 154)
    # completed by 2020-12-31: P1 (09-30), P2 (08-31); stated 2 + 3 + 1 (P6 states none)
    assert (county_all["completed"], county_all["stated_households"]) == (2, 6)
    # listed: HH1, HH2 (P1), HH1 (P2), the stranger (P5) -> 3 distinct; registered: HH1, HH2 -> 2 of 2
    assert (county_all["listed_households"], county_all["households"], county_all["registry_households"]) == (3, 2, 2)
    assert county_all["households_share"] == pytest.approx(1.0)
    industry = df.loc[(0, "industry")]  # P1 + P5
    assert (industry["projects"], industry["planned"], industry["received"], industry["paid"]) == (2, 130, 100, 65)
    assert industry["disbursement_rate"] == pytest.approx(0.65)
    assert (industry["households"], industry["type_label"]) == (2, "产业")
    health = df.loc[(0, "health")]  # P6: nothing paid of 4 arrived
    assert (health["paid"], health["disbursement_rate"]) == (0, 0)
    # one county: the city total equals it
    assert df.loc[(1, "all")]["paid"] == 115 and df.loc[(1, "all")]["households"] == 2


def test_fund_ledger_by_source_by_hand(wh):
    df = _rows(wh, "projects_by_fund_source").set_index(["is_total", "fund_source"])
    got = {k[1]: (r["planned"], r["received"], r["paid"], r["unpaid"]) for k, r in df.iterrows() if k[0] == 0}
    assert got == {"all": (188, 154, 115, 39), "central": (100, 80, 60, 20), "provincial": (50, 50, 50, 0),
                   "integrated": (30, 20, 5, 15), "social": (8, 4, 0, 4)}
    assert df.loc[(0, "integrated")]["disbursement_rate"] == pytest.approx(0.25)
    assert df.loc[(0, "integrated")]["source_label"] == "整合涉农"
    assert df.loc[(0, "all")]["source_label"] == "全部来源"


def test_policy_ledger_by_policy_reconciles_registry_and_projects(wh):
    df = _rows(wh, "projects_policy_by_policy", "is_total == 0").set_index("policy")
    # tests/ingest/conftest.py household(): every member has 大病保险, no one 低保 -> 6 persons, 0
    assert df.loc["critical_illness", "registry_units"] == 6 and pd_isna(df.loc["critical_illness", "project_units"])
    assert "dibao" not in df.index or df.loc["dibao", "registry_units"] == 0
    # 产业项目带贫: P1 (HH1, HH2 registered) and P5 (nobody registered): 2 households, only in the project lists
    ind = df.loc["industry_project"]
    assert (ind["registry_units"], ind["project_units"], ind["both_units"], ind["registry_only"],
            ind["projects_only"]) == (0, 2, 0, 0, 2)
    assert ind["policy_label"] == "产业项目带贫" and ind["unit_label"] == "户"
    order = list(_rows(wh, "projects_policy_by_policy", "is_total == 0")["policy"])
    assert order.index("critical_illness") < order.index("industry_project")


def pd_isna(v) -> bool:
    import pandas as pd

    return bool(pd.isna(v))


def test_policy_refuses_a_project_type_that_is_no_code_and_a_workbook_of_unknown_tables():
    from pipelines.policy import PolicyError

    labels = load_policy().report.labels
    bad = {**labels, "policy_project_type": {**labels["policy_project_type"], "industry_project": "产业"}}
    with pytest.raises(PolicyError, match=r"\[labels.policy_project_type\]: unknown project type code '产业'"):
        load_policy(overrides={"report": {"labels": bad}})
    with pytest.raises(PolicyError, match=r"\[workbooks.accounts\].tables: unknown table of \[tables\] 'no_such'"):
        load_policy(overrides={"report": {"workbooks": {"accounts": {"file": "x.xlsx", "title": "交总账",
                                                                     "tables": ["no_such"]}}}})
