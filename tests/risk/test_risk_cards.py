"""明白卡: the head's name comes from data/raw at print time; nothing under processed_dir holds it."""

from __future__ import annotations

from pathlib import Path

from pipelines.keys import household_key
from pipelines.risk.cards import raw_head_names, write_village_cards

Q2 = "2020Q2"
VILLAGE = "140524100200"  # the default village of the tests/risk/conftest.py builder
HEAD = "张秀英"
SPOUSE = "李建国"
HEADER = "县(市、区),乡(镇),行政村,行政区划代码,户编号,人编号,姓名,证件号码,人数,与户主关系,健康状况\n"


def _raw_registry(raw: Path, hid: str) -> None:
    folder = raw / "registry" / Q2
    folder.mkdir(parents=True)
    rows = [
        f"陵川县,崇文镇,某村,{VILLAGE},{hid},P1,{SPOUSE},11010519491231002X,2,配偶,健康\n",
        f"陵川县,崇文镇,某村,{VILLAGE},{hid},P2,{HEAD},34052419800101001X,2,户主,健康\n",
        f"陵川县,崇文镇,某村,{VILLAGE},H999,P3,王五,34052419800101001X,1,户主,健康\n",
    ]
    (folder / "140524_陵川县_registry.csv").write_text("\ufeff" + HEADER + "".join(rows), encoding="utf-8")


def test_card_names_the_head_from_raw_and_processed_never_does(city, tmp_path):
    hid = "140524100200001"
    key = household_key(hid)
    city.household(Q2, key, pci=4_000, poverty_status="poor")
    city.pairing(Q2, key, "L1", "county_leader", cadre_name="赵县长", cadre_phone="13511112222")
    city.household(Q2, "not_watched", pci=30_000)
    city.run(Q2)
    processed = city.processed
    _raw_registry(tmp_path / "raw", hid)

    cards = write_village_cards(processed, Q2, VILLAGE, raw_dir=tmp_path / "raw", out_dir=tmp_path / "cards")
    assert [p.name for p in cards] == [f"{key}.html"]
    html = cards[0].read_text(encoding="utf-8")
    assert HEAD in html and SPOUSE not in html
    assert "赵县长" in html and "13511112222" in html
    assert "人均纯收入低于省定指导线" in html
    assert cards[0].parent == tmp_path / "cards" / VILLAGE
    for f in processed.rglob("*"):
        if f.is_file():
            assert HEAD.encode("utf-8") not in f.read_bytes(), f


def test_raw_lookup_finds_only_heads(tmp_path):
    _raw_registry(tmp_path / "raw", "H1")
    names = raw_head_names(Q2, tmp_path / "raw")([household_key("H1"), household_key("H999"), "nope"])
    assert names == {household_key("H1"): HEAD, household_key("H999"): "王五"}


def test_injected_lookup_and_missing_cadre(city, tmp_path):
    city.household(Q2, "k1", pci=5_000, monitoring_category="marginal", household_type="marginal",
                   poverty_status=None)
    city.run(Q2)
    processed = city.processed
    cards = write_village_cards(processed, Q2, VILLAGE, head_names=lambda keys: {k: "测试户主" for k in keys},
                                out_dir=tmp_path / "cards")
    html = cards[0].read_text(encoding="utf-8")
    assert "测试户主" in html and "尚未落实帮扶责任人" in html
