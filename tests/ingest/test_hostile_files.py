"""Files an operator or an attacker might put in data/raw: every one accounted for, bounded, and
refused in ONE line with exit code 2 naming the file (sheet, line) and what was expected."""

from __future__ import annotations

import csv
import io
import os
import struct
import zipfile

import duckdb
import pandas as pd
import pytest
import xlsxwriter

from pipelines.cli import main
from pipelines.ingest import pipeline as ingest_pipeline
from pipelines.ingest import readers
from pipelines.policy import load_policy
from pipelines.synth import writers
from tests.ingest.conftest import HEADERS, household, write_csv

REG = "registry/2020Q4"
GOOD = f"{REG}/140524_陵川县_a.csv"


def ingest(tmp_path, capsys, *extra) -> tuple[int, str]:
    code = main([*extra, "ingest", "--raw", str(tmp_path / "raw"), "--processed", str(tmp_path / "processed")])
    return code, capsys.readouterr().err


def refused(tmp_path, capsys, *extra) -> str:
    """Ingest exits 2 with exactly one line on stderr, no traceback, nothing written."""
    code, err = ingest(tmp_path, capsys, *extra)
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("povmon ingest: error: "), err
    assert "Traceback" not in err
    assert not (tmp_path / "processed").exists()
    return err.strip()


@pytest.fixture
def raw(tmp_path):
    """A raw tree with one good county file."""
    write_csv(tmp_path / "raw" / GOOD, household())
    return tmp_path / "raw"


def small_limits(monkeypatch, **limits):
    """The policy ingest runs with, some config/thresholds.toml [limits] replaced (for files small
    enough to build in a test)."""
    policy = load_policy(overrides={"thresholds": {"limits": limits}})
    monkeypatch.setattr(ingest_pipeline, "load_policy", lambda: policy)


# ---- every file accounted for ------------------------------------------------------------------

def test_a_dangling_link_is_an_error_not_a_missing_county(raw, tmp_path, capsys):
    (raw / REG / "140525_泽州县_b.csv").symlink_to(tmp_path / "gone.csv")
    err = refused(tmp_path, capsys)
    assert f"{REG}/140525_泽州县_b.csv: dangling symbolic link" in err


def test_a_link_to_a_folder_is_an_error(raw, tmp_path, capsys):
    (tmp_path / "elsewhere").mkdir()
    (raw / REG / "140525_泽州县_b.xlsx").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    assert f"{REG}/140525_泽州县_b.xlsx: symbolic link to a folder" in refused(tmp_path, capsys)


def test_a_link_to_a_file_is_read(raw, tmp_path, capsys):
    target = write_csv(tmp_path / "share" / "泽州县.csv", household("H2", seq0=20, names=("钱一", "钱二", "钱三")))
    (raw / REG / "140525_泽州县_b.csv").symlink_to(target)
    code, err = ingest(tmp_path, capsys)
    assert code == 0, err
    con = duckdb.connect()
    files = con.execute("select source_file, rows_loaded from read_parquet(?) order by 1",
                        [str(tmp_path / "processed/current/ingest_manifest/data.parquet")]).fetchall()
    assert files == [(GOOD, 3), (f"{REG}/140525_泽州县_b.csv", 3)]


def test_a_fifo_is_refused_without_being_opened(raw, tmp_path, capsys):
    os.mkfifo(raw / REG / "140525_泽州县_b.csv")  # opening it would block forever
    assert f"{REG}/140525_泽州县_b.csv: a FIFO (named pipe); expected a regular file" in refused(tmp_path, capsys)


def test_a_device_is_refused(raw, tmp_path, capsys):
    (raw / REG / "140525_泽州县_b.csv").symlink_to("/dev/zero")
    assert f"{REG}/140525_泽州县_b.csv: a device; expected a regular file" in refused(tmp_path, capsys)


def test_an_empty_file_is_refused(raw, tmp_path, capsys):
    (raw / REG / "140525_泽州县_b.csv").write_bytes(b"")
    assert f"{REG}/140525_泽州县_b.csv: empty file (0 bytes)" in refused(tmp_path, capsys)


