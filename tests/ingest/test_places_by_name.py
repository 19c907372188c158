"""Exports that name the place instead of giving the 12-digit village code (domain.md §1 member
export: 县(市、区), 乡(镇), 行政村, 自然村, 户编号 … no 行政区划代码): names resolve against
config/regions (villages.csv) after full-/half-width and suffix normalisation; an unknown or
ambiguous name is quarantined with its reason and closest candidates, never guessed."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import duckdb
import pytest

from pipelines.config import CONFIG_DIR
from pipelines.ingest.pipeline import run
from pipelines.policy import PolicyError, load_policy
from tests.ingest.conftest import household, make_id, person, write_csv

# the member export of domain.md §1, as a county sends it: names, no village code
NAMES_ONLY = [
    "序号", "县(市、区)", "乡(镇)", "行政村", "自然村", "户编号", "人编号", "姓名", "证件号码", "人数", "与户主关系",
    "民族", "文化程度", "在校生状况", "健康状况", "劳动技能", "务工状况", "务工时间（月）", "参加大病医疗", "脱贫属性",
    "贫困户属性", "主要致贫原因", "危房户", "饮水安全", "饮水困难", "人均纯收入", "联系电话",
]


def _household(hh: str, seq0: int, county: str, township: str, village: str) -> list[dict]:
    rows = household(hh, seq0)
    for r in rows:
        r.update({"县(市、区)": county, "乡(镇)": township, "行政村": village, "自然村": "一组", "民族": "汉族",
                  "参加大病医疗": "是", "脱贫属性": "已脱贫（享受政策）", "危房户": "否", "饮水安全": "是",
                  "饮水困难": "否", "务工状况": "", "务工时间（月）": ""})
    return rows


# these files are mostly quarantined on purpose: the per-file limit is lifted (tested below)
LIFTED = {"thresholds": {"ingest": {"max_quarantined_share": 1.0}}}


def _ingest(raw: Path, tmp_path: Path, policy=None):
    summary = run(raw, tmp_path / "processed", policy=policy or load_policy(overrides=LIFTED))
    return summary, duckdb.connect(str(tmp_path / "processed" / "povmon.duckdb"), read_only=True)


def _data_rows(path: Path) -> int:
    """Data rows of a hand-written CSV, counted from the file itself (header line excluded)."""
    with open(path, encoding="utf-8", newline="") as fh:
        return sum(1 for _ in csv.reader(fh)) - 1


CASES = [  # (county, township, village as written) -> the village code they must resolve to
    (("陵川县", "崇文镇", "口坪村委会"), "140524100200"),
    (("陵川县", "崇文镇", "小窑村"), "140524100201"),           # 村 for 村委会
    (("陵川", "崇文", "店王"), "140524100202"),                 # no suffixes at all
    (("陵川县", "崇文\u3000镇", " 山窑村委会 "), "140524100203"),  # ideographic and ASCII spaces
    (("陵川县", "礼义镇", "前杨村民委员会"), "140524101200"),     # the long form of 村委会
]


def test_names_resolve_to_the_village_code(raw_dir, tmp_path):
    rows = []
    for i, (names, _code) in enumerate(CASES):
        rows += _household(f"14052410020{i:05d}", 10 + i, *names)
    path = write_csv(raw_dir / "registry" / "2020Q4" / "陵川县.csv", rows, headers=NAMES_ONLY)
    summary, con = _ingest(raw_dir, tmp_path)
    got = dict(con.execute("select village_code, count(*) from persons group by 1").fetchall())
    assert got == {code: 3 for _names, code in CASES}
    assert summary["files"]["rows_read"] == _data_rows(path) == 15
    assert summary["files"]["rows_loaded"] == 15 and summary["files"]["rows_quarantined"] == 0
    # township and county codes follow from the resolved village code
    assert con.execute("select distinct county_code, township_code from persons order by 2").fetchall() == [
        ("140524", "140524100"), ("140524", "140524101")]


def test_unknown_names_are_quarantined_with_closest_candidates_never_guessed(raw_dir, tmp_path):
    rows = (_household("1405241002000001", 10, "陵川县", "崇文镇", "口坪村委会")
            + _household("1405241002000002", 20, "陵川县", "崇文镇", "口坪坪村")       # no such village
            + _household("1405241002000003", 30, "陵川县", "崇闻镇", "口坪村委会")     # township misspelt
            + _household("1405241002000004", 40, "泽州", "崇文镇", "口坪村委会"))      # 崇文镇 is not in 泽州县
    path = write_csv(raw_dir / "registry" / "2020Q4" / "陵川县.csv", rows, headers=NAMES_ONLY)
    summary, con = _ingest(raw_dir, tmp_path)
    assert con.execute("select count(*) from persons").fetchone()[0] == 3
    q = con.execute("select source_row, reason, column_name, detail from quarantine order by source_row").fetchall()
    assert [r[0] for r in q] == list(range(5, 14))
    assert {r[1] for r in q} == {"unknown_place_name"}
    by_row = {r[0]: r for r in q}
    assert by_row[5][2] == "行政村"  # the header as written
    assert "village '口坪坪村' not found under 崇文镇 140524100" in by_row[5][3]
    assert "closest: 口坪村委会 140524100200" in by_row[5][3]
    assert by_row[8][2] == "乡(镇)"
    assert "township '崇闻镇' not found under 陵川县 140524" in by_row[8][3]
    assert "closest: 崇文镇 140524100" in by_row[8][3]
    assert by_row[11][2] == "乡(镇)" and "under 泽州县 140525" in by_row[11][3]
    # rows read = loaded + quarantined, counted from the file and from each table independently
    m = con.execute("select rows_read, rows_loaded, rows_quarantined from ingest_manifest").fetchone()
    assert m == (_data_rows(path), 3, 9)
    assert con.execute("select count(*) from quarantine").fetchone()[0] + 3 == _data_rows(path)


def _config_with(tmp_path: Path, extra_rows: list[str]) -> Path:
    config = tmp_path / "config"
    shutil.copytree(CONFIG_DIR, config)
    with open(config / "regions" / "villages.csv", "a", encoding="utf-8") as fh:
        fh.writelines(row + "\n" for row in extra_rows)
    return config


def test_an_ambiguous_name_is_quarantined_naming_every_match(raw_dir, tmp_path):
    # a 居委会 of the same name as a 村委会 of the township: 口坪 is either
    config = _config_with(tmp_path, ["140524100150,口坪社区居委会,140524100,111,false"])
    rows = (_household("1405241002000001", 10, "陵川县", "崇文镇", "口坪")
            + _household("1405241002000002", 20, "陵川县", "崇文镇", "口坪村")
            + _household("1405241002000003", 30, "陵川县", "崇文镇", "口坪村委会"))  # written exactly: that one
    write_csv(raw_dir / "registry" / "2020Q4" / "陵川县.csv", rows, headers=NAMES_ONLY)
    summary, con = _ingest(raw_dir, tmp_path, load_policy(config, overrides=LIFTED))
    q = con.execute("select source_row, reason, detail from quarantine order by 1").fetchall()
    assert [r[0] for r in q] == list(range(2, 8)) and {r[1] for r in q} == {"ambiguous_place_name"}
    assert "village '口坪' matches 2 places" in q[0][2] and "village '口坪村' matches 2 places" in q[3][2]
    assert "口坪社区居委会 140524100150" in q[0][2] and "口坪村委会 140524100200" in q[0][2]
    # the name written exactly as config/regions spells it is not ambiguous
    assert con.execute("select village_code, count(*) from persons group by 1").fetchall() == [("140524100200", 3)]


def test_a_file_with_a_code_column_keeps_its_codes(raw_dir, tmp_path):
    # names disagreeing with config/regions do not matter when the code is given
    rows = household("1405241002000001", 10)
    write_csv(raw_dir / "registry" / "2020Q4" / "陵川县.csv", rows)
    _summary, con = _ingest(raw_dir, tmp_path)
    assert con.execute("select distinct village_code from persons").fetchall() == [("140524100200",)]


@pytest.mark.parametrize("row, message", [
    ("140524999200,某村委会,140524999,220,true", "column township_code: found '140524999'"),
    ("14052410020,某村委会,140524100,220,true", "column code: found '14052410020'"),
    ("140524100200,某村委会,140524100,220,true", "140524100200 listed twice"),
    ("140524100998,某村委会,140524100,220,maybe", "column synthetic: found 'maybe'"),
])
def test_a_bad_village_reference_is_refused_at_load(tmp_path, row, message):
    config = _config_with(tmp_path, [row])
    with pytest.raises(PolicyError, match="config/regions/villages.csv row 1018") as err:
        load_policy(config)
    assert message in str(err.value)


def test_the_sample_city_villages_are_those_its_seed_draws():
    from pipelines.synth.pipeline import village_reference_frame

    frame = village_reference_frame(20201231)
    policy = load_policy()
    assert [(v.code, v.name, v.township_code, v.urban_rural_code) for v in policy.villages] == list(
        frame[["code", "name", "township_code", "urban_rural_code"]].itertuples(index=False, name=None))
    assert all(v.synthetic for v in policy.villages)


def test_a_file_mostly_quarantined_is_refused_naming_file_and_top_reasons(raw_dir, tmp_path):
    from pipelines.ingest.readers import IngestError

    rows = (_household("1405241002000001", 10, "陵川县", "崇文镇", "口坪村委会")
            + _household("1405241002000002", 20, "陵川县", "崇文镇", "无此村")
            + _household("1405241002000003", 30, "陵川县", "崇文镇", "也无此村"))
    write_csv(raw_dir / "registry" / "2020Q4" / "陵川县.csv", rows, headers=NAMES_ONLY)
    with pytest.raises(IngestError) as err:
        run(raw_dir, tmp_path / "processed")  # the configured limit: at most 50 %
    text = str(err.value)
    assert "registry/2020Q4/陵川县.csv: 6 of 9 rows (blank and totals rows aside) quarantined" in text
    assert "top reasons: unknown_place_name 6" in text
    assert not (tmp_path / "processed" / "current").exists()  # nothing published


def test_a_configured_household_id_rule_places_rows_before_names(raw_dir, tmp_path):
    """[ingest.places] household_id_village_digits = 12: the 户编号's first 12 digits, when a village
    of config/regions, place the row (names not needed); otherwise names decide."""
    rows = (_household("1405241002010001", 10, "陵川县", "崇文镇", "无此村")       # 户编号 of 小窑村委会
            + _household("9999991002000002", 20, "陵川县", "崇文镇", "口坪村委会"))  # no such village: names
    write_csv(raw_dir / "registry" / "2020Q4" / "陵川县.csv", rows, headers=NAMES_ONLY)
    rule = load_policy(overrides={"thresholds": {"ingest": {"places": {"household_id_village_digits": 12}}}})
    _summary, con = _ingest(raw_dir, tmp_path, rule)
    assert con.execute("select village_code, count(*) from persons group by 1 order by 1").fetchall() == [
        ("140524100200", 3), ("140524100201", 3)]
    # without the rule the first household's name is unknown
    _summary, con = _ingest(raw_dir, tmp_path / "off")
    assert con.execute("select count(*), min(reason) from quarantine").fetchone() == (3, "unknown_place_name")
