"""The ingest SQL rules that Python also knows, checked against it on hand-picked values: the GB 11643
check (one macro fed by param_gb11643, built from pipelines/idcard.py), the full-width cleaning
(param_fullwidth and the pattern clean() writes), and label lookups through param_label_lists."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from pipelines import idcard, params
from pipelines.ingest.nodes import fullwidth_map, fullwidth_parts
from pipelines.ingest.pipeline import GRAPH, Ingest
from pipelines.policy import load_policy

KEY = "povmon-test-suite-key-0123456789abcdef"

# domain.md §8: valid examples, lowercase x, a wrong check digit, an impossible birth date with a
# correct check character, an old 15-digit ID, 20- and 22-character IDs (persons without an ID card),
# a letter where a digit belongs
IDS = {
    "34052419800101001X": (True, dt.date(1980, 1, 1), "male"),
    "11010519491231002X": (True, dt.date(1949, 12, 31), "female"),
    "34052419800101001x": (True, dt.date(1980, 1, 1), "male"),
    "34052419800101002X": (False, dt.date(1980, 1, 1), "female"),
    "14052419801301001X": (False, None, "male"),  # check character right, month 13
    "340524800101001": (False, dt.date(1980, 1, 1), "male"),
    "34052419800101001X01": (False, None, None),
    "3405241980010100101234": (False, None, None),
    "3405241980010100A1": (False, dt.date(1980, 1, 1), None),
}


def test_the_hand_picked_ids_are_what_domain_md_says():
    # by hand: 1·7 + 4·9 + 0·10 + 5·5 + 2·8 + 4·4 + 1·2 + 9·1 + 8·6 + 0·3 + 1·7 + 3·9 + 0·10 + 1·5 + 0·8
    # + 0·4 + 1·2 = 200; 200 mod 11 = 2; "10X98765432"[2] = X: the month-13 ID has a right check character
    assert idcard.check_char("14052419801301001") == "X"
    for text, (valid, birth, sex) in IDS.items():
        assert idcard.is_valid(text) is valid, text
        assert idcard.birth_date(text) == birth, text
        assert idcard.sex(text) == sex, text


HEALTH = ["残疾、长期慢性病", "健康,健康", "大病;之表哥", "患有大病,残疾", ",,健康", "健康|残疾"]  # cells as cleaned


@pytest.fixture(scope="module")
def staged():
    """stg_registry over raw_registry rows holding only the hand-picked IDs, then health cells."""
    con = duckdb.connect()
    ingest = Ingest(con)
    ingest.create_inputs(KEY)
    rows = [(i, text, None) for i, text in enumerate(IDS)] + [(100 + i, None, cell) for i, cell in enumerate(HEALTH)]
    con.executemany("insert into raw_registry (file_id, source_row, id_number, health, household_id, person_id) "
                    "values (1, ?, ?, ?, 'H1', 'P1')", rows)
    GRAPH.run(con, ["stg_registry"], context=ingest.context, temp=False)
    yield con, ingest
    con.close()


def test_sql_and_python_agree_on_the_gb11643_check(staged):
    con, _ingest = staged
    got = {text: (valid, birth, sex) for text, valid, birth, sex in con.execute(
        "select r.id_number, s.id_valid, s.id_birth_date, s.id_sex from stg_registry as s "
        "inner join raw_registry as r on r.source_row = s.source_row").fetchall() if text in IDS}
    assert got == IDS


def test_the_raw_cell_check_and_the_staged_check_are_one_macro(staged):
    """raw_file.sql's spreadsheet-damage test reads the check on the cell as written (x or X)."""
    con, ingest = staged
    sql = GRAPH.env.from_string(
        "{% import '_macros.sql' as m with context %}"
        "select v, {{ m.gb11643_ok('v') }} from (select unnest(?) as v) cross join param_gb11643 as gb"
    ).render(**ingest.context)
    got = dict(con.execute(sql, [list(IDS)]).fetchall())
    checked = {t: len(t) == 18 and t[:17].isdigit() and idcard.check_char(t[:17]) == t[17].upper() for t in IDS}
    assert got == checked
    assert [t for t, ok in got.items() if ok] == ["34052419800101001X", "11010519491231002X", "34052419800101001x",
                                                  "14052419801301001X"]


