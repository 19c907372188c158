"""Header aliasing, missing-column errors, header-row detection, encodings, merged cells."""

from __future__ import annotations

import pytest
import xlsxwriter

from pipelines.ingest import headers as hdr
from pipelines.ingest import readers
from pipelines.ingest.readers import IngestError
from pipelines.policy import load_policy
from tests.ingest.conftest import HEADERS, household, write_csv

REGISTRY = hdr.columns_of(load_policy().aliases["registry"])
FIND = hdr.header_finder(REGISTRY, max_title_rows=10, min_matches=5)


def test_aliases_normalise_full_width_and_spaces():
    found = hdr.map_headers([*HEADERS, "务工时间 （月）", "自然 村"], REGISTRY, "f.csv")
    assert found["work_months"] == len(HEADERS)
    assert found["natural_village"] == len(HEADERS) + 1


def test_two_spellings_of_one_column_are_an_error_naming_both():
    # 户编号 (F) and 户 码 (AH, a spelling of the same column): which holds the 户编号 is not guessed
    with pytest.raises(IngestError) as err:
        hdr.map_headers([*HEADERS, "务工时间 （月）", "户 码"], REGISTRY, "registry/2020Q4/x.xlsx, sheet 'S'")
    text = str(err.value)
    assert "registry/2020Q4/x.xlsx, sheet 'S'" in text
    assert "columns F '户编号' and AH '户 码' are both headers of 'household_id'" in text


def test_missing_required_column_names_file_sheet_column_and_closest_header():
    headers = [h if h != "户编号" else "户编码号" for h in HEADERS]
    with pytest.raises(IngestError) as err:
        hdr.map_headers(headers, REGISTRY, "registry/2020Q4/x.xlsx, sheet 'Sheet1'")
    text = str(err.value)
    assert "registry/2020Q4/x.xlsx" in text and "Sheet1" in text
    assert "household_id" in text and "户编号" in text
    assert "closest header present: '户编码号'" in text


def test_missing_column_error_from_a_file(tmp_path):
    from pipelines.ingest.pipeline import run

    raw = tmp_path / "raw"
    write_csv(raw / "registry/2020Q4/140524_x.csv", household(), headers=[h for h in HEADERS if h != "健康状况"])
    with pytest.raises(IngestError, match=r"registry/2020Q4/140524_x.csv: required column 'health'.*健康状况"):
        run(raw, tmp_path / "processed")
    assert not (tmp_path / "processed").exists()


def test_header_row_found_below_title_rows():
    rows = [["XX县建档立卡贫困人口信息表"], [None], ["单位：户、人", None, "日期"], HEADERS, ["1"] * len(HEADERS)]
    assert FIND(rows) == 3
    assert FIND([["标题"]] * 12 + [HEADERS]) is None  # beyond max_title_rows


@pytest.mark.parametrize("encoding,expected", [("utf-8-sig", "utf-8-sig"), ("utf-8", "utf-8"),
                                               ("gb18030", "gb18030")])
def test_csv_encoding_detection(tmp_path, encoding, expected):
    rows = household(names=("刘䶮", "李四", "张小明"))
    path = write_csv(tmp_path / "a.csv", rows, encoding=encoding, title="测试县建档立卡贫困人口信息表")
    sheet = readers.read_csv(path, FIND)
    assert sheet.encoding == expected
    assert sheet.header_row == 2 and sheet.source_row == [3, 4, 5]
    assert sheet.data["姓名"].tolist() == ["刘䶮", "李四", "张小明"]
    assert sheet.data["户编号"].tolist() == ["1405241002000001"] * 3  # text: no digits lost


def test_gbk_codec_cannot_hold_rare_character():
    with pytest.raises(UnicodeEncodeError):
        "䶮".encode("gbk")


def test_xlsx_merged_cells_filled_and_recorded(tmp_path):
    path = tmp_path / "m.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("S")
    ws.merge_range(0, 1, 0, 6, "标题")  # title in B1 merged; column A empty everywhere
    ws.write_row(1, 1, ["户编号", "人编号", "姓名", "证件号码", "人数", "与户主关系"])
    ws.write_row(2, 1, ["", "P1", "甲", "x", "", "户主"])
    ws.write_row(3, 1, ["", "P2", "乙", "y", "", "配偶"])
    ws.merge_range(2, 1, 3, 1, "00012345678901234567")
    ws.merge_range(2, 5, 3, 5, "2")
    wb.close()
    (sheet,) = readers.read_xlsx(path, hdr.header_finder(REGISTRY, 10, 5))
    assert sheet.header_row == 2 and sheet.source_row == [3, 4]
    assert sheet.data["户编号"].tolist() == ["00012345678901234567"] * 2
    assert sheet.data["人数"].tolist() == ["2", "2"]
    assert sheet.merged_fills == [(4, ["户编号", "人数"])]
