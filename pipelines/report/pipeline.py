"""Report stage: warehouse -> reports/<period>/summary.html, summary.xlsx, 数据质量摘要.html, figures/*.png.

    run(processed_dir, period, out_dir, audience="internal") -> dict

Wiring only: the page is the spec of config/report.toml rendered by spec.py (sections, cards,
figures, tables, definitions), the SQL models are in sql/, small-cell protection in publish.py,
the workbook in workbook.py, charts in charts.py.

Fail loud, never overwrite: a missing processed folder, a quarter without data, or a required
table ([inputs]) without the quarter's partition (or without rows) stops the run with one line
(ReportError: exit 2) before anything is written; the report is built in a folder beside the old
one and swapped in whole when complete (outputs.py), so a failed or killed run leaves the old
report. A rerun with unchanged inputs (warehouse files up to the period: partition, size, mtime;
config, SQL, code: content hash; the audience; whether PNGs can be made) does nothing
(`up_to_date: true`) — but PNGs that could not be made last time are tried again, so they appear
on the next normal run once chromium is installed.
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import json
import os
import shutil
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import jinja2

from pipelines import warehouse
from pipelines.config import CONFIG_DIR
from pipelines.periods import Period
from pipelines.policy import Policy, load_policy
from pipelines.report import queries
from pipelines.report.outputs import staged
from pipelines.report.publish import HIDDEN, SMALL
from pipelines.report.spec import Report, html_table, render_sections
from pipelines.report.warehouse import Warehouse, open_warehouse, table_files

HERE = Path(__file__).parent
STAMP = ".report-inputs.json"
QUALITY_PAGE = "数据质量摘要.html"
OUTPUTS = ("summary.html", "summary.xlsx", QUALITY_PAGE)
OWNED = (*OUTPUTS, "figures", STAMP)  # what a run writes; everything else in the folder is kept
CONFIG_FILES = ("policy.toml", "report.toml", "measures.toml", "lines.toml", "risk.toml", "code_labels.toml",
                "validate.toml", "thresholds.toml", "header_aliases.toml", "regions/counties.csv",
                "regions/townships.csv")


class ReportError(ValueError):
    """The report cannot be made from what is there: one line, exit 2, nothing written."""


# ---- up-to-date check -----------------------------------------------------------------------------

def browser_path() -> str | None:
    """Chrome/Chromium for kaleido 1.x static export ($BROWSER_PATH, else on PATH)."""
    if os.environ.get("BROWSER_PATH") and Path(os.environ["BROWSER_PATH"]).exists():
        return os.environ["BROWSER_PATH"]
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome"):
        if found := shutil.which(name):
            return found
    return None


def pngs_wanted(policy: Policy) -> bool:
    return bool(policy.report.figures.png) and browser_path() is not None


def fingerprint(processed_dir: Path, period: str, config_dir: Path = CONFIG_DIR, audience: str = "internal",
                png: bool = False) -> str:
    """Hash of everything the report depends on (a file by its table, partition, size and mtime,
    not its folder: the same partition in another snapshot is the same input)."""
    h = hashlib.sha256(f"{period}|{audience}|png={png}".encode())
    for table, paths in sorted(table_files(processed_dir, period).items()):
        for p in sorted(paths):
            st = p.stat()
            h.update(f"{table}|{p.parent.name}|{p.name}|{st.st_size}|{st.st_mtime_ns}\n".encode())
    code = sorted(HERE.rglob("*.py")) + sorted(HERE.rglob("*.sql")) + sorted(HERE.rglob("*.j2"))
    extra = [HERE.parent / "measures" / "nodes.py", HERE.parent / "params.py", HERE.parent / "graph.py"]
    for p in [config_dir / c for c in CONFIG_FILES] + code + extra:
        if p.exists():
            h.update(p.name.encode() + hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()


def workbook_files(policy: Policy, period: str) -> tuple[str, ...]:
    """File names of the one-workbook outputs of config/report.toml [workbooks] (交总账_<q>.xlsx)."""
    return tuple(book.file.format(period=period) for book in policy.report.workbooks.values())


def up_to_date(out_dir: Path, stamp: str, extra: tuple[str, ...] = ()) -> bool:
    """The folder holds a complete report of these inputs (and its PNGs, when they were wanted)."""
    try:
        saved = json.loads((out_dir / STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if saved.get("fingerprint") != stamp or (saved.get("png_wanted") and not saved.get("png_done")):
        return False
    return all((out_dir / o).exists() for o in OUTPUTS + extra + tuple(saved.get("figures", [])))


# ---- inputs ----------------------------------------------------------------------------------------

def check_processed(processed_dir: Path, period: str) -> Path:
    if not Path(processed_dir).is_dir():
        raise ReportError(f"report {period}: processed folder {processed_dir} not found (expected the warehouse "
                          "povmon ingest writes; give --processed)")
    return Path(processed_dir).resolve()


def check_inputs(wh: Warehouse, processed_dir: Path, period: str, policy: Policy) -> list[str]:
    """Every required table has the quarter's partition (and rows, for `nonempty`), or ReportError
    naming the first that does not and the command that writes it. Returns the `needs_previous`
    tables excused because the previous quarter has no data (the first quarter of a run)."""
    inputs = policy.report.inputs
    previous = str(Period.parse(period).previous)
    first_quarter = not any(f.parent.name == f"period={previous}" for f in wh.tables.get("households", []))
    excused = [t for t in inputs.needs_previous if first_quarter and not wh.has(t)]
    for table in (t for t in inputs.required if t not in excused):  # in the order the stages run
        command = inputs.required[table].format(period=period)
        files = [f for f in wh.tables.get(table, []) if f.parent.name == f"period={period}"]
        if not files and table == "households":
            have = [p for p in warehouse.partitions(processed_dir, "households")]
            found = f"households has quarters {', '.join(have)}" if have else "no households table"
            raise ReportError(f"report {period}: no data for {period} in {processed_dir} ({found}); expected the "
                              f"quarter's registry exports ingested ({command})")
        if not files:
            raise ReportError(f"report {period}: table {table} has no {period} partition in {processed_dir}; "
                              f"expected it written by `{command}` first")
        if table in inputs.nonempty:
            rows = wh.con.execute(f'select count(*) from "{table}" where period = ?', [period]).fetchone()[0]
            if rows == 0:
                raise ReportError(f"report {period}: table {table} has 0 rows for {period} in {processed_dir}; "
                                  f"expected at least one (rerun `{command}`)")
    return excused


# ---- outputs ------------------------------------------------------------------------------------------

def export_pngs(figures: dict, fig_dir: Path) -> tuple[list[str], str | None]:
    """All figures in one kaleido batch; ([], reason) when no browser is available."""
    if not figures:
        return [], None
    browser = browser_path()
    if browser is None:
        return [], "未找到 Chromium/Chrome，跳过 PNG 静态图(HTML 与 xlsx 不受影响)；安装：make system-deps"
    os.environ.setdefault("BROWSER_PATH", browser)
    import plotly.io as pio

    fig_dir.mkdir(parents=True, exist_ok=True)
    names = [f"{k}.png" for k in figures]
    try:
        pio.write_images(list(figures.values()), [fig_dir / n for n in names])
    except Exception as exc:  # noqa: BLE001 - a broken browser must not cost the HTML and xlsx
        return [], f"PNG 导出失败：{type(exc).__name__}: {exc}"
    return [f"figures/{n}" for n in names], None


@contextlib.contextmanager
def browser_session(policy: Policy | None = None):
    """One headless Chromium for every export_pngs call inside the block (kaleido's sync server),
    instead of one started and stopped per report: what running several quarters' reports in one
    process saves. Nothing is started when PNGs are not wanted or no browser is found; the same
    figures go through the same kaleido calls either way."""
    if not pngs_wanted(policy or load_policy()):
        yield False
        return
    import kaleido

    os.environ.setdefault("BROWSER_PATH", browser_path())
    kaleido.start_sync_server(silence_warnings=True)
    if not _server_answers(kaleido):  # a browser that cannot start: each report starts its own, as before
        kaleido.stop_sync_server(silence_warnings=True)
        yield False
        return
    try:
        yield True
    finally:
        kaleido.stop_sync_server(silence_warnings=True)


def shared_browser_running() -> bool:
    """Whether browser_session's Chromium (kaleido's sync server) is up in this process."""
    kaleido = sys.modules.get("kaleido")
    server = getattr(kaleido, "_global_server", None)
    return bool(server is not None and server.is_running())


BROWSER_START_SECONDS = 120  # how long the shared browser may take to render a first, empty figure


def _server_answers(kaleido) -> bool:
    """Whether kaleido's sync server renders an empty figure. Its calls wait without a time limit,
    and a server whose browser failed to start never answers: asked from a side thread, with a limit."""
    import threading

    server = getattr(kaleido._global_server, "_thread", None)  # noqa: SLF001 - dies when the browser does not start
    answer: list[object] = []
    side = threading.Thread(target=lambda: answer.append(_try(kaleido.calc_fig_sync, {"data": []})), daemon=True)
    hook = threading.excepthook  # the server thread's own traceback is not for the user: the report says PNG failed
    threading.excepthook = lambda a: None if a.thread is server else hook(a)
    try:
        side.start()
        deadline = time.monotonic() + BROWSER_START_SECONDS
        while side.is_alive() and time.monotonic() < deadline and (server is None or server.is_alive()):
            side.join(0.1)
    finally:
        threading.excepthook = hook
    return bool(answer) and isinstance(answer[0], bytes)


def _try(call, *args):
    try:
        return call(*args)
    except Exception as exc:  # noqa: BLE001 - any failure means: no shared browser
        return exc


def lines_note(report: Report, year: int) -> str:
    lines = report.policy.lines.for_year(year, report.policy.lines.roles.values())
    return "；".join(f"{'⚠ ' if not v.confirmed else ''}{v.label} {v.value:,.0f} 元/人/年({year})" for v in lines.values())


def workbook_notes(report: Report, per: Period) -> list[tuple[str, str]]:
    """Rows of the 说明 sheet: audience, quarter, the gate, lines (⚠ placeholders), marks, sources."""
    small, sc = report.threshold - 1, report.policy.report.small_cells
    _status, gate = report.validation_banner()
    notes = [("项目", "说明"), ("版本", report.audience.note.format(small=small, label=report.small,
                                                                 hidden=report.hidden)),
        ("季度", f"{per}(截至 {per.end_date})"), ("数据质量检查", gate), ("标准", lines_note(report, per.year))]
    notes += [("⚠ 占位值", w) for w in report.line_warnings()]
    if report.audience.suppress:
        notes.append(("不公开的数", f"数字列中不公开的单元格留空，并以灰色斜线底纹标出；该行最后一列“不公开”写明列名和标记："
                                    f"“{report.small}”= 1至{small}户(人)，“{report.hidden}”= 为防止由合计、同行之和或上季度变化"
                                    f"反推而不公开(不小于{sc.threshold})。合计行由全部数据计算。"))
    else:
        notes.append(("不公开的数", "内部版：全部为精确数，未做小单元格保护。"))
    notes += [(k, v) for k, v in report.cfg["sources"].items()]
    return notes


def render_page(report: Report, per: Period, sections: list[dict]) -> str:
    from plotly.offline import get_plotlyjs

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True)
    return env.get_template("summary.html.j2").render(
        city_name=report.policy.city.name, period=str(per), period_end=per.end_date, audience=report.audience.label,
        banners=report.banners(), sources=report.cfg["sources"], sections=sections, plotly_js=get_plotlyjs(),
        lines_note=lines_note(report, per.year))


def render_quality_page(report: Report, per: Period) -> str:
    """The one-page Chinese data-quality summary beside Data Docs: the gate and its blocking
    failures, findings and quarantine by reason, quarantine by county."""
    tables = []
    for name in ("validation", "quality_reasons", "quarantine_by_county", "ingest_quality"):
        spec, df = report.cfg["tables"][name], report.data(name)
        body = (f'<p class="missing">未运行：{html.escape(report.missing[name])}</p>' if df is None
                else html_table(df, report.codes(name), spec, report))
        tables.append({"title": spec["title"], "html": body})
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True)
    status, gate = report.validation_banner()
    return env.get_template("quality.html.j2").render(
        city_name=report.policy.city.name, period=str(per), audience=report.audience.label, gate=gate,
        gate_status=status, tables=tables, definition=report.definitions.get("quality", ""))


def run(processed_dir: Path, period: str, out_dir: Path, config_dir: Path = CONFIG_DIR, force: bool = False,
        audience: str = "internal", policy: Policy | None = None, on_read=None) -> dict:
    """`povmon report --period 2020Q2 [--audience public]`: the quarter's report into out_dir.
    `on_read()`, when given, is called once the warehouse has been read (everything after it
    works on what was read: the pinned snapshot may then go; pipelines/quarters.py)."""
    started = time.perf_counter()
    per = Period.parse(period)
    period = str(per)
    policy = policy or load_policy(config_dir)
    if audience not in policy.report.audiences:
        raise ReportError(f"report {period}: audience {audience!r} is not one of {', '.join(policy.report.audiences)} "
                          "(config/report.toml [audiences])")
    # pinned: one state of the warehouse throughout, whatever a stage commits meanwhile
    processed_dir, out_dir = warehouse.snapshot(check_processed(processed_dir, period)), Path(out_dir)
    png = pngs_wanted(policy)
    stamp = fingerprint(processed_dir, period, config_dir, audience, png)
    books = workbook_files(policy, period)
    if not force and up_to_date(out_dir, stamp, books):
        return {"period": period, "audience": audience, "out_dir": str(out_dir), "up_to_date": True,
                "seconds": round(time.perf_counter() - started, 2)}
    wh = open_warehouse(processed_dir, upto=period)
    try:
        queries.bind_standins(wh, check_inputs(wh, processed_dir, period, policy))
        queries.bind_params(wh, period, config_dir, policy)
        report = Report(wh, period, policy=policy, audience=audience)
        sections = render_sections(report)
        quality = render_quality_page(report, per)
    finally:
        wh.close()
    if on_read is not None:
        on_read()

    from pipelines.report.workbook import write_workbook

    with staged(out_dir, OWNED + books) as build, ThreadPoolExecutor(1, thread_name_prefix="report-png") as side:
        # in a browser_session the PNGs render in its Chromium (another process) while this thread
        # writes the pages and workbooks; without one, kaleido starts a browser per call, which must
        # not be done from a side thread (it waits for ever), so they are made after the workbooks
        png_job = (side.submit(export_pngs, report.figures, build / "figures")
                   if policy.report.figures.png and shared_browser_running() else None)
        (build / "summary.html").write_text(render_page(report, per, sections), encoding="utf-8")
        (build / QUALITY_PAGE).write_text(quality, encoding="utf-8")
        write_workbook(build / "summary.xlsx", report.sheets, workbook_notes(report, per),
                       {SMALL: report.small, HIDDEN: report.hidden})
        for book, name in zip(policy.report.workbooks.values(), books):  # 交总账: one sheet per 账
            write_workbook(build / name, report.workbook_sheets(book.tables), workbook_notes(report, per),
                           {SMALL: report.small, HIDDEN: report.hidden}, title=book.title)
        if png_job is not None:
            pngs, png_note = png_job.result()
        elif policy.report.figures.png:
            pngs, png_note = export_pngs(report.figures, build / "figures")
        else:
            pngs, png_note = [], "PNG 导出已关闭(config/report.toml [figures] png = false)"
        (build / STAMP).write_text(json.dumps({"fingerprint": stamp, "audience": audience, "figures": pngs,
                                               "png_wanted": png, "png_done": bool(pngs) or not report.figures},
                                              ensure_ascii=False, indent=1), encoding="utf-8")
    return {"period": period, "audience": audience, "out_dir": str(out_dir), "up_to_date": False,
            "outputs": [str(out_dir / o) for o in OUTPUTS + books] + [str(out_dir / p) for p in pngs],
            "figures": len(report.figures), "png_note": png_note, "missing": report.missing,
            "validation": report.validation_banner()[0],
            "seconds": round(time.perf_counter() - started, 2)}


if __name__ == "__main__":  # python -m pipelines.report.pipeline <processed_dir> <period> <out_dir> [audience]
    import sys

    print(json.dumps(run(Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3]),
                         audience=sys.argv[4] if len(sys.argv) > 4 else "internal"),
                     ensure_ascii=False, indent=2, default=str))
