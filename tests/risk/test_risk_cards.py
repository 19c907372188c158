"""明白卡: one for every registered and monitored household of a village (or township); names,
户编号 and 组 come from data/raw at print time; the card's numbers are the tables'; no risk level or
key on it; an index per village and one A4 PDF; nothing under processed_dir."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from benchmarks import factory
from pipelines.cli import main
from pipelines.keys import household_key, person_key
from pipelines.risk.cards import raw_head_names, write_cards
from tests.ingest.conftest import make_id, write_csv

from .conftest import COUNTY, TOWNSHIP, VILLAGE

Q2 = "2020Q2"
OTHER_VILLAGE = "140524100201"
HEADERS = ["县(市、区)", "乡(镇)", "行政村", "行政区划代码", "自然村", "户编号", "人编号", "姓名", "证件号码",
           "人数", "与户主关系", "健康状况"]
# 户编号 -> members (name, relation, age), the head first
FAMILIES = {
    "1405241002000001": (VILLAGE, [("张秀英", "户主", 52), ("李建国", "配偶", 55)]),  # still poor, 低保
    "1405241002000002": (VILLAGE, [("王福", "户主", 61)]),  # exited, nothing flagged
    "1405241002000003": (VILLAGE, [("赵兰芳", "户主", 47), ("赵小军", "之子", 12)]),  # monitored, not registered
    "1405241002000004": (VILLAGE, [("钱多多", "户主", 40)]),  # neither registered nor monitored: no card
    "1405241002010001": (OTHER_VILLAGE, [("孙立", "户主", 38)]),  # the township's other village
}


def _ids(hid: str) -> list[str]:
    """Valid ID numbers of the household's members (distinct across FAMILIES)."""
    n = list(FAMILIES).index(hid)
    return [make_id("140524", f"19{60 + i}0{n + 1}01", f"{n:02d}{i}") for i in range(len(FAMILIES[hid][1]))]


def _members(hid: str, **over) -> list[dict]:
    _v, people = FAMILIES[hid]
    return [{"person_key": person_key(pid), "age": age, **(over if i == 0 else {})}
            for i, ((_n, _r, age), pid) in enumerate(zip(people, _ids(hid)))]


def _raw(raw: Path) -> None:
    rows = []
    for hid, (village, people) in FAMILIES.items():
        for i, ((name, relation, _age), pid) in enumerate(zip(people, _ids(hid))):
            rows.append(dict(zip(HEADERS, ["陵川县", "崇文镇", "某村", village, "某村三组", hid, f"{hid}{i:02d}", name,
                                          pid, str(len(people)), relation, "健康"])))
    write_csv(raw / "registry" / Q2 / "140524_陵川县.csv", rows, headers=HEADERS)


@pytest.fixture
def carded(city, tmp_path):
    """Five households in two villages of one township, the raw export behind them, the regions."""
    key = {hid: household_key(hid) for hid in FAMILIES}
    city.household(Q2, key["1405241002000001"], pci=4_000, poverty_status="poor", transfer_income=1_200.0,
                   dibao_transfer=1_200.0, members=_members("1405241002000001", dibao=True))
    city.household(Q2, key["1405241002000002"], pci=10_000, poverty_status="exited_supported",
                   members=_members("1405241002000002"))
    city.household(Q2, key["1405241002000003"], pci=5_000, poverty_status=None, household_type="marginal",
                   monitoring_category="marginal", members=_members("1405241002000003"))
    city.household(Q2, key["1405241002000004"], pci=30_000, poverty_status=None, household_type="marginal",
                   members=_members("1405241002000004"))
    city.household(Q2, key["1405241002010001"], pci=4_000, poverty_status="poor", village_code=OTHER_VILLAGE,
                   members=_members("1405241002010001"))
    city.pairing(Q2, key["1405241002000001"], "L1", "county_leader", cadre_name="赵县长", cadre_phone="13511112222",
                 cadre_unit="县政府")
    city.pairing(Q2, key["1405241002000001"], "OLD", "staff", cadre_name="旧干部", end=date(2020, 3, 1))
    city.pairing(Q2, key["1405241002000003"], "T1", "staff", cadre_name="周队员", cadre_phone="13600001111",
                 cadre_unit="市农业农村局", resident_team=True)
    city.run(Q2)
    factory.write(city.processed, {"regions": factory.region_rows(
        {COUNTY: "陵川县"}, {TOWNSHIP: "崇文镇"}, {VILLAGE: "东村村委会", OTHER_VILLAGE: "西村村委会"})})
    _raw(city.processed.parent / "raw")
    return city, key


def _field(html: str, name: str) -> str:
    return re.search(rf'data-field="{name}">([^<]*)<', html).group(1)


def _money(text: str) -> float:
    return float(text.replace(",", ""))