def test_an_unreadable_file_is_refused(raw, tmp_path, capsys, monkeypatch):
    path = raw / REG / "140525_泽州县_b.csv"
    write_csv(path, household("H2", seq0=20))
    real_open = open

    def deny(file, *args, **kwargs):  # root reads a chmod 000 file: simulate the permission error
        if str(file) == str(path):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("builtins.open", deny)
    assert f"{REG}/140525_泽州县_b.csv: cannot be opened (Permission denied)" in refused(tmp_path, capsys)


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read a chmod 000 file")
def test_an_unreadable_file_is_refused_for_real(raw, tmp_path, capsys):
    path = raw / REG / "140525_泽州县_b.csv"
    write_csv(path, household("H2", seq0=20))
    path.chmod(0)
    assert "cannot be opened (Permission denied)" in refused(tmp_path, capsys)


def test_hidden_and_office_lock_files_are_ignored(raw, tmp_path, capsys):
    (raw / REG / "~$140524_陵川县_a.xlsx").write_bytes(b"\x00lock")
    (raw / REG / ".DS_Store").write_bytes(b"\x00")
    (raw / REG / ".~lock.140524_陵川县_a.csv#").symlink_to(tmp_path / "gone")  # a stale LibreOffice lock
    code, err = ingest(tmp_path, capsys)
    assert code == 0, err
    manifest = pd.read_parquet(tmp_path / "processed/current/ingest_manifest/data.parquet")
    assert manifest["source_file"].tolist() == [GOOD]


def test_a_broken_file_of_a_quarter_not_read_does_not_stop_the_run(raw, tmp_path, capsys):
    other = raw / "registry/2020Q3"
    other.mkdir(parents=True)
    (other / "140524_陵川县_a.csv").symlink_to(tmp_path / "gone.csv")
    code, err = ingest(tmp_path, capsys)
    assert code == 2 and "registry/2020Q3/140524_陵川县_a.csv: dangling" in err
    code = main(["ingest", "--raw", str(raw), "--processed", str(tmp_path / "p2"), "--periods", "2020Q4"])
    assert code == 0


# ---- duplicate headers ---------------------------------------------------------------------------

def test_the_same_header_twice_is_an_error_naming_both_columns(tmp_path, capsys):
    headers = [*HEADERS, "人数"]  # 序号 … 人数 (L) … and again in AG
    write_csv(tmp_path / "raw" / GOOD, [[r[h] for h in HEADERS] + ["1"] for r in household()], headers=headers)
    err = refused(tmp_path, capsys)
    assert f"{GOOD}: columns L '人数' and AG '人数' are both headers of 'household_size'" in err


def test_two_spellings_of_one_column_in_an_xlsx_name_the_sheet_columns(tmp_path, capsys):
    path = tmp_path / "raw" / REG / "140524_陵川县_a.xlsx"
    path.parent.mkdir(parents=True)
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("成员")
    ws.write_row(0, 1, [*HEADERS, "户人数"])  # from column B: 人数 in M, 户人数 in AH
    for i, r in enumerate(household()):
        ws.write_row(1 + i, 1, [r[h] for h in HEADERS] + ["3"])
    wb.close()
    err = refused(tmp_path, capsys)
    assert f"{REG}/140524_陵川县_a.xlsx, sheet '成员': columns M '人数' and AH '户人数' are both headers" in err


def test_a_repeated_header_that_maps_to_nothing_is_allowed_and_listed(tmp_path, capsys):
    headers = [*HEADERS, "备注", "备注"]
    write_csv(tmp_path / "raw" / GOOD, [[r[h] for h in HEADERS] + ["a", "b"] for r in household()], headers=headers)
    code, err = ingest(tmp_path, capsys)
    assert code == 0, err
    manifest = pd.read_parquet(tmp_path / "processed/current/ingest_manifest/data.parquet")
    assert manifest["unmapped_headers"].tolist() == ["备注, 备注"]


# ---- CSV: lines, encodings, huge cells -------------------------------------------------------------

