"""The policy layer (pipelines/policy): one typed, cross-checked load of config/; every reference
checked at load; one line resolver, one calendar, one label set; a bad config is one line, exit 2."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from pipelines import cli
from pipelines.config import CONFIG_DIR
from pipelines.policy import Calendar, PolicyError, load_policy


@pytest.fixture
def config_copy(tmp_path) -> Path:
    """A copy of the project's config folder a test may edit."""
    dest = tmp_path / "config"
    shutil.copytree(CONFIG_DIR, dest)
    return dest


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


# ---- lines: the one resolver ---------------------------------------------------------------------

LINES = {
    "national": {"label": "国家", "values": [{"year": 2019, "value": 3000, "status": "official"},
                                              {"year": 2020, "value": 4000, "status": "secondary"}]},
    "provincial_guideline": {"label": "省定", "values": [{"year": 2019, "value": 3700, "status": "placeholder"}]},
    "monitoring": {"label": "监测", "factor_of": "national", "factor": 1.5},
}


def test_lines_skip_a_year_without_a_value_and_derive_factor_lines():
    lines = load_policy(overrides={"lines": LINES}).lines
    got = {k: (v.value, v.status) for k, v in lines.for_year(2020).items()}
    assert got == {"national": (4000.0, "secondary"), "monitoring": (6000.0, "secondary")}  # no 2020 guideline
    assert lines.value("monitoring", 2019).value == 4500.0
    assert lines.value("provincial_guideline", 2019).confirmed is False
    assert lines.value("national", 2021) is None
    # every (line, year) that resolves, for the param_lines table: 3 in 2019, 2 in 2020
    assert [(v.year, v.name) for v in lines.rows()] == [
        (2019, "national"), (2019, "provincial_guideline"), (2019, "monitoring"), (2020, "national"), (2020, "monitoring")]
    assert lines.name_of("guideline") == "provincial_guideline"


def test_a_line_defined_as_a_factor_of_an_unknown_line_is_refused():
    bad = {**LINES, "monitoring": {"label": "监测", "factor_of": "nationl", "factor": 1.5}}
    with pytest.raises(PolicyError, match=r"config/lines.toml \[monitoring\].factor_of: unknown line 'nationl'"):
        load_policy(overrides={"lines": bad})


# ---- the calendar: one deadline rule for any year -------------------------------------------------

def test_calendar_deadlines_recur_every_year():
    cal = Calendar.from_month_days(["06-30", "04-30", "12-31", "09-30"])
    assert cal.deadlines_in(2023) == [date(2023, 4, 30), date(2023, 6, 30), date(2023, 9, 30), date(2023, 12, 31)]
    assert cal.next_deadline(date(2021, 5, 1)) == date(2021, 6, 30)
    assert cal.next_deadline(date(2021, 12, 31)) == date(2021, 12, 31)
    assert cal.next_deadline(date(2021, 12, 31), strictly_after=True) == date(2022, 4, 30)
    leap = Calendar.from_month_days(["02-29"])
    assert leap.deadlines_in(2021) == [date(2021, 2, 28)] and leap.deadlines_in(2024) == [date(2024, 2, 29)]


# ---- one definition of each shared rule ------------------------------------------------------------

def test_status_groups_and_labels_are_defined_once():
    policy = load_policy()
    assert policy.groups["poor"] == ("poor", "returned")
    # risk level "none" and the 风险消除 statuses have one label each, wherever they are shown
    assert policy.labels.label("risk_level", "none") == policy.risk.no_risk_label
    assert policy.labels.of("elimination_status") == policy.risk.elimination_labels
    assert policy.labels.sources["risk_level"] == "config/risk.toml [[levels]]"


def test_a_label_domain_defined_in_two_files_is_refused(config_copy):
    _edit(config_copy / "report.toml", "[labels.status_flow]", "[labels.risk_level]\nhigh = \"高风险\"\n\n[labels.status_flow]")
    with pytest.raises(PolicyError, match=r"label domain 'risk_level' is already defined in config/risk.toml"):
        load_policy(config_copy)


# ---- references checked at load ----------------------------------------------------------------------

def test_renaming_a_band_is_accepted_and_renaming_a_used_signal_is_refused(config_copy):
    # a band's code is only a name: renaming it changes no rule (its signal is linked by `signal`)
    _edit(config_copy / "risk.toml", 'code = "near_threshold"\nlabel = "监测线以下(临界)"',
          'code = "near_line"\nlabel = "监测线以下(临界)"')
    policy = load_policy(config_copy)
    assert [b.signal for b in policy.risk.bands if b.code == "near_line"] == ["near_threshold"]
    # renaming the signal itself without renaming its uses is refused, naming file and key
    _edit(config_copy / "risk.toml", '[[signal]]\ncode = "near_threshold"', '[[signal]]\ncode = "near_line_signal"')
    with pytest.raises(PolicyError) as err:
        load_policy(config_copy)
    assert "config/risk.toml [[bands]].signal: unknown signal 'near_threshold'" in str(err.value)
    assert "\n" not in str(err.value)


def test_unknown_status_group_in_a_watch_group_is_refused(config_copy):
    _edit(config_copy / "risk.toml", 'when = [{ status_group_in = ["poor"] }]', 'when = [{ status_group_in = ["pooor"] }]')
    with pytest.raises(PolicyError, match=r"\[\[watch_groups\]\] not_exited.status_group_in: unknown status group 'pooor'"):
        load_policy(config_copy)


def test_overlapping_header_aliases_are_refused_naming_both_columns(config_copy):
    # the hint "add 行政村 as a village_code alias" must not silently lose to village_name
    _edit(config_copy / "header_aliases.toml", 'village_code     = { aliases = ["行政区划代码"',
          'village_code     = { aliases = ["行政村", "行政区划代码"')
    with pytest.raises(PolicyError, match=r"header spelling '行政村' is listed for both village_name and village_code"):
        load_policy(config_copy)


def test_a_misspelt_key_and_a_wrong_type_name_file_and_key(config_copy):
    _edit(config_copy / "measures.toml", "lonely_psu =", "lonley_psu =")
    with pytest.raises(PolicyError) as err:
        load_policy(config_copy)
    msg = str(err.value)
    assert "config/measures.toml [survey].lonley_psu: unknown key" in msg
    assert "config/measures.toml [survey].lonely_psu: Field required" in msg


def test_every_command_stops_on_a_bad_config_with_one_line(config_copy, monkeypatch, capsys):
    _edit(config_copy / "policy.toml", 'poor = ["poor", "returned"]', 'poor = ["poor", "retuned"]')
    monkeypatch.setenv("POVMON_CONFIG", str(config_copy))
    code = cli.main(["measures", "--period", "2020Q2", "--processed", str(config_copy / "nowhere")])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.count("\n") == 0
    assert "config/policy.toml [status_groups].poor: unknown 脱贫状态 code 'retuned'" in err
