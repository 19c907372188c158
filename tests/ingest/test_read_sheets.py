"""read_sheets: the one place a raw file's format is chosen. Ingest, the 明白卡 head-name lookup and
the PII audit read a county's export through it, whichever its format."""

from __future__ import annotations

import pandas as pd
import pytest

from pipelines import audit, keys
from pipelines.ingest import headers as hdr
from pipelines.ingest import readers
from pipelines.policy import load_policy
from pipelines.risk.cards import raw_head_names
from tests.ingest.conftest import HEADERS, household, write_csv

POLICY = load_policy()
REGISTRY = hdr.columns_of(POLICY.aliases["registry"])
FIND = hdr.policy_header_finder(POLICY, REGISTRY)
ROWS = household("1405241002000001") + household("1405241002000002", seq0=20, names=("王五", "赵六", "王小红"))


def _raw(tmp_path, fmt: str):
    """data/raw with the two households' registry export for 2020Q4 as CSV or Parquet (text columns)."""
    raw = tmp_path / fmt / "raw"
    path = raw / "registry" / "2020Q4" / f"140524_陵川县.{fmt}"
    if fmt == "csv":
        write_csv(path, ROWS)
    else:
        path.parent.mkdir(parents=True)
        pd.DataFrame([[r.get(h, "") for h in HEADERS] for r in ROWS], columns=HEADERS).to_parquet(path)
    return raw, path


def test_every_format_yields_the_cells_under_their_headers(tmp_path):
    _raw_csv, csv_path = _raw(tmp_path, "csv")
    _raw_pq, pq_path = _raw(tmp_path, "parquet")
    (csv_sheet,) = readers.read_sheets(csv_path, FIND, "a.csv")
    (pq_sheet,) = readers.read_sheets(pq_path, FIND, "a.parquet")
    assert list(pq_sheet.data.columns) == list(csv_sheet.data.columns) == HEADERS
    assert pq_sheet.source_row == csv_sheet.source_row == [2, 3, 4, 5, 6, 7]  # row 1 is the header
    assert pq_sheet.data["姓名"].tolist() == csv_sheet.data["姓名"].tolist() == [r["姓名"] for r in ROWS]


def test_a_parquet_export_is_read_in_the_columns_asked_for(tmp_path):
    _raw_pq, path = _raw(tmp_path, "parquet")
    (sheet,) = readers.read_sheets(path, FIND, parquet_columns=lambda names: {names.index("姓名"), 0})
    assert list(sheet.data.columns) == ["序号", "姓名"]


def test_a_file_of_another_format_is_refused_naming_it(tmp_path):
    path = tmp_path / "140524.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(readers.IngestError, match=r"^registry/2020Q4/140524.xls: unsupported file type '.xls'; "
                                                  r"expected one of .csv, .dta, .parquet, .sav, .xlsx"):
        list(readers.read_sheets(path, FIND, "registry/2020Q4/140524.xls"))


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_the_card_lookup_finds_the_heads_name_in_any_format(tmp_path, fmt):
    raw, _path = _raw(tmp_path, fmt)
    wanted = [keys.household_key("1405241002000001"), keys.household_key("1405241002000002")]
    assert raw_head_names("2020Q4", raw, POLICY)(wanted) == dict(zip(wanted, ["张三", "王五"]))


def test_the_audit_reads_the_same_personal_values_from_csv_and_parquet(tmp_path):
    from_csv = audit.read_raw_values(_raw(tmp_path, "csv")[0], policy=POLICY).table.to_pylist()
    from_parquet = audit.read_raw_values(_raw(tmp_path, "parquet")[0], policy=POLICY).table.to_pylist()
    assert from_parquet == from_csv
    names = {r["value"] for r in from_csv if r["kind"] == "name"}
    assert names == {"张三", "李四", "张小明", "王五", "赵六", "王小红"}
