"""The risk stage reads its rules through the Policy: renaming a band works, renaming a signal half
way is refused at load, values come in as parameter tables, the 两不愁三保障 gaps come from the
stored int_household_deprivations (validate's), and a missing one stops the stage with one line."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from pipelines import cli, warehouse
from pipelines.config import CONFIG_DIR
from pipelines.policy import PolicyError, load_policy
from tests.risk.conftest import LINES, City, make_policy

Q2 = "2020Q2"  # 2020 lines (conftest LINES): national 4000, guideline 4500, monitoring 6000


def copied_config(tmp_path: Path, old: str, new: str, *more: tuple[str, str], count: int | None = 1) -> Path:
    """A copy of config/ with `old` replaced by `new` in risk.toml (each pair of `more` too), every
    text found `count` times (None: any number of times, at least once)."""
    target = tmp_path / "config"
    shutil.copytree(CONFIG_DIR, target)
    path = target / "risk.toml"
    text = path.read_text(encoding="utf-8")
    for before, after in ((old, new), *more):
        found = text.count(before)
        assert found and (count is None or found == count), f"{before!r} found {found} times in risk.toml"
        text = text.replace(before, after)
    path.write_text(text, encoding="utf-8")
    return target


def _households(c: City) -> None:
    c.household(Q2, "h5999", pci=5_999)  # below the monitoring line only
    c.household(Q2, "h4499", pci=4_499)
    c.household(Q2, "h3999", pci=3_999)
    c.household(Q2, "h6000", pci=6_000)
    c.household(Q2, "h_medical", pci=9_000, medical_out_of_pocket=25_000.0)


def test_renaming_a_band_code_changes_no_level(tmp_path):
    renamed = load_policy(copied_config(tmp_path, '[[bands]]\ncode = "near_threshold"', '[[bands]]\ncode = "near_line"'),
                          overrides={"lines": LINES})
    assert [b.code for b in renamed.risk.bands][2] == "near_line"
    out = {}
    for name, policy in (("base", make_policy()), ("renamed", renamed)):
        c = City(tmp_path / name, policy)
        _households(c)
        c.run(Q2)
        out[name] = c.read("risk", Q2)
    r = out["renamed"].loc["h5999"]
    assert (r.income_band, r.risk_level, r.risk_level_label) == ("near_line", "medium", "中")
    assert list(r.reasons) == ["人均纯收入低于监测线"] and r.sig_near_threshold
    # nothing but the band's code differs
    base = out["base"].assign(income_band=out["base"].income_band.replace("near_threshold", "near_line"))
    pd.testing.assert_frame_equal(base, out["renamed"])


def test_renaming_a_band_signal_everywhere_moves_the_signal_with_it(tmp_path):
    """The band -> signal link is the band's `signal` (param_bands), not a code in the SQL."""
    policy = load_policy(copied_config(tmp_path, "near_threshold", "near_line", count=None), overrides={"lines": LINES})
    c = City(tmp_path, policy)
    _households(c)
    c.run(Q2)
    r = c.read("risk", Q2)
    assert "sig_near_threshold" not in r.columns
    assert r.loc["h5999", "sig_near_line"] and r.loc["h5999", "risk_level"] == "medium"
    assert not r.loc["h6000", "sig_near_line"] and r.loc["h6000", "risk_level"] == "none"


def test_renaming_a_signal_without_its_uses_is_refused_at_load(tmp_path, monkeypatch, capsys):
    config = copied_config(tmp_path, '[[signal]]\ncode = "large_medical"', '[[signal]]\ncode = "big_medical"')
    with pytest.raises(PolicyError) as err:
        load_policy(config)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith("config/risk.toml [[levels]] medium.any_of: unknown signal 'large_medical'")
    # the command stops with that line and exit code 2, before reading any data
    monkeypatch.setenv("POVMON_CONFIG", str(config))
    assert cli.main(["risk", "--period", Q2, "--processed", str(tmp_path / "nothing")]) == 2
    assert capsys.readouterr().err.strip().endswith(message)


def test_a_signal_the_sql_does_not_compute_is_refused(tmp_path):
    """Renamed everywhere in risk.toml, the config loads, but the SQL computes no sig_big_medical."""
    config = copied_config(tmp_path, '"large_medical"', '"big_medical"', ("\nlarge_medical = ", "\nbig_medical = "),
                           count=None)
    policy = load_policy(config, overrides={"lines": LINES})
    c = City(tmp_path, policy)
    _households(c)
    with pytest.raises(PolicyError, match=r"^config/risk.toml \[\[signal\]\]: 'big_medical' is neither computed by "
                                          r"pipelines/risk/sql/int_risk_signals.sql nor carried by an income band"):
        c.run(Q2)


