"""CSV read by Arrow (readers._simple_body says the file is simple) gives exactly what the csv
module gives; a file that is not simple is refused by _simple_body and read by the csv module."""

from __future__ import annotations

import csv
import io

import pytest

from pipelines.ingest import readers

LIMITS = readers.Limits(max_file_bytes=1 << 30, max_xlsx_part_bytes=1 << 30, max_xlsx_total_bytes=1 << 30,
                        max_rows=1000, max_columns=50, max_cells=10_000, max_cell_chars=1000)


def _header_on_row(n):
    return lambda rows: n if len(rows) > n else None


def _read(path, header_index=0, piece_cells=None):
    pieces = list(readers.csv_pieces(path, _header_on_row(header_index), "t.csv", limits=LIMITS,
                                     piece_cells=piece_cells))
    rows = [r for p in pieces for r in p.data.values.tolist()]
    return pieces, rows, [s for p in pieces for s in p.source_row]


def _by_csv_module(text):
    return list(csv.reader(io.StringIO(text, newline="")))


SIMPLE = ("序号,姓名,健康状况,备注\r\n"
          "1,张三,\"残疾,长期慢性病\",\r\n"
          "2,李四,健康,\"\"\r\n"
          "3,,\"患有大病\", 空格 \r\n")


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gb18030"])
def test_a_simple_csv_is_read_by_arrow_as_the_csv_module_reads_it(tmp_path, encoding):
    path = tmp_path / "t.csv"
    path.write_bytes(("2020年建档立卡人口\r\n" + SIMPLE).encode(encoding))
    assert readers._simple_body(path, 2, 4, LIMITS) is not None  # title line + header: data from line 3
    pieces, rows, starts = _read(path, header_index=1)
    expected = _by_csv_module(SIMPLE)
    assert list(pieces[0].data.columns) == expected[0]
    assert rows == expected[1:] == [["1", "张三", "残疾,长期慢性病", ""], ["2", "李四", "健康", ""],
                                    ["3", "", "患有大病", " 空格 "]]
    assert starts == [3, 4, 5]
    assert pieces[0].cells is not None and pieces[0].encoding == encoding


def test_a_simple_csv_in_pieces_equals_the_whole(tmp_path):
    body = "".join(f"{i},名{i},\"a,{i}\",x\n" for i in range(1, 11))
    path = tmp_path / "t.csv"
    path.write_text("序号,姓名,健康状况,备注\n" + body, encoding="utf-8")
    pieces, rows, starts = _read(path, piece_cells=12)  # 3 rows a piece
    assert [len(p.source_row) for p in pieces] == [3, 3, 3, 1]
    assert [p.last for p in pieces] == [False, False, False, True]
    assert [p.piece for p in pieces] == [0, 1, 2, 3]
    assert rows == _by_csv_module(body)
    assert starts == list(range(2, 12))


@pytest.mark.parametrize("body", [
    "1,张三,\"他说\"\"好\"\"\",x\n",  # a doubled quote inside a quoted cell
    "1,张三,\"两\n行\",x\n",  # a quoted cell over two lines
    "1,张三,健康,x\n\n2,李四,健康,y\n",  # a blank line (an empty record to the csv module)
    "1,张三,健康,x,多\n",  # a row wider than the header
    "1,张三,健康\n",  # a row narrower than the header
    "1,张三,ab\"c\",x\n",  # a quote inside an unquoted cell
    "1,张三,\"ab\"c,x\n",  # text after a closing quote
    "1,张三,健康,x\r2,李四,健康,y\n",  # a CR alone ends a line for the csv module
])
def test_a_csv_that_is_not_simple_is_left_to_the_csv_module(tmp_path, body):
    path = tmp_path / "t.csv"
    path.write_text("序号,姓名,健康状况,备注\n" + body, encoding="utf-8")
    assert readers._simple_body(path, 1, 4, LIMITS) is None
    pieces, rows, _starts = _read(path)
    width = max(len(r) for r in _by_csv_module(body)) if body else 4
    expected = [r + [None] * (max(width, 4) - len(r)) for r in _by_csv_module(body)]
    assert pieces[0].cells is not None
    assert rows == expected


def test_limits_send_a_csv_to_the_csv_module_which_names_them(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("序号,姓名\n" + "".join(f"{i},x\n" for i in range(6)), encoding="utf-8")
    small = readers.Limits(**{**LIMITS.__dict__, "max_rows": 5})
    assert readers._simple_body(path, 1, 2, small) is None
    with pytest.raises(readers.IngestError, match="6 data rows, over the limit max_rows = 5"):
        list(readers.csv_pieces(path, _header_on_row(0), "t.csv", limits=small))


@pytest.mark.parametrize("title", [b"2020\xe5\xb9\xb4\r", b'"2020\rtitle"\n'])
def test_a_lone_cr_above_the_header_keeps_every_row(tmp_path, title):
    # the csv module counts a lone CR (a title line ending in CR, or one inside a quoted title) as
    # a line; the Arrow path skipped the header by counting LFs and so started a line too late,
    # dropping the first data row without a word
    body = "序号,姓名,健康状况,备注\n1,张三,健康,\n2,李四,残疾,x\n"
    path = tmp_path / "t.csv"
    path.write_bytes(title + body.encode("utf-8"))
    header_row = 2 if title.endswith(b"\r") else 3
    pieces, rows, starts = _read(path, header_index=1)
    assert rows == [["1", "张三", "健康", ""], ["2", "李四", "残疾", "x"]]
    assert starts == [header_row + 1, header_row + 2]


def test_the_simple_check_holds_a_bounded_amount_of_memory_on_a_csv_of_commas(tmp_path):
    # _simple_body's numpy index arrays (positions of every comma, their lines, ...) take ~16 bytes
    # per byte of a comma-dense chunk: with 16 MiB chunks 257 MiB beside the readers' budget
    import tracemalloc

    width = 200
    path = tmp_path / "commas.csv"
    line = b"," * (width - 1) + b"\n"
    path.write_bytes(b"\xe5\xba\x8f\xe5\x8f\xb7" + line + line * ((20 << 20) // len(line)))
    limits = readers.Limits(max_file_bytes=1 << 40, max_xlsx_part_bytes=1 << 30, max_xlsx_total_bytes=1 << 30,
                            max_rows=10**9, max_columns=width, max_cells=10**12, max_cell_chars=100_000)
    tracemalloc.start()
    try:
        found = readers._simple_body(path, 1, width, limits)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert found == (len(line) + 6, (20 << 20) // len(line))
    assert peak < 120 << 20, peak / 2**20  # 4 MiB chunks: ~75 MiB


def test_a_count_that_does_not_match_names_the_file_as_labelled(tmp_path, monkeypatch):
    # the one message of the Arrow path names the file by its label (data/raw-relative), as every
    # other reader message does, not by the absolute path
    path = tmp_path / "t.csv"
    path.write_text("序号,姓名\n1,x\n2,y\n", encoding="utf-8")
    found = readers._simple_body(path, 1, 2, LIMITS)
    assert found is not None and found[1] == 2
    monkeypatch.setattr(readers, "_simple_body", lambda *a: (found[0], 3))  # as if a line went missing
    with pytest.raises(readers.IngestError) as err:
        list(readers.csv_pieces(path, _header_on_row(0), "county/t.csv", limits=LIMITS))
    assert str(err.value).startswith("county/t.csv: 2 records read below the header on line 1, 3 lines")