def test_the_weights_come_from_idcard(staged):
    con, _ingest = staged
    row = con.execute("select * from param_gb11643").fetchone()
    assert row == (*idcard.WEIGHTS, idcard.CHECK_CHARS)


def test_multi_valued_cells_map_each_label_and_keep_the_unknown_part(staged):
    con, _ingest = staged
    got = {cell: flags for cell, *flags in con.execute(
        "select r.health, s.health_healthy, s.health_chronic, s.health_serious_illness, s.health_disabled, "
        "s.health__unknown from stg_registry as s inner join raw_registry as r on r.source_row = s.source_row "
        "where r.source_row >= 100").fetchall()}
    assert got["残疾、长期慢性病"] == [False, True, False, True, None]
    assert got["健康,健康"] == [True, False, False, False, None]  # a label twice is no unknown label
    assert got["大病;之表哥"] == [False, False, True, False, "之表哥"]
    assert got["患有大病,残疾"] == [False, False, True, True, None]
    assert got[",,健康"] == [True, False, False, False, None]
    assert got["健康|残疾"] == [False, False, False, False, "健康|残疾"]  # | is no separator


def test_clean_translates_every_full_width_character_and_nothing_else():
    """clean() runs translate() only where its pattern finds a character of param_fullwidth's map
    (or white space): every character of the map must be found, and others left alone."""
    source, target = fullwidth_map()
    con = duckdb.connect()
    params.bind(con, load_policy(), ["param_fullwidth"])
    sql = GRAPH.env.from_string(
        "{% import '_macros.sql' as m with context %}"
        "select v, {{ m.clean('v') }} from (select unnest(?) as v) cross join param_fullwidth as fw").render()
    cells = ["a" + ch + "b" for ch in source] + ["中文", "a·b", "ＡＢ１２ Ｃ", "　", "x\u00a0y", "1,2"]
    got = dict(con.execute(sql, [cells]).fetchall())
    for ch, to in zip(source, target):
        assert got["a" + ch + "b"] == ("a" + to + "b").replace(" ", ""), hex(ord(ch))
    assert got["中文"] == "中文" and got["a·b"] == "a·b" and got["1,2"] == "1,2"
    assert got["ＡＢ１２ Ｃ"] == "AB12C" and got["　"] is None
    assert got["x\u00a0y"] == "x\u00a0y"  # no-break space: not white space to the pattern, as before


def test_clean_by_the_parts_a_cell_holds_gives_the_whole_map_s_text():
    """clean() translates a cell by only the parts of the map it holds (nodes.fullwidth_parts):
    the parts split the map exactly, and a cell holding characters of several parts (or of none,
    white space aside) comes out as translate() by the whole map would give it."""
    source, target = fullwidth_map()
    parts = fullwidth_parts()
    assert "".join(sorted("".join(f for f, _t in parts))) == "".join(sorted(source))
    assert {a: b for f, t in parts for a, b in zip(f, t, strict=True)} == dict(zip(source, target, strict=True))
    con = duckdb.connect()
    params.bind(con, load_policy(), ["param_fullwidth"])
    sql = GRAPH.env.from_string(
        "{% import '_macros.sql' as m with context %}"
        "select v, {{ m.clean('v') }} from (select unnest(?) as v) cross join param_fullwidth as fw").render()
    cells = ["已脱贫（享受政策）", "（Ａ１）\u3000\tｚ～", "１２３，４", "ａ\nｂ\rｃ", " 1 2 ", "\f", "Ｘ"]
    got = dict(con.execute(sql, [cells]).fetchall())
    assert got == {"已脱贫（享受政策）": "已脱贫(享受政策)", "（Ａ１）\u3000\tｚ～": "(A1)z~", "１２３，４": "123,4",
                   "ａ\nｂ\rｃ": "abc", " 1 2 ": "12", "\f": "\f", "Ｘ": "X"}
