"""Raw file formats per county, writers round trip, determinism and clean reruns."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pytest

from pipelines.synth import writers
from pipelines.synth.pipeline import run
from tests.synth.conftest import read_raw

EXT = {"xlsx": ".xlsx", "csv-utf8-bom": ".csv", "csv-utf8": ".csv", "csv-gb18030": ".csv", "dta": ".dta", "sav": ".sav"}


def sha_tree(root):
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_each_county_file_in_its_format(small_city, city_params):
    for period in city_params["periods"]:
        files = sorted((small_city / "raw" / "registry" / period).iterdir())
        assert [f.name[:6] for f in files] == sorted(city_params["formats"])
        for f in files:
            spec = city_params["formats"][f.name[:6]]
            assert f.suffix == EXT[spec["format"]], f
            head = f.read_bytes()[:3]
            assert (head == b"\xef\xbb\xbf") == (spec["format"] == "csv-utf8-bom")


def test_gb18030_file_has_non_gbk_characters(small_city, city_params):
    code = next(c for c, s in city_params["formats"].items() if s["format"] == "csv-gb18030")
    path = next((small_city / "raw" / "registry" / "2020Q4").glob(f"{code}_*.csv"))
    text = path.read_bytes().decode("gb18030")
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")
    with pytest.raises(UnicodeEncodeError):
        text.encode("gbk")
    assert any(ch in text for ch in "䶮㛃䲟")


def test_xlsx_title_alternative_headers_and_yes_no_styles(small_city, city_params):
    import openpyxl

    defects = pd.read_csv(small_city / "truth" / "defects.csv", dtype=str)
    shifted = defects[defects["kind"] == "column_shift"]
    for code, spec in city_params["formats"].items():
        if spec.get("names_only"):  # its shape: tests/synth/test_names_only_county.py
            continue
        path = next((small_city / "raw" / "registry" / "2020Q1").glob(f"{code}_*"))
        frame = read_raw(path, title=bool(spec["title"]))
        rel = path.relative_to(small_city / "raw").as_posix()
        skip = shifted.loc[shifted["file"] == rel, "source_row"].astype(int) - (3 if spec["title"] else 2)
        frame = frame.drop(index=skip.to_numpy())
        if spec["title"]:
            ws = openpyxl.load_workbook(path).worksheets[0]
            assert ws.cell(1, 1).value == spec["title"]
            assert any(str(r).startswith("A1:") for r in ws.merged_cells.ranges)
        if spec["header_variant"] == "alternative":
            assert {"身份证号码", "家庭人口数", "县区"} <= set(frame.columns)
        style = {"shi_fou": {"是", "否"}, "tick": {"√", ""}, "one_zero": {"1", "0"}, "you_wu": {"有", "无"}}[spec["yes_no"]]
        col = next(c for c in frame.columns if "大病保险" in c or c == "参加大病医疗")
        assert set(frame[col]) <= style | {""}
        assert set(frame["是否供水入户"]) <= style


def test_stat_files_keep_original_headers_as_labels(small_city):
    import pyreadstat

    sav = next((small_city / "raw" / "registry" / "2020Q1").glob("*.sav"))
    frame, meta = pyreadstat.read_sav(str(sav))
    assert "证件号码" in frame.columns and "人均日供水量_升_" in frame.columns
    assert meta.column_names_to_labels["人均日供水量_升_"] == "人均日供水量(升)"
    dta = next((small_city / "raw" / "registry" / "2020Q1").glob("*.dta"))
    assert b"<release>118</release>" in dta.read_bytes()[:100]
    with pd.io.stata.StataReader(dta) as reader:
        assert "户编号" in reader.read().columns
        assert reader.variable_labels()["县区"] == ""


@pytest.mark.parametrize("fmt", writers.FORMATS)
def test_write_export_round_trip(tmp_path, fmt):
    frame = pd.DataFrame({"姓名": ["王䶮", "李芳", "张三"], "户编号": ["1405020012000001"] * 2 + ["1405020012000002"],
                          "人均日供水量(升)": ["34.9", "35.0", ""], "证件号码": ["34052419800101001X", "", "11010519491231002X"]})
    path = tmp_path / f"x.{writers.EXTENSIONS[fmt]}"
    title = "城区建档立卡贫困人口信息表" if fmt == "xlsx" else None
    writers.write_export(frame, path, fmt, title=title, merge_columns=["户编号"] if fmt == "xlsx" else None)
    if fmt == "csv-gb18030":
        assert "䶮" in path.read_bytes().decode("gb18030")
    back = read_raw(path, title=bool(title))
    back = back.replace({"nan": ""})
    assert list(back.columns) == list(frame.columns)
    assert back.to_numpy().tolist() == frame.to_numpy().tolist()
    first = path.read_bytes()
    writers.write_export(frame, path, fmt, title=title, merge_columns=["户编号"] if fmt == "xlsx" else None)
    assert path.read_bytes() == first, "same input, same bytes"
    assert [p.name for p in tmp_path.iterdir()] == [path.name], "no temp file left behind"


def test_same_seed_same_bytes_and_clean_rerun(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    run(a, households=150, seed=3, periods=["2020Q2"], fmt="county")
    (a / "raw" / "registry" / "2020Q2" / "stale.csv").write_text("x")
    (a / "raw" / "registry" / "2019Q4").mkdir()
    summary = run(a, households=150, seed=3, periods=["2020Q2"], fmt="county")
    run(b, households=150, seed=3, periods=["2020Q2"], fmt="county")
    assert sha_tree(a) == sha_tree(b)
    assert not (a / "raw" / "registry" / "2019Q4").exists()
    assert summary["persons"]["2020Q2"] > 300
    json.dumps(summary)
    run(b, households=150, seed=4, periods=["2020Q2"], fmt="county")
    assert sha_tree(a) != sha_tree(b)


def test_parquet_mode_writes_text_columns_per_county(tmp_path):
    summary = run(tmp_path, households=200, seed=5, periods=["2019Q4", "2020Q4"], fmt="parquet")
    files = sorted((tmp_path / "raw" / "registry" / "2020Q4").glob("*.parquet"))
    assert [f.name for f in files][0] == "140502_城区_part-00000.parquet" and len(files) == 6
    frame = pd.concat([pd.read_parquet(f) for f in files])
    assert len(frame) == summary["persons"]["2020Q4"]
    assert all(str(t) in ("object", "str", "string") for t in frame.dtypes)
    assert frame["证件号码"].is_unique
    params = json.loads((tmp_path / "truth" / "params.json").read_text(encoding="utf-8"))
    assert params["mode"] == "parquet" and not params["defects_planted"]
    assert len(pd.read_csv(tmp_path / "truth" / "defects.csv")) == 0


def test_merge_runs_groups_consecutive_equal_keys():
    assert writers.merge_runs(np.array(["a", "a", "b", "", "", "c", "c", "c"], dtype=object)) == [(0, 1), (5, 7)]
