"""帮扶责任人 coverage: missing pairing, wrong level, overloaded cadre, lapsed pairing."""

from __future__ import annotations

from datetime import date


Q2 = "2020Q2"  # period end 2020-06-30


def test_each_gap_is_detected(city):
    c = city
    c.household(Q2, "poor_unpaired", pci=3_000, poverty_status="poor")
    c.household(Q2, "poor_section", pci=3_000, poverty_status="poor")
    c.pairing(Q2, "poor_section", "s1", "section_level")
    c.household(Q2, "poor_ok", pci=3_000, poverty_status="poor")
    c.pairing(Q2, "poor_ok", "L1", "county_leader")
    c.pairing(Q2, "poor_ok", "t1", "township_cadre")
    c.household(Q2, "lapsed_only", pci=5_000, monitoring_category="unstable_exited")
    c.pairing(Q2, "lapsed_only", "t2", "township_cadre", end=date(2020, 6, 29))
    c.household(Q2, "ends_on_period_end", pci=5_000, monitoring_category="unstable_exited")
    c.pairing(Q2, "ends_on_period_end", "t3", "township_cadre", end=date(2020, 6, 30))
    c.household(Q2, "not_watched", pci=20_000)
    # cadre v1 carries 11 households (maximum 10); v2 exactly 10
    for i in range(11):
        c.household(Q2, f"load{i:02d}", pci=5_500, monitoring_category="unstable_exited")
        c.pairing(Q2, f"load{i:02d}", "v1", "village_cadre")
    for i in range(10):
        c.household(Q2, f"full{i:02d}", pci=5_500, monitoring_category="unstable_exited")
        c.pairing(Q2, f"full{i:02d}", "v2", "village_cadre")
    c.run(Q2)
    gaps = c.read("assistance_gaps", Q2)
    by = {g: set(gaps[gaps.gap == g].household_key) for g in gaps.gap.unique()}
    assert by["no_pairing"] == {"poor_unpaired", "lapsed_only"}
    assert by["wrong_level"] == {"poor_section"}
    assert set(gaps[gaps.household_key == "poor_section"].requirement) == {"poor_county_leader"}
    assert by["pairing_lapsed"] == {"lapsed_only"}
    assert by["cadre_overloaded"] == {f"load{i:02d}" for i in range(11)}
    assert set(gaps[gaps.gap == "cadre_overloaded"].cadre_households) == {11}
    assert "not_watched" not in set(gaps.household_key)
    assert "ends_on_period_end" not in set(gaps.household_key)
    assert "poor_ok" not in set(gaps.household_key)
    cov = c.read("assistance_coverage", Q2).iloc[0]
    assert cov.households_no_pairing == 2 and cov.households_wrong_level == 1
    assert cov.overloaded_cadres == 1 and cov.lapsed_pairings == 1
    assert cov.households_needing_assistance == 3 + 2 + 21
    assert cov.households_covered == cov.households_needing_assistance - 3
