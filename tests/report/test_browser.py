"""summary.html opened in the system's headless Chromium (DevTools protocol over a pipe,
pipelines/report/browser.py): no console error, no request beyond the file itself, Chinese drawn
with a CJK font, every chart drawn, each headline number equal to the table it comes from as the
reader sees both on the page, and the print stylesheet laying it out on A4 landscape."""

from __future__ import annotations

import re

import pytest

from pipelines.policy import load_policy
from pipelines.report.browser import BrowserError, Page

CJK_FONTS = ("WenQuanYi", "Noto Sans CJK", "Noto Serif CJK", "Droid Sans Fallback", "Source Han")

READ_PAGE = r"""(() => {
  const text = el => el ? el.textContent.trim() : null;
  const table = id => [...document.querySelectorAll('#t-' + id + ' tbody tr')].map(tr => ({
      total: tr.classList.contains('total'), cells: [...tr.children].map(td => td.textContent.trim())}));
  const heads = id => [...document.querySelectorAll('#t-' + id + ' thead th')].map(th => th.textContent.trim());
  const answers = [...document.querySelectorAll('.answer')].map(a => ({
      q: text(a.querySelector('.q')), a: text(a.querySelector('.a')), v: text(a.querySelector('.v')),
      status: [...a.classList].find(c => c.startsWith('st-'))}));
  const names = ['poor_by_county', 'below_guideline_by_county', 'assistance_by_county', 'transition_flows',
                 'problem_status', 'incidence_trend'];
  return {answers, tables: Object.fromEntries(names.map(n => [n, {heads: heads(n), rows: table(n)}])),
          charts: document.querySelectorAll('.js-plotly-plot').length,
          drawn: [...document.querySelectorAll('.js-plotly-plot')].filter(d => d.querySelector('.main-svg')).length};
})()"""


@pytest.fixture(scope="module")
def internal_page(report_out, chromium):
    out, summary = report_out
    try:
        with Page.open(out / "summary.html") as page:
            yield page, page.evaluate(READ_PAGE), out
    except BrowserError as exc:  # pragma: no cover - a broken browser is an environment problem
        pytest.fail(f"Chromium could not open the page: {exc}")


def _row(table: dict, column: str, **match) -> str:
    heads = table["heads"]
    for row in table["rows"]:
        cells = dict(zip(heads, row["cells"]))
        if all((row["total"] if k == "total" else cells.get(k) == v) for k, v in match.items()):
            return cells[column]
    raise KeyError(match)


def test_the_page_loads_nothing_from_the_network_and_logs_no_error(internal_page):
    page, _data, out = internal_page
    assert page.requests == [(out / "summary.html").resolve().as_uri()]
    assert page.console_errors == []


def test_chinese_is_drawn_with_a_cjk_font(internal_page):
    page, _data, _out = internal_page
    for selector in ("h1", ".answer .q", "#t-poor_by_county td"):
        fonts = page.fonts(selector)
        assert any(name.startswith(CJK_FONTS) and n > 0 for name, n in fonts.items()), (selector, fonts)


def test_every_chart_is_drawn(internal_page, report_out):
    _page, data, _out = internal_page
    assert data["charts"] == report_out[1]["figures"] == data["drawn"]


def test_headline_numbers_equal_the_tables_on_the_page(internal_page):
    _page, data, _out = internal_page
    cards = {a["q"]: a for a in data["answers"]}
    t = data["tables"]
    poor = cards["未脱贫户是否清零"]["v"]
    assert poor == (f"{_row(t['poor_by_county'], '未脱贫户数(户)', total=True)}户、"
                    f"{_row(t['poor_by_county'], '未脱贫人数(人)', total=True)}人")
    incidence = cards["贫困发生率是否低于万分之一"]["v"]
    assert incidence == _row(t["poor_by_county"], "贫困发生率", total=True)
    below = cards["是否已无人均纯收入低于省定指导线的户"]["v"].removeprefix("⚠ ")
    assert below == (f"{_row(t['below_guideline_by_county'], '户数(户)', total=True)}户、"
                     f"{_row(t['below_guideline_by_county'], '人数(人)', total=True)}人")
    coverage = cards["帮扶责任人是否全部落实"]["v"]
    table_rate = float(_row(t["assistance_by_county"], "覆盖率", total=True).rstrip("%"))
    assert coverage == f"落实率 {table_rate:.1f}%"
    for question, flow in (("本季度有无返贫", "返贫"), ("本季度有无新致贫", "新致贫")):
        assert cards[question]["v"] == (f"{_row(t['transition_flows'], '户数(户)', **{'变动': flow})}户、"
                                        f"{_row(t['transition_flows'], '人数(人)', **{'变动': flow})}人")
    # open problems per dimension: the ledger's rows that are not 已整改
    heads = t["problem_status"]["heads"]
    open_by_type: dict[str, int] = {}
    for row in t["problem_status"]["rows"]:
        cells = dict(zip(heads, row["cells"]))
        if cells["状态"] != load_policy().validate.ledger.status_cleared:
            open_by_type[cells["问题类型"]] = open_by_type.get(cells["问题类型"], 0) + int(cells["户数(户)"].replace(",", ""))
    for label, dim in (("不愁吃", "不愁吃"), ("义务教育", "义务教育有保障"), ("饮水安全", "饮水安全有保障")):
        households = int(re.match(r"([\d,]+)户", cards[f"{label}问题是否清零"]["v"]).group(1).replace(",", ""))
        assert households == open_by_type.get(dim, 0), label


def test_it_prints_on_a4_landscape(internal_page):
    page, _data, _out = internal_page
    pdf = page.pdf()
    boxes = set(re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf))
    assert boxes and all(abs(float(w) - 841.9) < 1 and abs(float(h) - 595.3) < 1 for w, h in boxes)
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) > 1


def test_page_one_screenshot(internal_page, tmp_path):
    page, _data, _out = internal_page
    shot = page.screenshot(tmp_path / "page1.png")
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 60_000  # a blank or box-only page compresses to a few KB


def test_the_public_page_is_offline_and_clean_too(public_out, chromium):
    out, _summary = public_out
    with Page.open(out / "summary.html") as page:
        assert page.requests == [(out / "summary.html").resolve().as_uri()]
        assert page.console_errors == []
        assert page.evaluate("document.querySelector('h1 .aud').textContent") == "公开版"
    with Page.open(out / "数据质量摘要.html") as page:
        assert page.console_errors == [] and len(page.requests) == 1