def test_source_row_is_the_line_a_record_starts_on_after_a_quoted_newline(tmp_path, capsys):
    """Written by hand: the second record's 行政村 cell spans two lines (a text editor shows lines
    2-3 for it), so the records after it start on lines 4 and 5."""
    rows = household()
    cells = [[r[h] for h in HEADERS] for r in rows]
    cells[0][HEADERS.index("行政村")] = "测试\n村"
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows([HEADERS, *cells, [""] * len(HEADERS)])
    lines = text.getvalue().split("\n")
    assert lines[1].endswith('"测试') and lines[2].startswith('村"')
    path = tmp_path / "raw" / GOOD
    path.parent.mkdir(parents=True)
    path.write_text(text.getvalue(), encoding="utf-8")
    code, err = ingest(tmp_path, capsys)
    assert code == 0, err
    con = duckdb.connect()
    persons = con.execute("select source_row, relation from read_parquet(?) order by 1",
                          [str(tmp_path / "processed/current/persons/period=2020Q4/*.parquet")]).fetchall()
    assert persons == [(2, "head"), (4, "spouse"), (5, "son")]
    blank = con.execute("select source_row, reason from read_parquet(?)",
                        [str(tmp_path / "processed/current/quarantine/period=2020Q4/*.parquet")]).fetchall()
    assert blank == [(6, "blank_row")]


def test_a_1_mb_cell_is_refused_naming_the_line_and_limit(raw, tmp_path, capsys):
    rows = household("H2", seq0=20)
    rows[1]["行政村"] = "村" * 1_000_000
    write_csv(raw / REG / "140525_泽州县_b.csv", rows)
    err = refused(tmp_path, capsys)
    assert f"{REG}/140525_泽州县_b.csv, line 3: a cell longer than 32767 characters" in err
    assert "max_cell_chars = 32767 (config/thresholds.toml [limits])" in err


def test_a_cell_at_the_limit_is_read(tmp_path):
    rows = household()
    rows[1]["行政村"] = "村" * 32_767
    path = write_csv(tmp_path / "a.csv", rows)
    from tests.ingest.test_headers_readers import FIND

    sheet = readers.read_csv(path, FIND)
    assert len(sheet.data["行政村"][1]) == 32_767


def test_an_unclosed_quote_is_refused_not_read_as_one_huge_cell(raw, tmp_path, capsys, monkeypatch):
    small_limits(monkeypatch, max_cell_chars=2000)
    lines = (raw / GOOD).read_text(encoding="utf-8").split("\n")
    lines[2] = lines[2].replace(",测试村,", ',"测试村,', 1)  # the quote never closes
    (raw / GOOD).write_text("\n".join(lines[:3] + lines[3:4] * 50), encoding="utf-8")
    assert "a quote \" that is never closed" in refused(tmp_path, capsys)


def test_undecodable_bytes_in_a_utf8_file_name_line_and_byte(raw, tmp_path, capsys):
    data = (raw / GOOD).read_bytes()
    line3 = data.index(b"\n", data.index(b"\n") + 1) + 1
    (raw / GOOD).write_bytes(data[:line3] + b"\xff" + data[line3:])
    err = refused(tmp_path, capsys)
    assert f"{GOOD}, line 3: byte {line3} (0xff) is not valid UTF-8" in err


def test_bytes_neither_utf8_nor_gb18030_name_line_and_byte(raw, tmp_path, capsys):
    path = write_csv(raw / REG / "140525_泽州县_b.csv", household("H2", seq0=20), encoding="gb18030")
    data = path.read_bytes()
    at = data.index(b"\n") + 1  # start of line 2
    path.write_bytes(data[:at] + b"\x80" + data[at:])  # 0x80 is not a GB18030 lead byte
    err = refused(tmp_path, capsys)
    assert f"{REG}/140525_泽州县_b.csv, line 2: byte {at} (0x80" in err and "neither UTF-8 nor GB18030" in err


def test_nul_bytes_are_refused(raw, tmp_path, capsys):
    (raw / GOOD).write_bytes((raw / GOOD).read_bytes().replace("李四".encode(), b"\x00\x00", 1))
    assert f"{GOOD}, line 3: NUL byte" in refused(tmp_path, capsys)


def test_a_utf16_export_is_named(raw, tmp_path, capsys):
    (raw / GOOD).write_bytes((raw / GOOD).read_text(encoding="utf-8").encode("utf-16"))
    assert f"{GOOD}: UTF-16 text" in refused(tmp_path, capsys)