def test_a_card_for_every_registered_and_monitored_household(carded, tmp_path):
    city, key = carded
    (village,) = write_cards(city.processed, Q2, VILLAGE, raw_dir=tmp_path / "raw", out_dir=tmp_path / "cards",
                             pdf=False, policy=city.policy)
    assert village.folder == tmp_path / "cards" / Q2 / f"{TOWNSHIP}_崇文镇" / f"{VILLAGE}_东村村委会"
    assert sorted(p.name for p in village.cards) == [
        "1405241002000001_张秀英.html", "1405241002000002_王福.html", "1405241002000003_赵兰芳.html"]
    index = village.index.read_text(encoding="utf-8")
    for card in village.cards:
        assert f'href="{card.name}"' in index
    assert "钱多多" not in index and village.pdf is None
    for page in [*village.cards, village.index]:
        text = page.read_text(encoding="utf-8")
        assert not any(k in text for k in key.values())  # no pseudonymous key on a card
        assert "风险等级" not in text and "无风险信号" not in text  # the internal level is not printed


def test_card_numbers_and_names_equal_the_tables_and_raw(carded, tmp_path):
    city, key = carded
    (village,) = write_cards(city.processed, Q2, VILLAGE, raw_dir=tmp_path / "raw", out_dir=tmp_path / "cards",
                             pdf=False, policy=city.policy)
    html = village.cards[0].read_text(encoding="utf-8")
    hh = city.read("households", Q2).set_index("household_key").loc[key["1405241002000001"]]
    risk = city.read("risk", Q2).loc[key["1405241002000001"]]
    # 4 000 per capita x 2 = 8 000 net; 1 200 of it 低保 (transfer); wage = 8 000 - 1 200
    expected = {"wage_income": 6_800.0, "operating_income": 0.0, "property_income": 0.0, "transfer_income": 1_200.0,
                "production_cost": 0.0, "net_income": 8_000.0, "income_per_capita": 4_000.0,
                "line_national": 4_000.0, "line_guideline": 4_500.0, "line_monitoring": 6_000.0}
    shown = {f: _money(_field(html, f)) for f in expected}
    assert shown == expected
    assert {f: shown[f] for f in list(expected)[:6]} == {f: float(hh[f]) for f in list(expected)[:6]}
    assert {f: shown[f] for f in list(expected)[6:]} == {f: float(risk[f]) for f in list(expected)[6:]}
    assert _field(html, "persons") == f"{int(risk['persons'])}人" == "2人"
    assert "人均纯收入低于此标准" in html  # below the guideline (4 500) and the monitoring line (6 000)
    assert (_field(html, "head_name"), _field(html, "household_id"), _field(html, "village_group")) == (
        "张秀英", "1405241002000001", "某村三组")
    members = re.findall(r'<tr data-person="\d+"><td>([^<]*)</td><td>([^<]*)</td><td>[^<]*</td>\s*'
                         r'<td class="num" data-field="age">(\d+)</td>', html)
    assert members == [("张秀英", "户主", "52"), ("李建国", "配偶", "55")]
    dibao = re.search(r'<td data-policy="dibao"><span data-field="amount">([^<]*)</span>元，'
                      r'<span data-field="members">(\d+)</span>人', html)
    assert (_money(dibao.group(1)), int(dibao.group(2))) == (float(hh["dibao_transfer"]), 1) == (1_200.0, 1)
    assert "赵县长（县政府）电话 13511112222" in html and "旧干部" not in html  # the pairing that ended: not shown
    assert "周队员（市农业农村局）电话 13600001111" in html  # the village's 驻村工作队
    assert "12317" in html and "以村委会台账为准" in html  # hotline; policies the export does not record
    for f in city.processed.rglob("*"):
        if f.is_file() and not f.is_symlink():
            data = f.read_bytes()
            assert "张秀英".encode() not in data and b"1405241002000001" not in data, f


def test_a_township_prints_each_village_and_an_index(carded, tmp_path):
    city, _key = carded
    villages = write_cards(city.processed, Q2, TOWNSHIP, raw_dir=tmp_path / "raw", out_dir=tmp_path / "cards",
                           pdf=False, policy=city.policy)
    assert [(v.folder.name, len(v.cards)) for v in villages] == [(f"{VILLAGE}_东村村委会", 3),
                                                                  (f"{OTHER_VILLAGE}_西村村委会", 1)]
    index = (villages[0].folder.parent / "index.html").read_text(encoding="utf-8")
    assert f"{VILLAGE}_东村村委会/index.html" in index and f"{OTHER_VILLAGE}_西村村委会/index.html" in index


