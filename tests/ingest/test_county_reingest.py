"""Issue 12 part 1: a county re-sent alone re-ingests only that county's partitions.

A one-quarter city in the counties' own formats is ingested once; each test copies that warehouse
and the raw folder, changes one county's registry export the way a re-sent file differs (an
income edited, a member row gone, an ID that another county already has, a county's file
withdrawn), ingests again and checks (a) which county files of the county-scoped tables were
written (the others are the very same files: same inode), (b) the whole warehouse equals a
from-scratch ingest of the changed raw folder, (c) raw rows read = loaded + quarantined.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from pipelines import warehouse
from pipelines.ingest import pipeline
from tests.warehouse_checks import copy_warehouse

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "compare_warehouses.py"
spec = importlib.util.spec_from_file_location("compare_warehouses", SCRIPT)
cw = sys.modules.setdefault("compare_warehouses", importlib.util.module_from_spec(spec))
spec.loader.exec_module(cw)

Q = "2020Q1"
EDITED = "140522"  # 阳城县: a GB18030 CSV export
EARLIER = "140502"  # 城区: a UTF-8 CSV export, before 阳城县 in path order


@pytest.fixture(scope="module")
def city(tmp_path_factory) -> Path:
    """raw/ of a 500-household one-quarter city and processed/ after a full ingest."""
    from pipelines.synth.pipeline import run as synth

    root = tmp_path_factory.mktemp("county_reingest")
    synth(out_dir=root, households=500, seed=11, periods=[Q], fmt="county")
    summary = pipeline.run(root / "raw", root / "processed")
    assert summary["counties"]["kept"] == 0 and len(summary["counties"]["read"]) == 6
    return root


def _registry(raw: Path, county: str) -> Path:
    return next((raw / "registry" / Q).glob(f"{county}_*"))


def _read(path: Path) -> tuple[pd.DataFrame, str]:
    encoding = "utf-8-sig" if path.read_bytes().startswith(b"\xef\xbb\xbf") else "gb18030"
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding), encoding


def _county_files(processed: Path) -> dict[str, tuple[int, int]]:
    """{table/period=…/county-….parquet: (inode, mtime)} of the current snapshot's county files."""
    snap = warehouse.snapshot(processed)
    return {str(f.relative_to(snap)): (f.stat().st_ino, f.stat().st_mtime_ns)
            for t in pipeline.PARTED for f in warehouse.table_files(snap, t) if f.name.startswith("county-")}


def _reingest(city: Path, tmp_path: Path, edit) -> tuple[dict, dict, dict, Path, Path]:
    """Copy raw and warehouse, edit raw, ingest into the copy and from scratch; returns the
    summary, county files before and after, and both warehouses."""
    raw = tmp_path / "raw"
    shutil.copytree(city / "raw", raw)
    processed = copy_warehouse(city / "processed", tmp_path / "processed")
    before = _county_files(processed)
    edit(raw)
    summary = pipeline.run(raw, processed)
    after = _county_files(processed)
    fresh = tmp_path / "fresh"
    pipeline.run(raw, fresh)
    return summary, before, after, processed, fresh


def _earlier_value(column: str, row: int, earlier_row: int):
    """An edit: 阳城县's row `row` gets the `column` value of 城区's row `earlier_row`."""
    def edit(raw: Path) -> None:
        path = _registry(raw, EDITED)
        df, encoding = _read(path)
        other, _ = _read(_registry(raw, EARLIER))
        df.loc[df.index[row], column] = other.loc[earlier_row, column]
        df.to_csv(path, index=False, encoding=encoding)

    return edit


def _rewritten(before: dict, after: dict) -> set[str]:
    """Counties with a file written, added or removed by the re-ingest."""
    names = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    return {Path(n).name.removeprefix("county-").removesuffix(".parquet") for n in names}


def _assert_equal(a: Path, b: Path) -> None:
    diffs = [d.line() for d in cw.compare(a, b, tolerance=0) if d.differs]
    assert diffs == []


def _assert_reconciles(processed: Path, raw: Path) -> None:
    """Every manifest row: rows_read = loaded + quarantined; quarantine holds exactly the
    quarantined rows of each file; the registry CSVs' data rows are all read (counted here)."""
    with duckdb.connect() as con:
        manifest = warehouse.scan(processed, "ingest_manifest")
        bad = con.execute(f"select count(*) from {manifest} where rows_read <> rows_loaded + rows_quarantined").fetchone()
        assert bad[0] == 0
        per_file = con.execute(
            f"select m.source_file, m.rows_quarantined, coalesce(q.n, 0), m.rows_read from {manifest} as m "
            f"left join (select source_file, sheet, count(*) as n from {warehouse.scan(processed, 'quarantine')} "
            "group by all) as q on q.source_file = m.source_file and q.sheet is not distinct from m.sheet "
            "where m.source_kind = 'registry'").fetchall()
        loaded = dict(con.execute(f"select source_file, count(*) from {warehouse.scan(processed, 'persons')} "
                                  "group by 1").fetchall())
    read = {f: n for f, _q, _n, n in per_file}
    assert all(q == n for _f, q, n, _r in per_file)
    for f, rows_q, _n, rows_read in per_file:
        assert loaded.get(f, 0) + rows_q == rows_read  # persons: one row per loaded member row
    for path in (raw / "registry" / Q).glob("*.csv"):
        assert read[path.relative_to(raw).as_posix()] == len(_read(path)[0])


