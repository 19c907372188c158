"""Administrative 贫困发生率: numerator rules, reconciliation across levels, office formatting."""

from __future__ import annotations

import duckdb
import pytest

from pipelines.measures import nodes
from tiny_city import load_tiny, standard_specs


def _counts(rel, measure="poor_persons_administrative"):
    return {(r[0], r[1]): r[2] for r in rel.filter(f"measure = '{measure}'")
            .project("domain_level, domain_code, estimate").fetchall()}


def test_poor_persons_reconcile_village_to_county_to_city():
    con = duckdb.connect()
    load_tiny(con, survey=False)
    rel = nodes.administrative_incidence(con, 2020, "1405", ["poor", "returned"])
    counts = _counts(rel)
    villages = {code: n for (level, code), n in counts.items() if level == "village"}
    assert len(villages) == 5  # every village of the population table, zero-poor ones included
    for county in ("140521", "140522"):
        assert counts[("county", county)] == sum(n for v, n in villages.items() if v.startswith(county))
    for township in ("140521100", "140521101", "140522102"):
        assert counts[("township", township)] == sum(n for v, n in villages.items() if v.startswith(township))
    assert counts[("city", "1405")] == sum(villages.values()) == 3 + 2 + 1 + 5
    rates = _counts(rel, "incidence_administrative")
    assert rates[("city", "1405")] == pytest.approx(11 / 3800, abs=1e-15)
    assert rates[("village", "140522102201")] == 0


def test_returned_counted_exited_not_and_configurable():
    con = duckdb.connect()
    load_tiny(con, survey=False)
    only_poor = _counts(nodes.administrative_incidence(con, 2020, "1405", ["poor"]))
    assert only_poor[("village", "140521100200")] == 3  # the returned household's 2 persons drop out
    assert only_poor[("city", "1405")] == 9


def test_village_without_population_has_null_rate_but_keeps_count():
    con = duckdb.connect()
    load_tiny(con, survey=False)
    con.execute("delete from population where village_code = '140521100201'")
    con.execute("update households set poverty_status = 'poor' where household_key = 'h3'")
    rel = nodes.administrative_incidence(con, 2020, "1405")
    rates = _counts(rel, "incidence_administrative")
    assert rates[("village", "140521100201")] is None
    assert rates[("county", "140521")] is None  # incomplete denominator: no rate
    assert rates[("county", "140522")] is not None
    assert _counts(rel)[("city", "1405")] == 15


def test_format_incidence_office_style():
    assert nodes.format_incidence(0.00005) == "不到万分之一"
    assert nodes.format_incidence(0.0000999) == "不到万分之一"
    assert nodes.format_incidence(0.0001) == "0.01%"
    assert nodes.format_incidence(0.0213) == "2.13%"
    assert nodes.format_incidence(0) == "0"
    assert nodes.format_incidence(None) == "—"
