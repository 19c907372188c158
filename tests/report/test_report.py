"""Quarterly summary (issue #6): outputs, charts rendered in Chromium, xlsx totals, rerun, suppression."""

from __future__ import annotations

import subprocess
import time

import duckdb
import openpyxl
import pandas as pd
import pytest

from pipelines import warehouse
from pipelines.report.pipeline import run
from pipelines.report.publish import publish, suppression_mask

from .conftest import PERIOD

CHROME_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def test_report_writes_three_outputs(report_out):
    out, summary = report_out
    assert (out / "summary.html").stat().st_size > 100_000  # plotly.js embedded
    assert (out / "summary.xlsx").exists()
    assert summary["figures"] >= 8
    # every stage ran on the staged city, so no section is missing
    assert not summary["missing"], summary["missing"]
    page = (out / "summary.html").read_text(encoding="utf-8")
    assert "贫困发生率" in page and "户、" in page and "Noto Sans CJK SC" in page
    assert 'class="missing"' not in page  # no section says 未运行


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
    shot = tmp_path / "shot.png"
    subprocess.run([chromium, *CHROME_FLAGS, f"--user-data-dir={tmp_path / 'u2'}", "--virtual-time-budget=8000",
                    f"--screenshot={shot}", "--window-size=1200,2000", url], capture_output=True, timeout=120)
    # a blank or box-only page compresses to a few KB; rendered charts and CJK text do not
    assert shot.stat().st_size > 100_000, shot.stat().st_size


def test_xlsx_totals_match_measures(report_out, report_warehouse):
    out, _ = report_out
    wb = openpyxl.load_workbook(out / "summary.xlsx")
    assert {"说明", "未脱贫人口", "两不愁三保障", "收入账", "就业账", "政策账", "数据质量"} <= set(wb.sheetnames)
    ws = wb["未脱贫人口"]
    assert ws.freeze_panes == "A5"
    header = [c.value for c in ws[4]]
    rows = {r[1]: dict(zip(header, r)) for r in ws.iter_rows(min_row=5, values_only=True)}
    total = rows["合计"]
    con = duckdb.connect()
    expected = con.execute(
        "select estimate from read_parquet(?) where measure = 'poor_persons_administrative' and region_level = 'city'",
        [str(warehouse.stable_path(report_warehouse, "measures", PERIOD))]).fetchone()[0]
    assert total["未脱贫人数(人)"] == expected
    county_values = [r["未脱贫人数(人)"] for k, r in rows.items() if k != "合计"]
    numeric = [v for v in county_values if isinstance(v, (int, float))]
    if len(numeric) == len(county_values):
        assert sum(numeric) == expected
    hh = con.execute("select count(*) from read_parquet(?) where poverty_status in ('poor', 'returned')",
                     [str(warehouse.stable_path(report_warehouse, "households", PERIOD))]).fetchone()[0]
    assert total["未脱贫户数(户)"] == hh


def test_rerun_with_no_new_data_does_nothing(report_out, report_warehouse):
    out, _ = report_out
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    started = time.perf_counter()
    again = run(report_warehouse, PERIOD, out)
    assert again["up_to_date"] is True
    assert time.perf_counter() - started < 5
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()} == before


def test_forced_rebuild_gives_the_same_bytes(report_out, report_warehouse, tmp_path):
    """Same warehouse, same report: summary.html and summary.xlsx are byte-identical (figure ids and
    workbook metadata are fixed; PNGs come from a browser and are not compared)."""
    out, _ = report_out
    again = tmp_path / PERIOD
    run(report_warehouse, PERIOD, again, force=True)
    for name in ("summary.html", "summary.xlsx"):
        assert (again / name).read_bytes() == (out / name).read_bytes(), name


def test_small_cells_suppressed_with_secondary():
    df = pd.DataFrame({"is_total": [0, 0, 0, 1], "county_name": ["a", "b", "c", "合计"],
                       "poor_persons": [3, 12, 40, 55], "incidence": [0.001, 0.002, 0.003, 0.002]})
    spec = {"columns": {"county_name": "县", "poor_persons": "人", "incidence": "率"},
            "counts": ["poor_persons"], "linked": {"incidence": "poor_persons"}}
    out = publish(df, spec, 5, "<5")
    assert out["人"].tolist() == ["<5", "<5", 40, 55]  # 12 suppressed too: 55 - 40 - x would reveal 3
    assert out["率"].tolist()[:2] == ["<5", "<5"]
    assert not suppression_mask(df.assign(poor_persons=[0, 12, 43, 55]), ["poor_persons"], 5).any().any()


def test_missing_stage_says_not_run(tmp_path):
    from . import tiny_warehouse

    processed = tiny_warehouse.build(tmp_path / "processed", households=30, run_stages=False)
    summary = run(processed, PERIOD, tmp_path / "out", force=True)
    assert "poor_by_county" in summary["missing"] and "risk_by_county" in summary["missing"]
    assert "未运行" in (tmp_path / "out" / "summary.html").read_text(encoding="utf-8")
    assert openpyxl.load_workbook(tmp_path / "out" / "summary.xlsx")["收入账"].max_row > 4
