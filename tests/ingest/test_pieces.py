"""A raw file read in pieces (issue 12 part 1, memory): a reader never gives more rows at a time than
its piece holds, the pieces together are the file as read whole (cells, rows, merged-cell fills,
numbers in text-only columns), and ingest loads a file read in pieces exactly as one read whole,
per-file spreadsheet-damage decisions included when the damaged cells fall in different pieces."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest
import xlsxwriter

from pipelines import config
from pipelines.ingest import readers
from pipelines.ingest.pipeline import Ingest, discover
from pipelines.policy import load_policy
from pipelines.synth import writers
from tests.ingest.conftest import HEADERS, household, make_id, write_csv
from tests.ingest.test_headers_readers import FIND, REGISTRY

from pipelines.ingest import headers as hdr

TEXT = hdr.text_column_finder(REGISTRY)
LIFTED = load_policy(overrides={"thresholds": {"ingest": {"max_quarantined_share": 1.0}}})


def _people(n: int, first: int = 0) -> list[dict]:
    """n member rows over households of three (distinct names and IDs from household `first` on)."""
    rows = []
    for h in range(first, first + (n + 2) // 3):
        rows += household(f"14052410020{h:05d}", seq0=10 + 3 * h, names=(f"甲{h}", f"乙{h}", f"丙{h}"))
    return rows[:n]


def _pieces(path, piece_cells, **kw):
    return list(readers.read_sheets(path, FIND, path.name, text_columns=TEXT, piece_cells=piece_cells, **kw))


def _whole(pieces: list[readers.RawSheet]) -> tuple[pd.DataFrame, list[int], dict, list]:
    """The pieces of one sheet put together: cells (as wide as the last piece), rows, numbers
    stored in text-only columns (data-row indices from the sheet's first data row), fills."""
    columns = list(pieces[-1].data.columns)
    frames, rows, numeric, fills, at = [], [], {}, [], 0
    for p in pieces:
        frame = p.data.copy()
        frame.columns = range(frame.shape[1])
        frames.append(frame.reindex(columns=range(len(columns))))
        rows += p.source_row
        for pos, found in p.numeric_cells.items():
            if found is None:  # every cell of the column
                numeric[pos] = None
            else:
                numeric.setdefault(pos, []).extend(i + at for i in found)
        fills += p.merged_fills
        at += len(p.source_row)
    data = pd.concat(frames, ignore_index=True).astype(object)
    data = data.where(data.notna(), None)
    data.columns = columns
    return data, rows, numeric, fills


def _same_as_whole(path, piece_rows: int, **kw) -> list[readers.RawSheet]:
    (whole,) = readers.read_sheets(path, FIND, path.name, text_columns=TEXT, **kw)
    width = whole.data.shape[1]
    pieces = _pieces(path, piece_rows * width, **kw)
    # bounded: no piece holds more rows than piece_cells allow, numbered in order, only the last last
    assert all(len(p.source_row) <= piece_rows for p in pieces)
    assert [p.piece for p in pieces] == list(range(len(pieces)))
    assert [p.last for p in pieces] == [False] * (len(pieces) - 1) + [True]
    data, rows, numeric, fills = _whole(pieces)
    assert rows == whole.source_row
    assert list(data.columns) == list(whole.data.columns)
    assert data.values.tolist() == whole.data.values.tolist()
    assert numeric == {pos: (None if r is None else list(r)) for pos, r in whole.numeric_cells.items()}
    assert fills == whole.merged_fills
    assert {(p.header_row, p.sheet, p.encoding, p.first_column) for p in pieces} == {
        (whole.header_row, whole.sheet, whole.encoding, whole.first_column)}
    return pieces


@pytest.mark.parametrize("fmt", ["csv-utf8", "csv-gb18030", "dta", "sav"])
def test_a_file_read_in_pieces_is_the_file_read_whole(tmp_path, fmt):
    frame = pd.DataFrame([[r[h] for h in HEADERS] for r in _people(11)], columns=HEADERS)
    suffix = writers.EXTENSIONS[fmt]
    path = writers.write_export(frame, tmp_path / f"140524_a.{suffix}", fmt)
    pieces = _same_as_whole(path, 3)
    assert [len(p.source_row) for p in pieces] == [3, 3, 3, 2]
    assert pieces[0].source_row == [2, 3, 4] and pieces[-1].source_row == [11, 12]


def test_csv_rows_wider_than_the_header_widen_later_pieces_only(tmp_path):
    path = write_csv(tmp_path / "a.csv", _people(7), title="某县建档立卡人口")
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[6] += ",多出来的,又一个"  # data row 5 (line 7) carries two cells beyond the header
    path.write_text("\n".join(lines), encoding="utf-8")
    pieces = _same_as_whole(path, 2)
    widths = [p.data.shape[1] for p in pieces]
    assert widths == [len(HEADERS)] * 2 + [len(HEADERS) + 2] * 2
    assert list(pieces[-1].data.columns[-2:]) == [f"_extra_{len(HEADERS)}", f"_extra_{len(HEADERS) + 1}"]


def test_xlsx_merges_and_number_cells_across_piece_boundaries(tmp_path):
    """A title row, household cells merged down over members (some ranges crossing a piece
    boundary) and IDs stored as numbers in some rows: every piece filled and flagged as the whole."""
    path = tmp_path / "140524_a.xlsx"
    rows = _people(9)
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("花名册")
    ws.merge_range(0, 0, 0, len(HEADERS) - 1, "陵川县建档立卡人口花名册")
    for c, h in enumerate(HEADERS):
        ws.write_string(1, c, h)
    hh_col, id_col = HEADERS.index("户编号"), HEADERS.index("证件号码")
    for r, row in enumerate(rows, start=2):
        for c, h in enumerate(HEADERS):
            if c == hh_col and (r - 2) % 3:
                continue  # filled by the merge below
            if c == id_col and r in (3, 8):
                ws.write_number(r, c, float(row[h]))
            else:
                ws.write_string(r, c, row[h])
        if (r - 2) % 3 == 0:
            ws.merge_range(r, hh_col, r + 2, hh_col, row["户编号"])
    wb.close()
    pieces = _same_as_whole(path, 2)
    assert len(pieces) == 5
    data, _rows, numeric, fills = _whole(pieces)
    assert data["户编号"].tolist() == [r["户编号"] for r in rows]  # rows 4-5 and 8 filled from earlier pieces
    assert fills == [(r, ["户编号"]) for r in (4, 5, 7, 8, 10, 11)]
    assert numeric == {id_col: [1, 6]}


def test_a_file_over_max_rows_is_refused_before_its_last_piece(tmp_path):
    path = write_csv(tmp_path / "a.csv", _people(7))
    limits = readers.Limits.from_policy(load_policy(overrides={"thresholds": {"limits": {"max_rows": 6}}}))
    got = []
    with pytest.raises(readers.IngestError, match="a.csv: 7 data rows, over the limit max_rows = 6"):
        for piece in readers.read_sheets(path, FIND, "a.csv", limits=limits, piece_cells=2 * len(HEADERS)):
            got.append(piece)
    assert got and not any(p.last for p in got)


def _raw(tmp_path):
    """Two registry files; in the second an 18-digit ID ending in 000 (row 2) is damaged only
    because its column shows a scientific-notation ID further down (row 7): a per-file decision."""
    write_csv(tmp_path / "raw/registry/2020Q4/140524_a.csv", _people(5))
    rows = _people(7, first=10)[::-1]
    real = next(i for i in (make_id("140525", "19800101", f"{s:03d}") for s in range(1000)) if i.endswith("000"))
    rows[0]["证件号码"] = real
    rows[5]["证件号码"] = "1.40525198202E+17"
    write_csv(tmp_path / "raw/registry/2020Q4/140525_b.csv", rows)
    return tmp_path / "raw"


def _ingest(raw, piece_cells):
    con = duckdb.connect()
    ingest = Ingest(con, LIFTED, batch_bytes=1 << 40, piece_cells=piece_cells)
    ingest.create_inputs(config.DEMO_KEY)
    kinds = []
    bind = ingest._bind_batch

    def seen(items, headers):
        kinds.extend(kind for kind, *_rest in items)
        return bind(items, headers)

    ingest._bind_batch = seen
    ingest.load_all(discover(raw, None))
    ingest.run_models()
    return con, ingest, kinds


def test_ingest_of_a_file_in_pieces_equals_the_file_whole(tmp_path):
    raw = _raw(tmp_path)
    one, _i, kinds_whole = _ingest(raw, 1 << 30)
    each, ingest, kinds_pieces = _ingest(raw, len(HEADERS))  # one row a piece
    assert kinds_whole == ["arrow", "arrow"] and kinds_pieces == ["pieces", "pieces"]
    assert ingest.pieces is None  # the spooled pieces are gone once loaded
    for query in ("select * exclude (file_id) from raw_registry order by source_file, source_row",
                  "select * from raw_files order by file_id",
                  "select source_file, source_row, reason, column_name, detail from quarantine order by all",
                  "select * from persons order by all"):
        assert each.execute(query).fetchall() == one.execute(query).fetchall(), query
    damaged = each.execute("select source_row from quarantine where reason = 'id_damaged_by_spreadsheet' "
                           "order by 1").fetchall()
    assert damaged == [(2,), (7,)]  # rows 2 and 7 were pieces 0 and 5 of their file


def test_a_file_refused_halfway_loads_nothing_and_leaves_no_pieces(tmp_path, monkeypatch):
    raw = _raw(tmp_path)
    policy = load_policy(overrides={"thresholds": {"limits": {"max_rows": 6},
                                                   "ingest": {"max_quarantined_share": 1.0}}})
    con = duckdb.connect()
    ingest = Ingest(con, policy, batch_bytes=1 << 40, piece_cells=len(HEADERS))
    ingest.create_inputs(config.DEMO_KEY)
    ingest.load_all(discover(raw, None))
    assert ingest.problems == ["registry/2020Q4/140525_b.csv: 7 data rows, over the limit max_rows = 6 "
                               "(config/thresholds.toml [limits]); split the file or raise the limit if it is genuine"]
    assert con.execute("select distinct source_file from raw_files").fetchall() == [("registry/2020Q4/140524_a.csv",)]
    assert con.execute("select count(*) from raw_registry").fetchone()[0] == 5


def test_a_batch_s_pieces_are_removed_once_it_is_loaded(tmp_path):
    """The spooled pieces of a batch are deleted by its flush, not kept until the run ends (a
    national run would otherwise hold a Parquet copy of every big raw file on disk)."""
    raw = _raw(tmp_path)
    con = duckdb.connect()
    ingest = Ingest(con, LIFTED, batch_bytes=1 << 40, piece_cells=len(HEADERS))
    ingest.create_inputs(config.DEMO_KEY)
    flush, checked = ingest._flush, []

    def flush_and_check(key):
        paths = [p for kind, _fid, ps, _num in ingest.batches[key]["items"] if kind == "pieces" for p in ps]
        assert paths and all(p.exists() for p in paths)
        flush(key)
        checked.append(len(paths))
        assert not any(p.exists() for p in paths), "pieces left after their batch was loaded"
        assert ingest.pieces is not None  # the run's piece folder itself lives until every batch is loaded

    ingest._flush = flush_and_check
    ingest.load_all(discover(raw, None))
    assert sum(checked) == 12  # the two files' rows, one a piece
    assert con.execute("select count(*) from raw_registry").fetchone()[0] == 12
