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
from datetime import date
from pathlib import Path

import jinja2
import pandas as pd

from pipelines import warehouse
from pipelines.config import CONFIG_DIR
from pipelines.policy import load_policy
from pipelines.measures.nodes import format_incidence
from pipelines.periods import Period
from pipelines.report import charts, queries
from pipelines.report.publish import publish, suppression_mask
from pipelines.report.warehouse import open_warehouse, table_files
from pipelines.warehouse import atomic_path

HERE = Path(__file__).parent
STAMP = ".report-inputs.json"
OUTPUTS = ("summary.html", "summary.xlsx")
CONFIG_FILES = ("policy.toml", "report.toml", "measures.toml", "lines.toml", "risk.toml", "code_labels.toml",
                "validate.toml",
                "regions/counties.csv", "regions/townships.csv")


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


# ---- sections ----------------------------------------------------------------------------------------

class Report:
    """Collects the published tables, figures and KPIs of one period."""

    def __init__(self, wh, period: str, config_dir: Path):
        self.wh, self.period = wh, period
        self.policy = load_policy(config_dir)
        self.cfg = self.policy.raw("report")
        sc = self.cfg["small_cells"]
        self.threshold, self.small = int(sc["threshold"]), sc["label"].format(threshold=sc["threshold"])
        self.secondary = bool(sc.get("secondary", True))
        self.sheets: list[dict] = []
        self.figures: dict[str, object] = {}
        self.missing: dict[str, str] = {}
        self.frames: dict[str, pd.DataFrame] = {}

    def data(self, name: str) -> pd.DataFrame | None:
        """Raw query result (for KPIs and charts), None when its stage has not run."""
        if name in self.frames:
            return self.frames[name]
        try:
            df = queries.query(self.wh, name)
        except queries.Missing as exc:
            self.missing[name] = str(exc)
            return None
        self.frames[name] = df
        return df

    def masked(self, name: str) -> pd.DataFrame | None:
        """Query result with the counts its published table suppresses set to NaN (the same mask:
        every chart takes its values from here, so no chart shows what its table hides)."""
        df = self.data(name)
        if df is None:
            return None
        spec = self.cfg["tables"][name]
        mask = suppression_mask(df, spec.get("counts", []), self.threshold, spec.get("group"), self.secondary)
        out = df.copy()
        for col in mask.columns:
            out[col] = out[col].astype(float).where(~mask[col])
        return out

    def table(self, name: str, source: str) -> dict:
        spec = self.cfg["tables"][name]
        df = self.data(name)
        if df is None:
            sheet = {"sheet": spec["sheet"], "title": spec["title"], "missing": self.missing[name]}
            self.sheets.append({"spec": spec, "frame": pd.DataFrame(columns=list(spec["columns"].values())),
                                "source": source, "empty_note": "未运行：" + self.missing[name]})
            return sheet
        frame = publish(df, spec, self.threshold, self.small, self.secondary)
        totals = "is_total" in df.columns
        self.sheets.append({"spec": spec, "frame": frame, "source": source, "totals": totals})
        return {"title": spec["title"], "source": source, "html": _html_table(frame, spec, df)}

    def figure(self, key: str, fig) -> str:
        self.figures[key] = fig
        return fig.to_html(full_html=False, include_plotlyjs=False, div_id=f"fig-{key}",
                           config={"displaylogo": False, "responsive": True})


