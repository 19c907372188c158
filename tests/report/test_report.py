"""Quarterly summary: outputs, PNGs, xlsx read back, rerun, fail-loud, never overwrite."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import duckdb
import openpyxl
import pytest

from pipelines import warehouse
from pipelines.config import PROJECT_ROOT
from pipelines.report import outputs, pipeline
from pipelines.report.pipeline import ReportError, run

from tests.report_runs import without_pngs

from .conftest import PERIOD

CHROME_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _snapshot(folder):
    return {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_report_writes_its_outputs(report_out):
    out, summary = report_out
    assert (out / "summary.html").stat().st_size > 100_000  # plotly.js embedded
    assert (out / "summary.xlsx").exists() and (out / "数据质量摘要.html").exists()
    assert summary["figures"] >= 8
    # every stage, validate's gate record included, ran on the staged city
    assert not summary["missing"], summary["missing"]
    page = (out / "summary.html").read_text(encoding="utf-8")
    assert "贫困发生率" in page and "户、" in page and "Noto Sans CJK SC" in page
    assert "内部版" in page and "数据质量检查已通过" in page
    assert not list(out.parent.glob(f".{out.name}.*"))  # no build folder left beside it


def test_pngs_exported_in_one_batch(report_out, chromium):
    out, summary = report_out
    pngs = sorted((out / "figures").glob("*.png"))
    assert len(pngs) == summary["figures"], summary["png_note"]
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)


def test_html_charts_render_in_headless_chromium(report_out, chromium, tmp_path):
    out, summary = report_out
    url = (out / "summary.html").resolve().as_uri()
    dom = subprocess.run([chromium, *CHROME_FLAGS, f"--user-data-dir={tmp_path / 'u1'}",
                          "--virtual-time-budget=8000", "--dump-dom", url],
                         capture_output=True, text=True, timeout=120).stdout
    # plotly draws one or more .main-svg per chart, only when its JS ran offline
    assert dom.count('class="main-svg"') >= summary["figures"]
    assert "剩余未脱贫户数和人数" in dom  # Chinese chart title is rendered into the SVG


def test_xlsx_totals_match_measures(report_out, report_warehouse):
    out, _ = report_out
    wb = openpyxl.load_workbook(out / "summary.xlsx")
    assert {"说明", "本季度要点", "未脱贫人口", "两不愁三保障", "收入账", "就业账", "政策账", "数据质量"} <= set(wb.sheetnames)
    ws = wb["未脱贫人口"]
    header_row = next(r for r in range(1, 8) if ws.cell(r, 1).value == "县(市、区)代码")
    assert ws.freeze_panes == f"A{header_row + 1}"
    header = [c.value for c in ws[header_row]]
    rows = {r[1]: dict(zip(header, r)) for r in ws.iter_rows(min_row=header_row + 1, values_only=True)}
    total = rows["合计"]
    con = duckdb.connect()
    expected = con.execute(
        "select estimate from read_parquet(?) where measure = 'poor_persons_administrative' and region_level = 'city'",
        [str(warehouse.stable_path(report_warehouse, "measures", PERIOD))]).fetchone()[0]
    assert total["未脱贫人数(人)"] == expected
    assert sum(r["未脱贫人数(人)"] for k, r in rows.items() if k != "合计") == expected  # internal: exact
    hh = con.execute(f"select count(*) from {warehouse.scan(report_warehouse, 'households', PERIOD)} "
                     "where poverty_status in ('poor', 'returned')").fetchone()[0]
    assert total["未脱贫户数(户)"] == hh


def _width(ws, index: int) -> float:
    """The width of column `index` (openpyxl keys a <col min max> range by its first letter)."""
    for dim in ws.column_dimensions.values():
        if dim.min is not None and dim.min <= index <= dim.max:
            return dim.width
    return 8.43


def test_xlsx_is_sized_and_set_up_for_a4_landscape(report_out):
    from pipelines.report.workbook import display_width

    out, _ = report_out
    wb = openpyxl.load_workbook(out / "summary.xlsx")
    for ws in wb.worksheets[1:]:
        assert ws.page_setup.paperSize == 9 and ws.page_setup.orientation == "landscape", ws.title
        assert ws.print_title_rows, ws.title  # header row repeated on every printed page
        header_row = int(ws.print_title_rows.split(":")[0].lstrip("$"))
        for cell in ws[header_row]:
            if cell.value is None:
                continue
            letter = cell.column_letter
            values = [ws[f"{letter}{r}"].value for r in range(header_row, ws.max_row + 1)]
            texts = [v for v in values if isinstance(v, str) and not v.startswith("未运行")]  # a note spills over
            width = _width(ws, cell.column)
            assert width >= min(display_width(max(texts, key=display_width)), 60), (ws.title, letter, width)


def test_rerun_with_no_new_data_does_nothing(report_out, report_warehouse):
    out, _ = report_out
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    started = time.perf_counter()
    again = run(report_warehouse, PERIOD, out)
    assert again["up_to_date"] is True
    assert time.perf_counter() - started < 5
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()} == before


def test_forced_rebuild_gives_the_same_bytes(report_out, report_warehouse, tmp_path):
    """Same warehouse, same report: the pages and the workbook are byte-identical (figure ids and
    workbook metadata are fixed; PNGs come from a browser and are not compared)."""
    out, _ = report_out
    again = tmp_path / PERIOD
    run(report_warehouse, PERIOD, again, force=True, policy=without_pngs())  # PNGs off: not compared
    for name in ("summary.html", "summary.xlsx", "数据质量摘要.html"):
        assert (again / name).read_bytes() == (out / name).read_bytes(), name


def test_pngs_appear_on_the_next_normal_run_once_a_browser_exists(report_warehouse, tmp_path, monkeypatch, chromium):
    out = tmp_path / PERIOD
    real = pipeline.browser_path
    monkeypatch.setattr(pipeline, "browser_path", lambda: None)
    first = run(report_warehouse, PERIOD, out)
    assert not (out / "figures").exists() and "Chromium" in first["png_note"]
    assert run(report_warehouse, PERIOD, out)["up_to_date"] is True  # nothing new: nothing done
    monkeypatch.setattr(pipeline, "browser_path", real)  # chromium installed
    second = run(report_warehouse, PERIOD, out)  # no --force
    assert second["up_to_date"] is False
    assert len(list((out / "figures").glob("*.png"))) == second["figures"]
    assert run(report_warehouse, PERIOD, out)["up_to_date"] is True


# ---- fail loud, never overwrite ----------------------------------------------------------------------

def _cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipelines.cli", "report", *args], capture_output=True, text=True,
                          cwd=PROJECT_ROOT, env={**os.environ, **(env or {})}, timeout=300)


@pytest.fixture()
def good_report(report_out, tmp_path):
    """A copy of the good 2020Q2 report in a folder of its own, and its bytes."""
    out = tmp_path / "reports" / PERIOD
    shutil.copytree(report_out[0], out)
    return out, _snapshot(out)


def test_a_quarter_without_data_exits_2_and_writes_nothing(report_warehouse, tmp_path):
    done = _cli("--period", "2021Q1", "--processed", str(report_warehouse), "--out", str(tmp_path / "2021Q1"))
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "no data for 2021Q1" in lines[0] and "households has quarters" in lines[0]
    assert not (tmp_path / "2021Q1").exists()


def test_a_missing_processed_folder_keeps_the_old_report(good_report, tmp_path):
    out, before = good_report
    done = _cli("--period", PERIOD, "--processed", str(tmp_path / "nonexistent"), "--out", str(out), "--force")
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and "nonexistent not found" in done.stderr
    assert _snapshot(out) == before


def test_a_stage_that_has_not_run_stops_the_report(good_report, tmp_path):
    from . import tiny_warehouse

    out, before = good_report
    processed = tiny_warehouse.build(tmp_path / "processed", households=30, run_stages=False)
    with pytest.raises(ReportError, match=r"table problems has no 2020Q2 partition .*`povmon validate --period 2020Q2` first"):
        run(processed, PERIOD, out, force=True)
    assert _snapshot(out) == before


def test_an_empty_required_table_stops_the_report(report_warehouse, good_report, tmp_path):
    out, before = good_report
    processed = tmp_path / "processed"
    shutil.copytree(report_warehouse, processed, symlinks=True)  # its `current` pointer too
    part = warehouse.stable_path(processed, "risk", PERIOD)
    with duckdb.connect() as con:
        con.execute(f"copy (select * from read_parquet('{part}') where false) to '{part}.tmp' (format parquet)")
    os.replace(f"{part}.tmp", part)
    with pytest.raises(ReportError, match=r"table risk has 0 rows for 2020Q2"):
        run(processed, PERIOD, out, force=True)
    assert _snapshot(out) == before


def test_a_run_that_fails_midway_leaves_the_old_report(good_report, report_warehouse, monkeypatch):
    out, before = good_report
    import pipelines.report.workbook as workbook

    def broken(*_a, **_k):
        raise OSError("disk full while writing the workbook")

    monkeypatch.setattr(workbook, "write_workbook", broken)
    with pytest.raises(OSError, match="disk full"):
        run(report_warehouse, PERIOD, out, force=True)
    assert _snapshot(out) == before
    assert not list(out.parent.glob(f".{out.name}.*"))


def test_the_swap_keeps_what_other_stages_wrote(tmp_path):
    out = tmp_path / PERIOD
    (out / "data_docs").mkdir(parents=True)
    (out / "data_docs" / "index.html").write_text("docs")
    (out / "问题清单").mkdir()
    (out / "问题清单" / "140521.xlsx").write_text("ledger")
    (out / "figures").mkdir()
    (out / "figures" / "old.png").write_text("stale")
    (out / "summary.html").write_text("old")
    with outputs.staged(out, owned=pipeline.OWNED) as build:
        (build / "summary.html").write_text("new")
    assert (out / "summary.html").read_text() == "new"
    assert (out / "data_docs" / "index.html").read_text() == "docs"  # validate's, carried over
    assert (out / "问题清单" / "140521.xlsx").read_text() == "ledger"
    assert not (out / "figures").exists()  # the report's own: not carried from the old run
    assert sorted(p.name for p in tmp_path.iterdir()) == [PERIOD]


def test_a_kill_between_the_two_renames_is_undone_by_the_next_run(tmp_path, monkeypatch):
    """Without renameat2's exchange the swap is two renames; killed between them, out_dir is
    missing and the old report lies aside: the next run puts it back before anything else."""
    out = tmp_path / PERIOD
    out.mkdir()
    (out / "summary.html").write_text("old")
    monkeypatch.setattr(outputs, "exchange", lambda a, b: False)
    real_rename, calls = os.rename, []

    def rename(src, dst):
        calls.append((src, dst))
        if len(calls) == 2:
            raise KeyboardInterrupt  # the kill, after the old folder was renamed aside
        real_rename(src, dst)

    monkeypatch.setattr(outputs.os, "rename", rename)
    with pytest.raises(KeyboardInterrupt):
        with outputs.staged(out, owned=pipeline.OWNED) as build:
            (build / "summary.html").write_text("new")
    monkeypatch.setattr(outputs.os, "rename", real_rename)
    assert not out.exists() and len(list(tmp_path.glob(f".{PERIOD}.old-*"))) == 1
    outputs.recover(out)
    assert (out / "summary.html").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == [PERIOD]


def test_the_exchange_is_atomic_on_this_system(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "x").write_text("a")
    (b / "x").write_text("b")
    if not outputs.exchange(a, b):
        pytest.skip("renameat2(RENAME_EXCHANGE) not available: the two-rename path is used")
    assert (a / "x").read_text() == "b" and (b / "x").read_text() == "a"


def test_the_first_quarter_has_nothing_to_compare_with_and_says_so(report_warehouse, tmp_path):
    """No previous quarter: no transitions to require; 返贫 / 新致贫 read 无上季度可比, not 0."""
    processed = tmp_path / "processed"
    shutil.copytree(report_warehouse, processed, symlinks=True)
    for table in ("households", "persons", "risk", "measures", "problems"):
        shutil.rmtree(warehouse.stable_path(processed, table, "2019Q4").parent, ignore_errors=True)
    for table in ("transitions", "transition_matrix"):
        shutil.rmtree(warehouse.stable_path(processed, table, "2020Q1").parent, ignore_errors=True)
    out = tmp_path / "2020Q1"
    run(processed, "2020Q1", out)
    page = (out / "summary.html").read_text(encoding="utf-8")
    assert page.count('<div class="a">无上季度可比</div>') == 2
    assert "较上季度 —户" in page  # no change where there is no previous quarter
    # with a previous quarter, the comparison is required again
    shutil.rmtree(warehouse.stable_path(processed, "transitions", PERIOD).parent)
    with pytest.raises(ReportError, match=r"table transitions has no 2020Q2 partition"):
        run(processed, PERIOD, tmp_path / PERIOD)