def test_a_band_may_not_claim_a_signal_the_sql_computes(tmp_path):
    base = make_policy()
    bands = [b.model_dump() for b in base.risk.bands]
    bands[2]["signal"] = "large_medical"
    c = City(tmp_path, make_policy(risk={"bands": bands}))
    with pytest.raises(PolicyError, match=r"\[\[bands\]\] near_threshold.signal: 'large_medical' is computed by"):
        c.run(Q2)


def test_a_watch_group_naming_an_unknown_status_group_is_refused():
    groups = [g.model_dump(exclude_none=True) for g in make_policy().risk.watch_groups]
    groups[0]["when"] = [{"status_group_in": ["destitute"]}]
    with pytest.raises(PolicyError) as err:
        make_policy(risk={"watch_groups": groups})
    assert str(err.value).startswith("config/risk.toml [[watch_groups]] not_exited.status_group_in: "
                                     "unknown status group 'destitute'; expected one of poor, exited")


def test_thresholds_labels_and_limits_come_from_the_policy(tmp_path):
    policy = make_policy(risk={"no_risk_label": "无", "signals": {"large_medical_min": 10_000},
                               "assistance": {"max_households_by_rank": {"village_cadre": 11}}})
    c = City(tmp_path, policy)
    c.household(Q2, "plain", pci=9_000)
    c.household(Q2, "medical", pci=9_000, medical_out_of_pocket=15_000.0)
    for i in range(11):  # eleven households on one village cadre: at the rank's maximum, not over it
        c.household(Q2, f"load{i:02d}", pci=5_500, monitoring_category="unstable_exited")
        c.pairing(Q2, f"load{i:02d}", "v1", "village_cadre")
    c.run(Q2)
    r = c.read("risk", Q2)
    assert (r.loc["plain", "risk_level"], r.loc["plain", "risk_level_label"]) == ("none", "无")
    assert r.loc["medical", "sig_large_medical"] and r.loc["medical", "reasons_text"] == "医疗自付费用超过10,000元"
    assert "cadre_overloaded" not in set(c.read("assistance_gaps", Q2).gap)


def test_no_risk_is_labelled_from_the_config(city):
    city.household(Q2, "plain", pci=9_000)
    city.run(Q2)
    r = city.read("risk", Q2).loc["plain"]
    assert (r.risk_level, r.risk_level_label) == ("none", city.policy.risk.no_risk_label)
    assert r.risk_level_label == "无风险信号"


def test_gaps_come_from_the_stored_deprivations(city):
    """risk reads validate's int_household_deprivations; it does not recompute the criteria."""
    city.household(Q2, "h", pci=9_000, water_safe=True)
    processed = city.write()
    with duckdb.connect() as con:  # as if validate had found the household's water unsafe
        source = warehouse.scan(processed, "int_household_deprivations", Q2)
        con.execute(f"create table d as select * replace (true as water_deprived) from {source}")
        warehouse.write_table(con, "d", processed, "int_household_deprivations", Q2, order_by="household_key")
    from pipelines.risk.pipeline import run

    run(processed, Q2, policy=city.policy)
    r = city.read("risk", Q2).loc["h"]
    assert r.sig_gap_water and r.reasons_text == "饮水安全未保障"


def test_missing_deprivations_stop_the_stage_with_one_line(city, capsys, monkeypatch):
    city.household(Q2, "h")
    processed = city.write(deprivations=False)
    expected = f"risk {Q2}: input int_household_deprivations for {Q2} not found: run povmon validate --period {Q2} first"
    from pipelines.risk.pipeline import run

    with pytest.raises(FileNotFoundError) as err:
        run(processed, Q2, policy=city.policy)
    assert str(err.value) == expected
    assert not (processed / "risk").exists()  # nothing written
    assert cli.main(["risk", "--period", Q2, "--processed", str(processed)]) == 2
    assert capsys.readouterr().err.strip() == f"povmon risk: error: {expected}"


def test_stale_deprivations_are_refused(city):
    city.household(Q2, "h")
    city.write()
    city.household(Q2, "late")  # ingested again after validate: the stored model misses it
    processed = city.write(deprivations=False)
    from pipelines.risk.pipeline import run

    with pytest.raises(FileNotFoundError, match=r"int_household_deprivations for 2020Q2 has no row for 1 household"):
        run(processed, Q2, policy=city.policy)