def test_one_a4_pdf_of_every_card(carded, tmp_path, chromium):
    city, _key = carded
    (village,) = write_cards(city.processed, Q2, VILLAGE, raw_dir=tmp_path / "raw", out_dir=tmp_path / "cards",
                             policy=city.policy, chromium=chromium)
    data = village.pdf.read_bytes()
    assert village.pdf.name == f"明白卡_东村村委会_{Q2}.pdf" and data.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page[^s]", data)) == len(village.cards) == 3  # one A4 page per card
    boxes = {tuple(round(float(v)) for v in m) for m in re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)", data)}
    assert boxes == {(595, 842)}  # A4 (210 x 297 mm) in points
    assert not list(village.folder.glob(".*"))  # the print file is gone


def test_unknown_region_is_one_line_and_exit_2(carded, tmp_path, capsys):
    city, _key = carded
    for code in ("140524100299", "140524199", "14052410"):
        assert main(["cards", "--period", Q2, "--processed", str(city.processed), "--village" if len(code) != 9
                     else "--township", code, "--raw", str(tmp_path / "raw"), "--out", str(tmp_path / "c"),
                     "--no-pdf"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and code in err[0], err
    assert not (tmp_path / "c").exists()
    with pytest.raises(ValueError, match="inside"):
        write_cards(city.processed, Q2, VILLAGE, raw_dir=tmp_path / "raw", out_dir=city.processed / "cards",
                    pdf=False, policy=city.policy)


def test_raw_lookup_finds_only_heads(tmp_path):
    _raw(tmp_path / "raw")
    wanted = [household_key("1405241002000001"), household_key("1405241002000003"), "nope"]
    names = raw_head_names(Q2, tmp_path / "raw")(wanted)
    assert names == {household_key("1405241002000001"): "张秀英", household_key("1405241002000003"): "赵兰芳"}


def test_a_village_the_regions_table_lacks_is_carded_by_its_code(carded, tmp_path):
    """The regions' villages come from the population reference; a village the registry has but the
    reference lacks is still carded (named by its code), and an unknown code still refused."""
    city, _key = carded
    factory.write(city.processed, {"regions": factory.region_rows({COUNTY: "陵川县"}, {TOWNSHIP: "崇文镇"},
                                                                  {VILLAGE: "东村村委会"})})
    (village,) = write_cards(city.processed, Q2, OTHER_VILLAGE, raw_dir=tmp_path / "raw", out_dir=tmp_path / "cards",
                             pdf=False, policy=city.policy)
    assert village.folder.name == OTHER_VILLAGE and [p.name for p in village.cards] == ["1405241002010001_孙立.html"]
    with pytest.raises(ValueError, match="140524100202 is neither in the regions table"):
        write_cards(city.processed, Q2, "140524100202", raw_dir=tmp_path / "raw", out_dir=tmp_path / "cards",
                    pdf=False, policy=city.policy)


def test_raw_roster_of_a_parquet_export_reads_the_roster_columns_only(tmp_path):
    """A Parquet registry export is read in the roster's columns only (first header of a column
    wins, as in ingest): the same households and names as a full read, counted by hand."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from pipelines.risk import cards

    key = "k" * 40
    folder = tmp_path / "registry" / "2020Q2"
    folder.mkdir(parents=True)
    pq.write_table(pa.table({
        "县": ["甲县"] * 4, "户编号": ["H1", "H1", " H2 ", "H2"], "人编号": ["1", "2", "1", "2"],
        "姓名": ["张三", "李四", "王五", "赵六"], "成员姓名": ["x", "x", "x", "x"],  # second name header: ignored
        "证件号码": ["110101198001010015", "", "110101198001010023", "110101198001010015"],
        "与户主关系": ["户主", "配偶", "之子", "户主"], "收入": [1.0, 2.0, 3.0, 4.0],
        "村民小组": ["一组", "一组", None, "三组"], "自然村": ["东村", "东村", "西村", "西村"],
    }), folder / "export.parquet")
    seen = []
    roster = cards.raw_roster("2020Q2", tmp_path, key=key)
    for sheet in cards.raw_sheets(folder / "export.parquet", "registry", None, None, cards.ROSTER_COLUMNS):
        seen.append(list(sheet.data.columns))
    assert seen == [["户编号", "人编号", "姓名", "成员姓名", "证件号码", "与户主关系", "村民小组", "自然村"]]
    hh = roster.households.set_index("household_id")
    assert list(hh.index) == ["H1", "H2"]
    assert hh.loc["H1", "head_name"] == "张三" and hh.loc["H2", "head_name"] == "赵六"
    assert hh.loc["H1", "village_group"] == "一组" and hh.loc["H2", "village_group"] == "西村"  # 组 blank: 自然村
    assert hh.loc["H2", "household_key"] == household_key("H2", key)
    names = dict(zip(roster.persons["person_key"], roster.persons["name"]))
    # 3 persons: the ID repeated in H2 keeps its first row's name; the member without an ID by 户编号/人编号
    assert names == {person_key("110101198001010015", key): "张三",
                     cards.keys.person_key_without_id("H1", "2", key): "李四",
                     person_key("110101198001010023", key): "王五"}