def test_too_many_rows_or_columns_name_the_limit(raw, tmp_path, capsys, monkeypatch):
    small_limits(monkeypatch, max_rows=2)
    assert f"{GOOD}: 3 data rows, over the limit max_rows = 2" in refused(tmp_path, capsys)


# ---- xlsx: fake, truncated, bombs ----------------------------------------------------------------

def _xlsx(path, rows=None):
    frame = pd.DataFrame([[r[h] for h in HEADERS] for r in (rows or household())], columns=HEADERS)
    return writers.write_xlsx(frame, path)


@pytest.mark.parametrize("content,found", [
    ("csv", "the file is CSV text"),
    (b"<html><body><table><tr><td>\xe6\x88\xb7</td></tr></table></body></html>", "HTML or XML text"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "an old Excel 97-2003 .xls or a password-protected workbook"),
    ("truncated", "a zip archive that ends early or is damaged"),
    (b"PK\x03\x04", "a zip archive that ends early or is damaged"),
    (b"\x00\x01\x02 random bytes", "not a zip archive"),
])
def test_a_file_that_is_not_an_xlsx_is_named(raw, tmp_path, capsys, content, found):
    path = raw / REG / "140525_泽州县_b.xlsx"
    if content == "csv":
        write_csv(path, household("H2", seq0=20))
    elif content == "truncated":
        data = _xlsx(path).read_bytes()
        path.write_bytes(data[: len(data) // 2])
    else:
        path.write_bytes(content)
    err = refused(tmp_path, capsys)
    assert f"{REG}/140525_泽州县_b.xlsx: not a readable xlsx workbook" in err and found in err


def _bomb(path, pad: int):
    """A real workbook whose sheet carries `pad` bytes of XML white space (legal, compresses ~1000:1)."""
    base = _xlsx(path.with_name("base.xlsx"))
    with zipfile.ZipFile(base) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                head, tail = data.split(b"<sheetData>")
                with zout.open(info.filename, "w") as fh:
                    fh.write(head + b"<sheetData>")
                    for _ in range(pad >> 20):
                        fh.write(b" " * (1 << 20))
                    fh.write(tail)
            else:
                zout.writestr(info.filename, data)
    base.unlink()
    return path


def _declare(path, member: str, size: int) -> None:
    """Doctor the zip directory: `member` declares `size` bytes decompressed (local and central)."""
    data = bytearray(path.read_bytes())
    info = zipfile.ZipFile(path).getinfo(member)
    struct.pack_into("<I", data, info.header_offset + 22, size)
    at = data.index(b"PK\x01\x02" + b"", 0)
    while True:
        at = data.index(b"PK\x01\x02", at)
        n = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46:at + 46 + n] == member.encode():
            struct.pack_into("<I", data, at + 24, size)
            break
        at += 4
    path.write_bytes(bytes(data))


def test_a_zip_bomb_is_refused_by_its_declared_size(tmp_path, capsys, monkeypatch):
    small_limits(monkeypatch, max_xlsx_part_mb=4)
    path = _bomb(tmp_path / "raw" / REG / "140524_陵川县_a.xlsx", 32 << 20)
    assert path.stat().st_size < 100_000
    err = refused(tmp_path, capsys)
    assert f"{REG}/140524_陵川县_a.xlsx: part xl/worksheets/sheet1.xml: declares 32 MB decompressed" in err
    assert "max_xlsx_part_mb = 4" in err


def test_a_zip_bomb_that_lies_about_its_size_is_counted_and_refused(tmp_path, capsys, monkeypatch):
    small_limits(monkeypatch, max_xlsx_part_mb=4)
    path = _bomb(tmp_path / "raw" / REG / "140524_陵川县_a.xlsx", 32 << 20)
    _declare(path, "xl/worksheets/sheet1.xml", 10_000)
    assert zipfile.ZipFile(path).getinfo("xl/worksheets/sheet1.xml").file_size == 10_000
    err = refused(tmp_path, capsys)
    assert "part xl/worksheets/sheet1.xml: decompresses to more than 4 MB" in err


def test_a_doctored_size_under_the_limit_is_refused(tmp_path, capsys):
    path = _xlsx(tmp_path / "raw" / REG / "140524_陵川县_a.xlsx")
    _declare(path, "xl/worksheets/sheet1.xml", 100)
    assert "decompresses to" in (err := refused(tmp_path, capsys)) and "but the zip directory says 100" in err


def test_two_far_apart_cells_are_refused_before_the_reader_allocates_the_grid(tmp_path, capsys):
    """A1 and ZZ200000: 140 million cells the xlsx library would allocate (4 GB), from a 2 kB file."""
    path = tmp_path / "raw" / REG / "140524_陵川县_a.xlsx"
    path.parent.mkdir(parents=True)
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("S")
    ws.write_row(0, 0, HEADERS)
    ws.write_string(199_999, 701, "x")
    wb.close()
    err = refused(tmp_path, capsys)
    assert "sheet 'S': row 200000 with cells out to column ZZ (more than 28490 rows at that width)" in err
    assert "max_rows/max_cells" in err


def test_cells_beyond_max_columns_are_refused(tmp_path, capsys, monkeypatch):
    small_limits(monkeypatch, max_columns=20)
    _xlsx(tmp_path / "raw" / REG / "140524_陵川县_a.xlsx")
    err = refused(tmp_path, capsys)
    assert "sheet 'Sheet1': cells out to column U, over the limit max_columns = 20" in err


def test_an_xlsx_cell_longer_than_the_limit_is_named(tmp_path, capsys, monkeypatch):
    small_limits(monkeypatch, max_cell_chars=100)
    rows = household()
    rows[2]["行政村"] = "村" * 101
    _xlsx(tmp_path / "raw" / REG / "140524_陵川县_a.xlsx", rows)
    err = refused(tmp_path, capsys)
    assert f"{REG}/140524_陵川县_a.xlsx, sheet 'Sheet1', cell D4: a cell longer than 100 characters" in err


def test_a_file_over_max_file_mb_is_refused_before_it_is_read(raw, tmp_path, capsys, monkeypatch):
    small_limits(monkeypatch, max_file_mb=0.0001)
    assert f"{GOOD}: 0 MB, over the limit max_file_mb" in refused(tmp_path, capsys)


# ---- Stata / SPSS --------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["dta", "sav"])
@pytest.mark.parametrize("damage", ["truncated", "scrambled"])
def test_a_corrupt_stata_or_spss_file_is_one_line(tmp_path, capsys, fmt, damage):
    frame = pd.DataFrame([[r[h] for h in HEADERS] for r in household()], columns=HEADERS)
    path = writers.write_export(frame, tmp_path / "raw" / REG / f"140524_陵川县_a.{fmt}", fmt)
    data = path.read_bytes()
    if damage == "truncated":
        path.write_bytes(data[: len(data) * 2 // 3])
    else:
        path.write_bytes(data[:64] + bytes(255 - b for b in data[64:400]) + data[400:])
    kind = "a Stata .dta file" if fmt == "dta" else "an SPSS .sav file"
    assert f"{REG}/140524_陵川县_a.{fmt}: not readable as {kind}" in refused(tmp_path, capsys)


# ---- the command line ----------------------------------------------------------------------------

def test_an_internal_error_is_one_line_exit_3_and_debug_shows_the_traceback(raw, tmp_path, capsys, monkeypatch):
    def broken(*args, **kwargs):
        raise KeyError("village_code")

    monkeypatch.setattr("pipelines.ingest.pipeline.run", broken)
    code, err = ingest(tmp_path, capsys)
    assert code == 3 and err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("povmon ingest: internal error: KeyError: 'village_code'") and "--debug" in err
    with pytest.raises(KeyError):
        main(["--debug", "ingest", "--raw", str(raw), "--processed", str(tmp_path / "processed")])


def test_an_os_error_names_the_path(raw, tmp_path, capsys, monkeypatch):
    def full(*args, **kwargs):
        raise OSError(28, "No space left on device", str(tmp_path / "processed"))

    monkeypatch.setattr("pipelines.ingest.pipeline.run", full)
    code, err = ingest(tmp_path, capsys)
    assert code == 2 and err == f"povmon ingest: error: {tmp_path / 'processed'}: No space left on device\n"
