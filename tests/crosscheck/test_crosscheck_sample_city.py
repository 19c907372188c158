"""Recall and precision of every cross-check rule against the generator's truth
(data/truth/crosscheck.csv) on the staged small city, per quarter.

Designed exception: members of a household with a planted REGISTRY defect (truth rule
`registry_defect`: a wrong check digit, an ID a spreadsheet damaged, …) are listed by the
departments under their true ID, so a rule may rightly find them (the registry's ID no longer
matches). Such findings are neither counted as hits nor as false alarms; every other finding must
be a planted one."""

from __future__ import annotations

import csv

import duckdb
import pytest

from pipelines import keys, warehouse
from pipelines.policy import load_policy
from tests.conftest import STAGED_PERIODS

RULES = [r.code for r in load_policy().departments.rule]


def _truth(city):
    with open(city / "truth" / "crosscheck.csv", encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


def _subject(household_key, person_key):
    return person_key or household_key


@pytest.fixture(scope="module")
def scored(staged_city):
    truth = _truth(staged_city)
    found = duckdb.sql(f"select period, rule, household_key, person_key from "
                       f"{warehouse.scan(staged_city / 'processed', 'crosscheck_findings')}").fetchall()
    exempt_h = {(r["period"], keys.household_key(r["household_id"])) for r in truth if r["rule"] == "registry_defect"}
    exempt_p = {(r["period"], r["person_key"]) for r in truth if r["rule"] == "registry_defect"}
    planted = {(r["period"], r["rule"], r["person_key"] or keys.household_key(r["household_id"]))
               for r in truth if r["rule"] != "registry_defect" and r["period"] in STAGED_PERIODS}
    got, exempted = set(), set()
    for period, rule, hk, pk in found:
        item = (period, rule, _subject(hk, pk))
        if item not in planted and ((period, hk) in exempt_h or (period, pk) in exempt_p):
            exempted.add(item)
        else:
            got.add(item)
    return planted, got, exempted


@pytest.mark.parametrize("rule", RULES)
def test_recall_and_precision_per_rule(scored, rule):
    planted, got, _exempted = scored
    p = {x for x in planted if x[1] == rule}
    g = {x for x in got if x[1] == rule}
    assert len(p) >= len(STAGED_PERIODS), f"{rule}: the generator planted too few cases to measure"
    recall = len(p & g) / len(p)
    precision = len(p & g) / len(g)
    assert (recall, precision) == (1.0, 1.0), f"{rule}: recall {recall:.2f}, precision {precision:.2f}; " \
        f"missed {sorted(p - g)[:3]}, unexpected {sorted(g - p)[:3]}"


def test_the_designed_exception_stays_small(scored):
    planted, _got, exempted = scored
    # findings explained by a registry defect: a handful, never more than the planted cases
    assert len(exempted) < len(planted) / 2


def test_every_finding_carries_its_department_date_and_no_pii(staged_city):
    src = warehouse.scan(staged_city / "processed", "crosscheck_findings")
    con = duckdb.connect()
    bad = con.execute(f"select count(*) from {src} where record_date is null or department is null "
                     f"or county_code is null or detail is null").fetchone()[0]
    assert bad == 0
    # the detail never holds an ID-shaped number
    assert con.execute(f"select count(*) from {src} where regexp_matches(detail, '[0-9]{{15,}}')").fetchone()[0] == 0


def test_each_finding_sets_its_risk_signal_and_only_findings_do(staged_city):
    con = duckdb.connect()
    processed = staged_city / "processed"
    for period in STAGED_PERIODS:
        findings = set(con.execute(f"select household_key, rule from "
                                   f"{warehouse.scan(processed, 'crosscheck_findings', period)} "
                                   f"where household_key is not null").fetchall())
        cols = ", ".join(f"sig_xc_{r}" for r in RULES)
        signalled = set()
        for row in con.execute(f"select household_key, {cols} from {warehouse.scan(processed, 'risk', period)}").fetchall():
            signalled |= {(row[0], r) for r, flag in zip(RULES, row[1:]) if flag}
        assert findings and signalled == findings
        # the risk row carries each rule's evidence: rule label (department label record date)
        expected = {}
        for hh, rule_label, dept_label, date in con.execute(
                f"select distinct household_key, rule_label, department_label, record_date from "
                f"{warehouse.scan(processed, 'crosscheck_findings', period)} where household_key is not null").fetchall():
            expected.setdefault(hh, set()).add(f"{rule_label}({dept_label} {date.isoformat() if date else '日期不详'})")
        got = {hh: set(text.split("；")) for hh, text in con.execute(
            f"select household_key, crosscheck_evidence from {warehouse.scan(processed, 'risk', period)} "
            f"where crosscheck_evidence is not null").fetchall()}
        assert got == expected


def test_department_findings_are_problems_of_the_ledger(staged_city):
    con = duckdb.connect()
    processed = staged_city / "processed"
    for period in STAGED_PERIODS:
        findings = set(con.execute(f"select household_key, rule, department from "
                                   f"{warehouse.scan(processed, 'crosscheck_findings', period)} "
                                   f"where household_key is not null").fetchall())
        problems = set(con.execute(f"select household_key, criterion, source from "
                                   f"{warehouse.scan(processed, 'problems', period)} "
                                   f"where source <> 'registry' and status <> '已整改'").fetchall())
        assert findings and problems == findings
