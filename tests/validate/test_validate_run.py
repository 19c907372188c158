"""Full validate runs on hand-built quarters: the gate, known findings, each criterion, the
Data Docs, the ledger, and committed suites that runs never rewrite."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from conftest import VILLAGE_A, family, finding, household, person, write_city
from pipelines.config import EXPECTATIONS_DIR
from pipelines.validate import pipeline, suites

PERIOD = "2020Q2"


def _run(tmp_path, tables):
    processed = write_city(tmp_path / "processed", PERIOD, tables)
    return pipeline.run(processed, PERIOD, docs_dir=tmp_path / "docs", reports_dir=tmp_path / "reports",
                        raw_dir=tmp_path / "raw")


def _criteria_city(city):
    """Planted deprivations and edge cases on households e1..e13 (village A)."""
    def add(hh, members=None, **hh_over):
        ms = members or family(hh)
        city["persons"].extend(ms)
        city["households"].append(household(hh, size=len(ms), **hh_over))
        city["pairings"].append({**city["pairings"][0], "household_key": hh, "cadre_id": f"c-{hh}"})

    add("e01", food_secure=False)
    add("e02", clothing_secure=False)
    add("e03", [person("e03", "e03-p1", "head", "male", 40), person("e03", "e03-p2", "son", "male", 15)])
    add("e04", [person("e04", "e04-p1", "head", "male", 40), person("e04", "e04-p2", "son", "male", 16)])
    add("e05", [person("e05", "e05-p1", "head", "male", 40),
                person("e05", "e05-p2", "son", "male", 10, send_teaching=True, health_healthy=False,
                       health_disabled=True, labour_skill="none")])
    add("e06", [person("e06", "e06-p1", "head", "male", 30),
                person("e06", "e06-p2", "daughter", "female", 0, resident_med_ins=False,
                       critical_illness_ins=False, labour_skill=None)])
    add("e07", [person("e07", "e07-p1", "head", "male", 50, critical_illness_ins=False)])
    add("e08", housing_grade="C", housing_secured_by=None, dilapidated=True)
    add("e09", housing_grade="C", housing_secured_by="renovated")
    add("e10", water_quantity_lpd=34.9)
    add("e11", water_quantity_lpd=35.0)
    add("e12", water_quality="fails", water_safe=False)
    add("e13", water_outage_days=50.0, water_safe=False)
    return city


def test_clean_quarter_passes_and_flags_exactly_the_planted_households(tmp_path, city):
    committed = {p.name: p.read_bytes() for p in EXPECTATIONS_DIR.glob("*.json")}
    summary = _run(tmp_path, _criteria_city(city))
    assert summary["data_quality"]["success"], summary["data_quality"]
    assert (tmp_path / "docs" / "index.html").exists()
    rows = duckdb.sql(f"select household_key, criterion, status, members from "
                      f"read_parquet('{summary['ledger']['output']}') order by 1, 2").fetchall()
    assert [(r[0], r[1]) for r in rows] == [
        ("e01", "food"), ("e02", "clothing"), ("e03", "education"), ("e07", "medical"),
        ("e08", "housing"), ("e12", "water"), ("e13", "water")]
    assert {r[2] for r in rows} == {"新发现"}
    assert rows[2][3] == "e03-p2：15岁，未在校" and rows[3][3] == "e07-p1：未参加大病保险"
    assert summary["criteria_failing_households"] == {"food": 1, "clothing": 1, "education": 1, "medical": 1,
                                                      "housing": 1, "water": 2}
    assert summary["ledger"]["excel"] and Path(summary["ledger"]["excel"][0]).exists()
    # runs never rewrite the committed suites, and the suites match the configuration
    assert {p.name: p.read_bytes() for p in EXPECTATIONS_DIR.glob("*.json")} == committed
    assert suites.load_suites().keys() == set(suites.SUITE_TABLES)


def test_planted_defects_fail_the_gate_with_a_clear_message(tmp_path, city):
    P = {p["person_key"]: p for p in city["persons"]}
    H = {h["household_key"]: h for h in city["households"]}
    P["h1-p2"]["relation"] = "head"                     # two 户主, unreported
    P["h2-p2"]["sex"] = "male"                          # 户主 and 配偶 same sex
    H["h3"]["household_size"] = 4                       # 人数 4, three member rows (h1 too: duplicate row)
    P["h4-p3"]["relation"] = "boss"                     # code outside code_labels
    P["h4-p1"]["id_valid"] = False                      # invalid ID without a finding
    P["h1-p1"]["age"] = 130
    P["h1-p1"].update(work_location="北京市", work_months=13.0)
    P["h2-p1"].update(work_location="北京市", work_months=None)
    P["h3-p1"]["employee_med_ins"] = True               # both basic insurances
    P["h3-p2"]["health_healthy"] = False                # 健康状况 empty
    H["h4"]["gross_income"] = 11000.0                   # identity off
    city["pairings"][0]["cadre_phone"] = "1390000"
    city["persons"].append(dict(P["h1-p1"], person_key="h1-p1"))             # duplicate key
    city["persons"].append(person("ghost", "ghost-p1", "head", "male", 40))   # no household
    city["households"].append(household("h9", village="140524100299", size=1))  # village not in regions
    city["persons"].append(person("h9", "h9-p1", "head", "male", 40, village="140524100299"))
    with pytest.raises(pipeline.DataQualityError) as err:
        _run(tmp_path, city)
    message = str(err.value)
    for title, n in [("人员键唯一", 2), ("每个成员都属于一个户", 1), ("每户恰有一名户主", 1),
                     ("户主与配偶性别不同", 1), ("人数与成员行数一致", 2), ("relation 在代码表 [relation] 内", 1),
                     ("证件号码有效", 1), ("年龄在合理范围", 2), ("务工时间 0–12 个月", 2),
                     ("务工所在地与务工时间同时填写或同时为空", 1), ("城乡居民与城镇职工基本医疗保险互斥", 1),
                     ("健康状况不为空", 1), ("村代码存在于区划表", 1), ("年收入 = 工资性", 1),
                     ("帮扶责任人联系电话为 11 位数字", 1)]:
        line = next((x for x in message.splitlines() if title in x), None)
        assert line is not None, (title, message)
        assert line.endswith(f": {n} rows"), line
    assert (tmp_path / "docs" / "index.html").exists()
    assert not (tmp_path / "processed" / "problems").exists()  # blocked: no ledger


def test_known_findings_do_not_block_and_are_counted(tmp_path, city):
    P = {p["person_key"]: p for p in city["persons"]}
    H = {h["household_key"]: h for h in city["households"]}
    P["h1-p2"]["relation"] = "head"
    H["h3"]["household_size"] = 4
    P["h4-p1"]["id_valid"] = False
    H["h4"]["gross_income"] = 11000.0
    city["findings"] = [finding("multiple_heads", "h1", p) for p in ("h1-p1", "h1-p2", "h1-p3")] + [
        finding("household_size_mismatch", "h3", "h3-p1"), finding("id_checksum_invalid", "h4", "h4-p1"),
        finding("income_identity_mismatch", "h4", "h4-p1")]
    summary = _run(tmp_path, city)
    assert summary["data_quality"]["success"]
    assert summary["known_findings"] == {"household_size_mismatch": 1, "id_checksum_invalid": 1,
                                         "income_identity_mismatch": 1, "multiple_heads": 3}


def _status(processed: Path) -> list[tuple]:
    from pipelines import warehouse

    return duckdb.sql(f"select period, gate_passed, overridden, failed_expectations, failed_titles "
                      f"from {warehouse.scan(processed, 'validation_status')}").fetchall()


def test_the_gate_is_recorded_and_a_failure_removes_the_stale_ledger_unless_overridden(tmp_path, city, capsys):
    from pipelines import cli, warehouse

    processed = tmp_path / "processed"
    clean = _run(tmp_path, city)
    assert clean["gate"] == "passed"
    assert _status(processed) == [(PERIOD, True, False, 0, None)]
    assert PERIOD in warehouse.partitions(processed, "int_household_deprivations")

    # the county re-sends the quarter with an impossible age: the gate fails, and the ledger and
    # criteria models of the earlier data are no longer published for the quarter
    next(p for p in city["persons"] if p["person_key"] == "h1-p1")["age"] = 130
    write_city(processed, PERIOD, city)
    args = ["validate", "--period", PERIOD, "--processed", str(processed), "--reports", str(tmp_path / "reports")]
    assert cli.main(args) == 1
    assert "年龄在合理范围" in capsys.readouterr().err
    assert _status(processed) == [(PERIOD, False, False, 1, "年龄在合理范围")]
    for table in ("problems", "int_household_deprivations", "int_person_deprivations", "problem_summary"):
        assert PERIOD not in warehouse.partitions(processed, table), table

    # an explicit override publishes them and says so, in the status table and on stderr
    assert cli.main([*args, "--allow-failed-gate"]) == 0
    err = capsys.readouterr().err
    assert "data-quality gate failed (1 expectations) and was overridden" in err
    assert _status(processed) == [(PERIOD, False, True, 1, "年龄在合理范围")]
    assert PERIOD in warehouse.partitions(processed, "problems")