def _html_table(frame: pd.DataFrame, spec: dict, raw: pd.DataFrame) -> str:
    shares, money, months = set(spec.get("shares", [])), set(spec.get("money", [])), set(spec.get("months", []))
    keys = [k for k in spec["columns"] if spec["columns"][k] in frame.columns]
    rows = ["<table><thead><tr>" + "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns) + "</tr></thead><tbody>"]
    totals = raw["is_total"].tolist() if "is_total" in raw.columns else [0] * len(frame)
    for total, row in zip(totals, frame.itertuples(index=False)):
        cells = []
        for key, v in zip(keys, row):
            if v is None or (isinstance(v, float) and v != v):
                text, num = "—", True
            elif isinstance(v, str):
                text, num = v, v.startswith("<")
            elif key in shares:
                text, num = (format_incidence(v) if key == "incidence" else f"{v * 100:.2f}%"), True
            elif key in money:
                text, num = f"{v:,.0f}", True
            elif key in months:
                text, num = f"{v:.1f}", True
            elif isinstance(v, (int, float)) and not isinstance(v, bool):
                text, num = f"{v:,.0f}" if float(v).is_integer() else f"{v:,.2f}", True
            else:
                text, num = str(v), False
            cells.append(f'<td class="n">{html.escape(text)}</td>' if num else f"<td>{html.escape(text)}</td>")
        rows.append(('<tr class="total">' if total == 1 else "<tr>") + "".join(cells) + "</tr>")
    return "\n".join(rows) + "</tbody></table>"


def _kpi(value: str, label: str, definition: str) -> dict:
    return {"value": value, "label": label, "definition": definition}


def _n(v) -> str:
    return "—" if v is None or v != v else f"{int(round(v)):,}"


def _count(r: Report, v) -> str:
    """A published count: suppressed when small."""
    if v is None or v != v:
        return "—"
    return r.small if 0 < v < r.threshold else f"{int(round(v)):,}"


def build_sections(r: Report) -> list[dict]:
    src = r.cfg["sources"]
    lines = {role: r.policy.lines.label(name) for role, name in r.policy.lines.roles.items()}
    sections = []

    # 1. incidence and trend
    s = {"key": "incidence", "title": "贫困发生率及趋势", "kpis": [], "definitions": [], "figures": [], "tables": [], "links": []}
    trend = r.data("incidence_trend")
    if trend is not None and len(trend):
        cur = trend[trend["period"] == r.period]
        admin = cur[cur["data_source"] == "registry"]
        if len(admin):
            a = admin.iloc[0]
            s["kpis"].append(_kpi(format_incidence(a["estimate"], r.policy.measures.incidence.below_one_in_ten_thousand),
                                  "贫困发生率(登记口径)", f"未脱贫及返贫人口 {_count(r, a['n_unweighted'])}人 ÷ 农村户籍人口 {_n(a['n_weighted'])}人；来源：{src['registry']}"))
        for _, row in cur[cur["data_source"] == "survey"].iterrows():
            s["kpis"].append(_kpi(f"{row['estimate'] * 100:.1f}%", f"贫困发生率(抽样调查，{row['line_label']})",
                                  f"95%置信区间 {row['ci_low'] * 100:.1f}%–{row['ci_high'] * 100:.1f}%；样本{_n(row['n_unweighted'])}户；来源：{src['survey']}"))
        s["figures"].append(r.figure("incidence_trend", charts.incidence_trend(trend)))
    s["definitions"].append("登记口径(行政)贫困发生率 = 脱贫状态为未脱贫或返贫的建档立卡人口 ÷ 农村户籍人口；已脱贫(享受或不再享受政策)不计入分子。"
                            "抽样调查口径 = 加权后人均纯收入低于标准的人口占比，按县分层、村为初级抽样单位，线性化标准误。“不到万分之一”指低于0.01%。")
    s["tables"].append(r.table("incidence_trend", f"{src['registry']}；{src['survey']}"))
    sections.append(s)

    # 2. remaining poor by county
    s = {"key": "poor", "title": "剩余未脱贫户、人(按县)", "kpis": [], "definitions": [], "figures": [], "tables": [], "links": []}
    poor = r.data("poor_by_county")
    if poor is not None and len(poor):
        tot = poor[poor["is_total"] == 1]
        if len(tot):
            t = tot.iloc[0]
            s["kpis"].append(_kpi(f"{_count(r, t['poor_households'])}户、{_count(r, t['poor_persons'])}人", "剩余未脱贫(含返贫)",
                                  f"脱贫状态为未脱贫或返贫；{r.period}季度末登记数据"))
        s["figures"].append(r.figure("poor_by_county", charts.county_bars(
            r.masked("poor_by_county"), {"poor_households": "未脱贫户数(户)", "poor_persons": "未脱贫人数(人)"},
            "剩余未脱贫户数和人数(按县，登记口径)", "户 / 人")))
    s["tables"].append(r.table("poor_by_county", f"{src['registry']}；分母：{src['population']}"))
    sections.append(s)

    # 3. below the provincial guideline
    s = {"key": "guideline", "title": f"低于{lines['guideline']}的户", "kpis": [], "definitions": [], "figures": [], "tables": [], "links": []}
    below = r.data("below_guideline_by_county")
    if below is not None and len(below):
        t = below[below["is_total"] == 1].iloc[0]
        s["kpis"].append(_kpi(f"{_count(r, t['households'])}户、{_count(r, t['persons'])}人", f"人均纯收入低于{lines['guideline']}",
                              f"指导线 {_n(t['line_value'])} 元/人/年(config/lines.toml，如为占位值须以官方数字替换)；其中已脱贫 {_count(r, t['exited_households'])}户"))
        s["figures"].append(r.figure("below_guideline", charts.county_bars(
            r.masked("below_guideline_by_county"), {"households": "户数(户)", "persons": "人数(人)"},
            f"低于{lines['guideline']}的户数和人数(按县)", "户 / 人")))
    s["definitions"].append("人均纯收入严格低于当年省定脱贫标准指导线；人均纯收入按配置的家庭人口数计算(防返贫监测规则 config/risk.toml [income])。")
    s["tables"].append(r.table("below_guideline_by_county", f"{src['registry']}；{src['risk']}"))
    sections.append(s)

    # 4. 两不愁三保障 and water, progress toward 清零
    s = {"key": "gaps", "title": "两不愁三保障及饮水安全：问题与清零进度", "kpis": [], "definitions": [], "figures": [], "tables": [], "links": []}
    gaps, progress = r.data("gaps_by_county"), r.data("gap_progress")
    deadline = None
    if progress is not None and len(progress):
        nd = progress["next_deadline"].dropna()
        deadline = str(pd.Timestamp(nd.iloc[0]).date()) if len(nd) else None
    if gaps is not None and len(gaps):
        tot = gaps[gaps["is_total"] == 1]
        for _, row in tot.iterrows():
            s["kpis"].append(_kpi(f"{_count(r, row['households'])}户", f"{row['dimension_label']}未保障",
                                  f"涉及 {_count(r, row['persons'])}人"))
        s["figures"].append(r.figure("gaps_by_county", charts.stacked_by_county(
            r.masked("gaps_by_county"), "dimension_label", "households", "两不愁三保障及饮水未保障户(按县、维度)", "户")))
    if progress is not None and len(progress):
        if deadline:
            days = (date.fromisoformat(deadline) - Period.parse(r.period).end_date).days
            open_now = int(progress[progress["period"] == r.period]["households"].sum())
            s["kpis"].append(_kpi(deadline, "下一清零时限", f"季度末距时限 {days} 天；当前未保障合计 {_count(r, open_now)}户次"))
        s["figures"].append(r.figure("gap_progress", charts.gap_progress(r.masked("gap_progress"), deadline)))
    s["definitions"].append("判定标准见 pipelines/criteria(共用模型)：义务教育阶段适龄儿童失学辍学(送教上门除外)；基本医疗保险与大病保险未参保；"
                            "C/D级危房且未鉴定、改造或保障安全；饮水四项指标任一不达标。无法判定者不计入。一户可在多个维度未保障。")
    s["tables"].append(r.table("gaps_by_county", f"{src['registry']}；判定规则 config/thresholds.toml"))
    s["tables"].append(r.table("gap_progress", f"{src['registry']}；时限 config/policy.toml [calendar]"))
    sections.append(s)

    # 5. risk, monitoring and transitions
    s = {"key": "risk", "title": "返贫致贫风险、监测对象与季度变动", "kpis": [], "definitions": [], "figures": [], "tables": [], "links": []}
    flows = r.data("transition_flows")
    if flows is not None:
        by = {f: (h, p) for f, h, p in flows[["flow", "households", "persons"]].itertuples(index=False)}
        prev = flows["previous_period"].dropna()
        prev = prev.iloc[0] if len(prev) else "上季度"
        for code, label in (("returned_to_poverty", "返贫"), ("newly_poor", "新致贫"), ("risk_eliminated", "风险消除")):
            h, p = by.get(code, (0, 0))
            s["kpis"].append(_kpi(f"{_count(r, h)}户、{_count(r, p)}人", label, f"{prev} → {r.period}，按户编号匹配"))
    risk = r.data("risk_by_county")
    if risk is not None and len(risk):
        s["figures"].append(r.figure("risk_by_county", charts.stacked_by_county(
            r.masked("risk_by_county"), "risk_level_label", "households", "风险等级(按县，户)", "户")))
    sankey = r.data("transition_sankey")
    if sankey is not None and len(sankey):
        s["figures"].append(r.figure("transition_sankey", charts.transition_sankey(r.masked("transition_sankey"))))
    s["definitions"].append("风险等级、监测类别建议、重点人群(五类人)与风险消除核查由 config/risk.toml 规则计算；返贫 = 上季度已脱贫、本季度未脱贫或返贫；"
                            "新致贫 = 新增在册即为贫困或非建档立卡户转为贫困；风险消除 = 上季度有监测类别、本季度无且仍在册未致贫。")
    for name in ("risk_by_county", "monitoring_groups", "transition_flows", "transition_sankey"):
        s["tables"].append(r.table(name, f"{src['registry']}；{src['risk']}"))
    sections.append(s)

    # 6. assistance coverage
    s = {"key": "assistance", "title": "帮扶责任人覆盖缺口", "kpis": [], "definitions": [], "figures": [], "tables": [], "links": []}
    assist = r.data("assistance_by_county")
    if assist is not None and len(assist):
        t = assist[assist["is_total"] == 1].iloc[0]
        cov = "—" if t["coverage"] != t["coverage"] or t["coverage"] is None else f"{t['coverage'] * 100:.1f}%"
        s["kpis"].append(_kpi(cov, "帮扶责任人落实率", f"已落实 {_count(r, t['covered'])}户 ÷ 需帮扶 {_count(r, t['needing'])}户"))
        s["kpis"].append(_kpi(f"{_count(r, t['not_covered'])}户", "帮扶未落实", f"其中无责任人 {_count(r, t['no_pairing'])}户、级别不符 {_count(r, t['wrong_level'])}户"))
        s["figures"].append(r.figure("assistance", charts.county_bars(
            r.masked("assistance_by_county"), {"covered": "已落实(户)", "not_covered": "未落实(户)"},
            "帮扶责任人落实情况(按县)", "户")))
    s["definitions"].append("未脱贫户须由县级领导帮扶；低于省定指导线户须由科级或乡镇干部帮扶；监测户须有帮扶责任人(config/risk.toml [assistance])。"
                            "结对以季度末有效为准，来源：帮扶责任人结对表。")
    s["tables"].append(r.table("assistance_by_county", "帮扶责任人结对(电子台账)；" + src["risk"]))
    sections.append(s)

    # 7. income, employment, policy accounts
    s = {"key": "accounts", "title": "收入账、就业账、政策账", "kpis": [], "definitions": [], "figures": [], "tables": [], "links": []}
    emp = r.data("employment_by_county")
    if emp is not None and len(emp):
        s["figures"].append(r.figure("employment", charts.stacked_by_county(
            r.masked("employment_by_county"), "destination_label", "persons", "外出务工人数(按县、去向)", "人")))
    s["definitions"].append("收入为登记的家庭年收入(元)，人均纯收入按人口加权平均；务工按成员务工状况与务工时间(月)；参保和低保特困按成员记录。")
    for name in ("income_by_county", "employment_by_county", "policy_by_county"):
        s["tables"].append(r.table(name, src["registry"]))
    sections.append(s)

    # 8. data quality
    s = {"key": "quality", "title": "数据质量", "kpis": [], "definitions": [], "figures": [], "tables": [], "links": []}
    iq = r.data("ingest_quality")
    if iq is not None and len(iq):
        s["kpis"].append(_kpi(_n(iq["rows_loaded"].sum()), "入库行数", f"读取 {_n(iq['rows_read'].sum())} 行，隔离 {_n(iq['rows_quarantined'].sum())} 行，文件 {_n(iq['files'].sum())} 个"))
    reasons = r.data("quality_reasons")
    if reasons is not None and len(reasons):
        d = reasons.assign(label=reasons["disposition"] + "·" + reasons["reason"])
        s["figures"].append(r.figure("quality", charts.horizontal_bars(d, "label", "row_count", "隔离行与问题标记(按原因)", "行数")))
    for name, source in (("ingest_quality", "导入清单 ingest_manifest"), ("quality_reasons", "quarantine、findings"),
                         ("problem_status", "核查问题清单 problems(校验阶段)")):
        s["tables"].append(r.table(name, source))
    s["links"].append({"href": "data_docs/index.html", "text": "数据校验报告 Data Docs(校验阶段生成；未运行时链接无效)"})
    sections.append(s)
    for sec in sections:
        missing = [t["missing"] for t in sec["tables"] if t.get("missing")]
        if missing and len(missing) == len(sec["tables"]):
            sec["missing"] = "；".join(missing)
    return sections


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
        sections = build_sections(report)
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
