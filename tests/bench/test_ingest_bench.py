"""benchmarks/ingest.py's plain baselines: every file ingest reads is read and written back with
its rows and text intact (timings are reported, never asserted)."""

from __future__ import annotations

import duckdb
import pandas as pd

from benchmarks.ingest import _utf8, duckdb_copy, duckdb_copy_all


def _raw(tmp_path):
    """A hand-built raw folder: a registry Parquet of 3 rows (text, Chinese headers), a GB18030
    department CSV of 2 rows, a UTF-8 pairing CSV of 1 row; and a file ingest never reads."""
    raw = tmp_path / "raw"
    reg = raw / "registry" / "2020Q2"
    reg.mkdir(parents=True)
    pd.DataFrame({"户编号": ["H1", "H1", "H2"], "证件号码": ["140502198001010016", "x", "y"],
                  "姓名": ["张三", "李四", "王五"]}).to_parquet(reg / "140502_城区_part-00000.parquet")
    med = raw / "departments" / "medical" / "2020Q2"
    med.mkdir(parents=True)
    (med / "医保参保人员_2020Q2.csv").write_bytes("证件号码,参保类别\n140502198001010016,城乡居民\nx,职工\n".encode("gb18030"))
    pair = raw / "pairing" / "2020Q2"
    pair.mkdir(parents=True)
    (pair / "帮扶.csv").write_text("户编号,帮扶责任人\nH1,赵六\n", encoding="utf-8")
    (raw / "SYNTHETIC.json").write_text("{}", encoding="utf-8")
    return raw


def test_duckdb_copy_all_reads_every_file_ingest_reads(tmp_path):
    raw = _raw(tmp_path)
    assert duckdb_copy(raw, tmp_path / "registry_only") == 3
    assert duckdb_copy_all(raw, tmp_path / "all") == 3 + 2 + 1  # SYNTHETIC.json is not an export
    written = sorted((tmp_path / "all").glob("*.parquet"))
    assert len(written) == 3
    with duckdb.connect() as con:
        texts = {tuple(con.execute(f"select * from read_parquet('{f}')").fetchall()[0]) for f in written}
    # GB18030 decoded, Chinese headers and cells intact (files in ingest's path order)
    assert ("140502198001010016", "城乡居民") in texts
    assert ("H1", "赵六") in texts
    assert ("H1", "140502198001010016", "张三") in texts


def test_utf8_sniff(tmp_path):
    f = tmp_path / "a.csv"
    f.write_bytes("名称\n".encode("gb18030"))
    assert not _utf8(f)
    f.write_bytes("名称\n".encode("utf-8"))
    assert _utf8(f)
    # a UTF-8 character cut at the 64 KB boundary is still UTF-8
    f.write_bytes(b"a" * 65535 + "名".encode("utf-8"))
    assert _utf8(f)