def test_unchanged_raw_reads_no_county_and_writes_no_county_file(city, tmp_path):
    summary, before, after, processed, fresh = _reingest(city, tmp_path, lambda raw: None)
    assert summary["counties"] == {"read": [], "kept": 6, "parts_written": 0}
    assert before == after and len(before) >= 6 * 3
    _assert_equal(processed, fresh)


def test_an_edited_county_rewrites_only_its_own_files(city, tmp_path):
    def edit(raw: Path) -> None:
        path = _registry(raw, EDITED)
        df, encoding = _read(path)
        df.loc[5, "工资性收入"] = "12345.6"  # an income corrected
        df = df.drop(index=7)  # a member row withdrawn
        df.to_csv(path, index=False, encoding=encoding)

    summary, before, after, processed, fresh = _reingest(city, tmp_path, edit)
    assert summary["counties"]["read"] == [f"{Q}/county-{EDITED}"]
    assert _rewritten(before, after) == {EDITED}
    assert summary["files"]["count"] < 24  # the other counties' registry files were not read
    _assert_equal(processed, fresh)
    _assert_reconciles(processed, tmp_path / "raw")


def test_an_id_another_county_has_re_reads_that_county_too(city, tmp_path):
    """阳城县's re-sent file now carries an ID 城区 (earlier in path order) already loaded: the row
    is quarantined as duplicate_person, and 城区's kept row gets duplicate_person_kept and the
    persons flag — 城区's files are unchanged but its rows are not, so it is read again."""
    summary, before, after, processed, fresh = _reingest(city, tmp_path, _earlier_value("证件号码", 10, 3))
    assert summary["counties"]["read"] == [f"{Q}/county-{EARLIER}", f"{Q}/county-{EDITED}"]
    assert _rewritten(before, after) == {EARLIER, EDITED}
    _assert_equal(processed, fresh)
    _assert_reconciles(processed, tmp_path / "raw")
    with duckdb.connect() as con:
        dup = con.execute(f"select source_file from {warehouse.scan(processed, 'quarantine')} "
                          "where reason = 'duplicate_person'").fetchall()
        kept = con.execute(f"select source_file from {warehouse.scan(processed, 'findings')} "
                           "where reason = 'duplicate_person_kept'").fetchall()
    assert any(Path(f).name.startswith(EDITED) for (f,) in dup)
    assert any(Path(f).name.startswith(EARLIER) for (f,) in kept)


def test_a_withdrawn_county_loses_its_files(city, tmp_path):
    def edit(raw: Path) -> None:
        _registry(raw, "140581").unlink()

    # counties sharing an ID with 高平市 (a planted duplicate may cross counties): their duplicate
    # decisions change with its withdrawal, so they alone are read again
    with duckdb.connect() as con:
        sharing = {r[0] for r in con.execute(
            f"with ids as (select substr(regexp_extract(source_file, '[^/]*$'), 1, 6) as county, person_key "
            f"from {warehouse.scan(city / 'processed', 'person_ids')}) "
            "select distinct a.county from ids as a inner join ids as b using (person_key) "
            "where b.county = '140581' and a.county <> '140581'").fetchall()}
    summary, before, after, processed, fresh = _reingest(city, tmp_path, edit)
    assert summary["counties"]["read"] == [f"{Q}/county-{c}" for c in sorted(sharing)]
    assert _rewritten(before, after) - sharing == {"140581"}
    assert not any("county-140581" in k for k in after)
    _assert_equal(processed, fresh)


def test_full_reads_every_county(city, tmp_path):
    processed = copy_warehouse(city / "processed", tmp_path / "processed")
    summary = pipeline.run(city / "raw", processed, full=True)
    assert len(summary["counties"]["read"]) == 6 and summary["counties"]["kept"] == 0


def test_a_household_number_another_county_has_re_reads_that_county_too(city, tmp_path):
    """户编号 are opaque strings (domain.md) and households are reconciled by period and 户编号
    across files: a row of 阳城县's re-sent file now carries a 户编号 城区 already has, so 城区's
    households and findings change although its file did not — it is read again, and the
    warehouse equals a from-scratch ingest (before, 城区's carried rows kept a household that
    no longer matched and its household_size_mismatch findings went missing)."""
    summary, before, after, processed, fresh = _reingest(city, tmp_path, _earlier_value("户编号", 12, 5))
    assert summary["counties"]["read"] == [f"{Q}/county-{EARLIER}", f"{Q}/county-{EDITED}"]
    assert _rewritten(before, after) == {EARLIER, EDITED}
    _assert_equal(processed, fresh)
    _assert_reconciles(processed, tmp_path / "raw")


def test_a_changed_library_or_policy_value_re_reads_every_county(city, tmp_path, monkeypatch):
    """What a county's files are read as depends on the readers' versions and on the policy as
    loaded (schema defaults included), not only on the config files: a change of either re-reads
    every county."""
    processed = copy_warehouse(city / "processed", tmp_path / "processed")
    monkeypatch.setattr(pipeline, "_version", lambda library: "9.9.9" if library == "pyreadstat" else "same")
    assert len(pipeline.run(city / "raw", processed)["counties"]["read"]) == 6
    assert pipeline.run(city / "raw", processed)["counties"]["read"] == []
    monkeypatch.setattr(pipeline, "_resolved_policy", lambda policy: '{"a schema default": "changed"}')
    assert len(pipeline.run(city / "raw", processed)["counties"]["read"]) == 6
