"""Report stage (issue #6): warehouse -> reports/<period>/summary.html, summary.xlsx, figures/*.png.

    run(processed_dir, period, out_dir) -> dict

Wiring only: queries are SQL files (sql/), tables are published through config/report.toml
[tables.*] (small-cell suppression, Chinese headers), figures come from charts.py, the page from
templates/summary.html.j2. A section whose input table is missing says 未运行 instead of failing.
A rerun with unchanged inputs (warehouse Parquet up to the period: size + mtime; config, SQL,
code: content hash) does nothing (`up_to_date: true`).
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import shutil
import time
from pathlib import Path

import jinja2

from pipelines import warehouse
from pipelines.config import CONFIG_DIR
from pipelines.policy import load_policy
from pipelines.periods import Period
from pipelines.report import queries
from pipelines.report.spec import Report, render_sections
from pipelines.report.warehouse import open_warehouse, table_files
from pipelines.warehouse import atomic_path

HERE = Path(__file__).parent
STAMP = ".report-inputs.json"
OUTPUTS = ("summary.html", "summary.xlsx")
CONFIG_FILES = ("policy.toml", "report.toml", "measures.toml", "lines.toml", "risk.toml", "code_labels.toml",
                "validate.toml", "thresholds.toml", "regions/counties.csv", "regions/townships.csv")


# ---- up-to-date check -----------------------------------------------------------------------------

def browser_path() -> str | None:
    """Chrome/Chromium for kaleido 1.x static export ($BROWSER_PATH, else on PATH)."""
    if os.environ.get("BROWSER_PATH") and Path(os.environ["BROWSER_PATH"]).exists():
        return os.environ["BROWSER_PATH"]
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome"):
        if found := shutil.which(name):
            return found
    return None


def fingerprint(processed_dir: Path, period: str, config_dir: Path = CONFIG_DIR) -> str:
    """Hash of everything the report depends on."""
    h = hashlib.sha256(period.encode())
    for table, paths in sorted(table_files(processed_dir, period).items()):
        for p in paths:
            st = p.stat()
            h.update(f"{table}|{p.relative_to(processed_dir)}|{st.st_size}|{st.st_mtime_ns}\n".encode())
    code = sorted(HERE.rglob("*.py")) + sorted(HERE.rglob("*.sql")) + sorted(HERE.rglob("*.j2"))
    for p in [config_dir / c for c in CONFIG_FILES] + code + [HERE.parent / "measures" / "nodes.py"]:
        if p.exists():
            h.update(p.name.encode() + hashlib.sha256(p.read_bytes()).digest())
    png = load_policy(config_dir).report.figures.png and browser_path() is not None
    h.update(f"png={png}".encode())
    return h.hexdigest()


def up_to_date(out_dir: Path, stamp: str) -> bool:
    try:
        saved = json.loads((out_dir / STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return saved.get("fingerprint") == stamp and all((out_dir / o).exists() for o in OUTPUTS + tuple(saved.get("figures", [])))


# ---- outputs ------------------------------------------------------------------------------------------

def export_pngs(figures: dict, fig_dir: Path) -> tuple[list[str], str | None]:
    """All figures in one kaleido batch; ([], reason) when no browser is available."""
    if not figures:
        return [], None
    browser = browser_path()
    if browser is None:
        return [], "未找到 Chromium/Chrome，跳过 PNG 静态图(HTML 与 xlsx 不受影响)；安装：apt-get install chromium fonts-wqy-microhei"
    os.environ.setdefault("BROWSER_PATH", browser)
    import plotly.io as pio

    fig_dir.mkdir(parents=True, exist_ok=True)
    names = [f"{k}.png" for k in figures]
    try:
        pio.write_images(list(figures.values()), [fig_dir / n for n in names])
    except Exception as exc:  # noqa: BLE001 - a broken browser must not cost the HTML and xlsx
        return [], f"PNG 导出失败：{type(exc).__name__}: {exc}"
    return [f"figures/{n}" for n in names], None


def run(processed_dir: Path, period: str, out_dir: Path, config_dir: Path = CONFIG_DIR, force: bool = False) -> dict:
    """`povmon report --period 2020Q2`: write out_dir/summary.html, summary.xlsx, figures/*.png."""
    started = time.perf_counter()
    per = Period.parse(period)
    period = str(per)
    processed_dir, out_dir = warehouse.snapshot(processed_dir), Path(out_dir)  # pinned: one state throughout
    stamp = fingerprint(processed_dir, period, config_dir)
    if not force and up_to_date(out_dir, stamp):
        return {"period": period, "out_dir": str(out_dir), "up_to_date": True,
                "seconds": round(time.perf_counter() - started, 2)}
    out_dir.mkdir(parents=True, exist_ok=True)
    wh = open_warehouse(processed_dir, upto=period)
    try:
        queries.bind_params(wh, period, config_dir)
        report = Report(wh, period, config_dir)
        sections = render_sections(report)
    finally:
        wh.close()

    from plotly.offline import get_plotlyjs

    year = per.year
    lines = report.policy.lines.for_year(year, report.policy.lines.roles.values())
    lines_note = "；".join(f"{v.label} {v.value:,.0f} 元/人/年({year})" for v in lines.values())
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=False)
    page = env.get_template("summary.html.j2").render(
        city_name=report.policy.city.name, period=period, period_end=per.end_date,
        sources=report.cfg["sources"], threshold=report.threshold, small_label=html.escape(report.small),
        sections=sections, plotly_js=get_plotlyjs(), lines_note=lines_note)
    with atomic_path(out_dir / "summary.html") as tmp:
        tmp.write_text(page, encoding="utf-8")

    from pipelines.report.workbook import write_workbook

    notes = [("项目", "说明"), ("季度", f"{period}(截至 {per.end_date})"), ("标准", lines_note),
             ("小单元格保护", f"1至{report.threshold - 1}的户数、人数显示为“{report.small}”；合计行由未保护数据计算"),
             *[(k, v) for k, v in report.cfg["sources"].items()]]
    with atomic_path(out_dir / "summary.xlsx") as tmp:
        write_workbook(tmp, report.sheets, notes)

    pngs, png_note = [], None
    if report.cfg["figures"]["png"]:
        pngs, png_note = export_pngs(report.figures, out_dir / "figures")
    else:
        png_note = "PNG 导出已关闭(config/report.toml [figures] png = false)"
    (out_dir / STAMP).write_text(json.dumps({"fingerprint": stamp, "figures": pngs}, ensure_ascii=False, indent=1),
                                 encoding="utf-8")
    return {"period": period, "out_dir": str(out_dir), "up_to_date": False,
            "outputs": [str(out_dir / o) for o in OUTPUTS] + [str(out_dir / p) for p in pngs],
            "figures": len(report.figures), "png_note": png_note, "missing": report.missing,
            "seconds": round(time.perf_counter() - started, 2)}


if __name__ == "__main__":  # python -m pipelines.report.pipeline <processed_dir> <period> <out_dir>
    import sys

    print(json.dumps(run(Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])), ensure_ascii=False, indent=2, default=str))
