"""Page one and what issue #13 asks of the page, read back from the rendered HTML and xlsx:
every headline number equals the measures / risk / problems / transitions row it comes from
(computed here straight from the Parquet), registry figures carry no interval, Chinese labels,
dates as dates, whole numbers whole, ⚠ on placeholder lines, the data-quality gate on page one,
and the public audience's workbook keeps numbers numeric."""

from __future__ import annotations

import re
import shutil
from html.parser import HTMLParser

import duckdb
import openpyxl
import pytest

from pipelines.policy import load_policy
from pipelines.report.pipeline import run

from tests.report_runs import without_pngs

from .conftest import PERIOD

PREVIOUS = "2020Q1"


def _scan(processed, table, period=PERIOD) -> str:
    from pipelines import warehouse

    return warehouse.scan(processed, table, period)


def source_numbers(processed, period=PERIOD) -> dict[str, dict]:
    """Each headline item straight from the table it comes from (no report code involved)."""
    policy = load_policy()
    poor = tuple(policy.groups["poor"])
    cleared = policy.validate.ledger.status_cleared
    con = duckdb.connect()
    one = lambda sql: con.execute(sql).fetchone()  # noqa: E731
    out = {}
    hh = one(f"select count(*) from {_scan(processed, 'risk', period)} where poverty_status in {poor}")[0]
    persons, rate = one(f"select max(case when measure = 'poor_persons_administrative' then estimate end), "
                        f"max(case when measure = 'incidence_administrative' then estimate end) "
                        f"from {_scan(processed, 'measures', period)} where region_level = 'city'")
    out["poor_remaining"] = {"households": hh, "persons": persons}
    out["incidence"] = {"rate": rate}
    out["below_guideline"] = dict(zip(("households", "persons"), one(
        f"select count(*), sum(persons) from {_scan(processed, 'risk', period)} where below_guideline")))
    for dim in policy.report.labels["dimension"]:
        n, p = one(f"select count(*), coalesce(sum(r.persons), 0) from {_scan(processed, 'problems', period)} as pr "
                   f"left join {_scan(processed, 'risk', period)} as r using (household_key) "
                   f"where pr.criterion = '{dim}' and pr.status <> '{cleared}'")
        out[f"gap_{dim}"] = {"households": n, "persons": p}
    for item, flow in (("returned", "returned_to_poverty"), ("newly_poor", "newly_poor")):
        out[item] = dict(zip(("households", "persons"), one(
            f"select count(*), coalesce(sum(coalesce(persons_to, persons_from)), 0) "
            f"from {_scan(processed, 'transitions', period)} where status_flow = '{flow}'")))
    needing, covered = one(f"select sum(households_needing_assistance), sum(households_covered) "
                           f"from {_scan(processed, 'assistance_coverage', period)}")
    out["assistance"] = {"households": needing - covered, "rate": covered / needing}
    return out


class Cards(HTMLParser):
    """The answer cards of page one: [{item, status, q, a, v, d}] in page order."""

    def __init__(self):
        super().__init__()
        self.cards, self._depth, self._part = [], 0, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        cls = (a.get("class") or "").split()
        if tag == "div" and "answer" in cls:
            self.cards.append({"status": next(c[3:] for c in cls if c.startswith("st-"))})
            self._depth = 1
        elif tag == "div" and self._depth:
            self._depth += 1
            self._part = cls[0] if cls else None
            self.cards[-1][self._part] = ""

    def handle_endtag(self, tag):
        if tag == "div" and self._depth:
            self._depth -= 1
            self._part = None

    def handle_data(self, data):
        if self._depth and self._part:
            self.cards[-1][self._part] += data


def _cards(page: str) -> dict[str, dict]:
    parser = Cards()
    parser.feed(page)
    labels = load_policy().report.labels["headline"]
    by_question = {c["q"]: c for c in parser.cards}
    return {item: by_question[q] for item, q in labels.items()}


def _sheet(path, name) -> list[dict]:
    ws = openpyxl.load_workbook(path)[name]
    header_row = int(ws.print_title_rows.split(":")[0].lstrip("$"))
    header = [c.value for c in ws[header_row]]
    return [dict(zip(header, r)) for r in ws.iter_rows(min_row=header_row + 1, values_only=True)]


def test_every_headline_number_equals_its_source_row(report_out, report_warehouse):
    out, _ = report_out
    truth, before = source_numbers(report_warehouse), source_numbers(report_warehouse, PREVIOUS)
    cards = _cards((out / "summary.html").read_text(encoding="utf-8"))
    rows = {r["问题"]: r for r in _sheet(out / "summary.xlsx", "本季度要点")}
    labels = load_policy().report.labels["headline"]
    checked = 0
    for item, want in truth.items():
        card, row = cards[item], rows[labels[item]]
        if "households" in want and "persons" in want:
            assert card["v"].removeprefix("⚠ ").startswith(f"{want['households']:,}户、{int(want['persons']):,}人"), \
                (item, card)
            assert row["户数(户)"] == want["households"] and row["人数(人)"] == want["persons"], item
            assert row["上季度户数(户)"] == before[item]["households"], item
            assert row["较上季度(户)"] == want["households"] - before[item]["households"], item
            checked += 1
        if "rate" in want:
            assert row["比率"] == pytest.approx(want["rate"], abs=1e-12), item
            checked += 1
    assert checked >= 12
    # the answers follow from the numbers
    assert cards["poor_remaining"]["a"] == ("已清零" if truth["poor_remaining"]["households"] == 0 else "未清零")
    assert cards["incidence"]["a"] == ("是" if truth["incidence"]["rate"] < 0.0001 else "否")
    assert cards["assistance"]["v"] == f"落实率 {truth['assistance']['rate'] * 100:.1f}%"
    for item in (i for i in truth if i.startswith("gap_")):
        assert cards[item]["status"] == ("ok" if truth[item]["households"] == 0 else cards[item]["status"])
        assert cards[item]["status"] in ("ok", "open", "late")


def test_an_overdue_dimension_is_red(report_warehouse, tmp_path):
    """A problem still open after its 清零 deadline: the dimension's card is late (red)."""
    processed = tmp_path / "processed"
    shutil.copytree(report_warehouse, processed, symlinks=True)  # its `current` pointer too
    from pipelines import warehouse

    part = warehouse.stable_path(processed, "problems", PERIOD)
    with duckdb.connect() as con:  # one open water problem was due 2020-04-30, before the quarter's end
        con.execute(f"copy (select * replace (case when criterion = 'water' then date '2020-04-30' else deadline end "
                    f"as deadline, case when criterion = 'water' then '持续' else status end as status) "
                    f"from read_parquet('{part}')) to '{part}.new' (format parquet)")
    shutil.move(f"{part}.new", part)
    out = tmp_path / "out"
    run(processed, PERIOD, out, policy=without_pngs())
    card = _cards((out / "summary.html").read_text(encoding="utf-8"))["gap_water"]
    assert card["status"] == "late" and card["a"] == "未清零" and "已逾期 0户" not in card["d"]


def test_registry_rows_carry_no_interval(report_out):
    out, _ = report_out
    trend = _sheet(out / "summary.xlsx", "贫困发生率趋势")
    registry = [r for r in trend if r["口径"] == "登记口径"]
    survey = [r for r in trend if r["口径"] == "抽样调查口径"]
    assert registry and all(r["95%置信区间下限"] is None and r["95%置信区间上限"] is None for r in registry)
    assert survey and all(isinstance(r["95%置信区间上限"], float) for r in survey)
    page = (out / "summary.html").read_text(encoding="utf-8")
    assert "0.00%–100.00%" not in page


def test_chinese_labels_dates_and_whole_numbers(report_out):
    out, _ = report_out
    page = (out / "summary.html").read_text(encoding="utf-8")
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", page)
    assert cells and not [c for c in cells if re.fullmatch(r"[a-z][a-z_]+", c)]  # no code in a cell
    assert "00:00:00" not in re.sub(r"<script.*?</script>", "", page, flags=re.S)
    progress = _sheet(out / "summary.xlsx", "清零进度")
    deadlines = {r["季度"]: r["该季度清零时限"] for r in progress}
    assert str(deadlines["2020Q1"].date()) == "2020-04-30" and str(deadlines[PERIOD].date()) == "2020-06-30"
    trend = re.search(r'<table class="t-贫困发生率趋势">(.*?)</table>', page, re.S).group(1)
    rows = [re.findall(r"<td[^>]*>([^<]*)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", trend)]
    population = [cells[-1] for cells in rows if cells]
    assert population and all(re.fullmatch(r"[\d,]+|—", p) for p in population)  # 代表人口 whole
    wb = openpyxl.load_workbook(out / "summary.xlsx")
    ws = wb["政策账"]
    for row in ws.iter_rows():
        for cell in row:
            if isinstance(cell.value, float) and cell.number_format.endswith("%\"") is False and "0.00%" in cell.number_format:
                assert not (cell.value < 1 and round(cell.value * 100, 2) >= 100)  # 100.00% only when all are covered


def test_every_configured_group_has_a_row_even_at_zero(report_out):
    out, _ = report_out
    policy = load_policy()
    rows = _sheet(out / "summary.xlsx", "监测对象")
    watch = {r["类别"]: r["户数(户)"] for r in rows if r["分类"] == policy.report.labels["monitoring_grouping"]["watch"]}
    assert set(watch) == {g.label for g in policy.risk.watch_groups}
    categories = {r["类别"] for r in rows if r["分类"] == policy.report.labels["monitoring_grouping"]["recorded"]}
    assert set(policy.labels.of("monitoring_category").values()) <= categories


def _lines_marked(policy, placeholder: tuple[str, int] | None):
    """Every line value official, except (line, year) marked placeholder: injected, so entering
    the official figures in config/lines.toml changes no test."""
    lines = {}
    for name, spec in policy.line_specs.items():
        if spec.values:
            lines[name] = {"values": [{**v.model_dump(), "status": "placeholder" if (name, v.year) == placeholder
                                       else "official"} for v in spec.values]}
    return without_pngs({"lines": lines})


def test_placeholder_lines_carry_a_warning_and_confirmed_ones_do_not(report_warehouse, tmp_path):
    live = load_policy()
    guideline = live.lines.name_of("guideline")
    value = live.lines.value(guideline, int(PERIOD[:4])).value
    marked = tmp_path / "placeholder"
    run(report_warehouse, PERIOD, marked, policy=_lines_marked(live, (guideline, int(PERIOD[:4]))))
    page = (marked / "summary.html").read_text(encoding="utf-8")
    label = live.line_specs[guideline].label
    assert f"⚠ {label} {PERIOD[:4]}年 {value:,.0f} 元/人/年 为占位值" in page
    notes = {r[0]: r[1] for r in openpyxl.load_workbook(marked / "summary.xlsx")["说明"].iter_rows(values_only=True)}
    assert "占位值" in notes["⚠ 占位值"]
    again = tmp_path / "official"
    run(report_warehouse, PERIOD, again, policy=_lines_marked(live, None))
    page = (again / "summary.html").read_text(encoding="utf-8")
    assert "⚠" not in page
    assert "⚠ 占位值" not in {r[0] for r in openpyxl.load_workbook(again / "summary.xlsx")["说明"].iter_rows(values_only=True)}


def _with_validation_status(report_warehouse, tmp_path, gate_passed: bool, overridden: bool):
    from pipelines import warehouse

    processed = tmp_path / "processed"
    shutil.copytree(report_warehouse, processed, symlinks=True)
    # the table `povmon validate` records, as its contract says, committed as a stage commits
    with warehouse.transaction(processed, stage="validate") as tx, duckdb.connect() as con:
        tx.write_table(con, f"select '{PERIOD}' as period, {str(gate_passed).lower()} as gate_passed, "
                            f"{str(overridden).lower()} as overridden, 2 as failed_expectations, "
                            "'户主唯一; 证件号码校验位' as failed_titles",
                       "validation_status", PERIOD, order_by="period")
    return processed


def test_page_one_says_when_the_gate_was_overridden(report_warehouse, tmp_path):
    processed = _with_validation_status(report_warehouse, tmp_path, gate_passed=False, overridden=True)
    out = tmp_path / "out"
    summary = run(processed, PERIOD, out, policy=without_pngs())
    assert summary["validation"] == "overridden"
    page = (out / "summary.html").read_text(encoding="utf-8")
    first = page[:page.index('<section id="incidence"')]
    assert "数据质量检查未通过(2项阻断性问题：户主唯一; 证件号码校验位)，经人工确认强制生成" in first
    assert "经人工确认强制生成" in (out / "数据质量摘要.html").read_text(encoding="utf-8")


def test_page_one_says_when_the_gate_passed_or_never_ran(report_out, report_warehouse, tmp_path):
    # the staged city ran `povmon validate`, which records a passed gate
    page = (report_out[0] / "summary.html").read_text(encoding="utf-8")
    first = page[:page.index('<section id="headline"')]
    assert "数据质量检查已通过" in first and "未运行" not in first
    # the same warehouse with validate's record removed: the page says the numbers are unchecked
    from pipelines import warehouse

    processed = tmp_path / "processed"
    shutil.copytree(report_warehouse, processed, symlinks=True)
    with warehouse.transaction(processed, stage="validate") as tx:
        tx.delete("validation_status", PERIOD)
    summary = run(processed, PERIOD, tmp_path / "out", policy=without_pngs())
    page = (tmp_path / "out" / "summary.html").read_text(encoding="utf-8")
    assert "数据质量检查未运行" in page[:page.index('<section id="headline"')]


def test_public_workbook_keeps_numbers_numeric_and_flags_what_it_withholds(public_out):
    out, _ = public_out
    wb = openpyxl.load_workbook(out / "summary.xlsx")
    notes = {r[0]: r[1] for r in wb["说明"].iter_rows(values_only=True)}
    assert notes["版本"].startswith("公开版") and "不公开" in notes["不公开的数"]
    policy = load_policy()
    flagged = 0
    for name, spec in policy.report.tables.items():
        if spec.only_with_rows and spec.sheet not in wb.sheetnames:  # optional data this city lacks
            continue
        ws = wb[spec.sheet]
        if not ws.print_title_rows:
            continue
        header_row = int(ws.print_title_rows.split(":")[0].lstrip("$"))
        header = [c.value for c in ws[header_row]]
        numeric = [spec.columns[c] for c in (*spec.counts, *spec.integers, *spec.shares) if c in spec.columns]
        for row in ws.iter_rows(min_row=header_row + 1):
            values = dict(zip(header, row))
            for col in numeric:
                cell = values.get(col)
                if cell is None:
                    continue
                assert cell.value is None or isinstance(cell.value, (int, float)), (spec.sheet, col, cell.value)
                if cell.value is None and cell.fill.fill_type not in (None, "solid"):  # withheld: blank, hatched
                    assert col in (values["不公开"].value or ""), (spec.sheet, col)
                    flagged += 1
    assert flagged >= 5


def test_public_cards_withhold_households_and_persons_together(public_out):
    out, _ = public_out
    page = (out / "summary.html").read_text(encoding="utf-8")
    assert "公开版" in page
    values = re.findall(r'<div class="v">([^<]*)</div>', page)
    pairs = [re.match(r"(?:⚠ )?(.+?)户、(.+?)人", v) for v in values]
    pairs = [m.groups() for m in pairs if m]
    assert any(h == "&lt;5" for h, _p in pairs)  # the small city has a small card
    for households, persons in pairs:
        if households in ("&lt;5", "x"):
            assert persons in ("&lt;5", "x"), (households, persons)


def test_a_figure_shown_in_two_tables_is_withheld_the_same_way_in_both(report_warehouse):
    """The county ranking repeats the county tables' poor households and persons, households
    below the guideline and uncovered households: each withheld exactly as its own table withholds
    it (otherwise one table would show what the other hides); ties are broken by county code."""
    from pipelines.report import queries
    from pipelines.report.spec import Report
    from pipelines.report.warehouse import open_warehouse

    wh = open_warehouse(report_warehouse, upto=PERIOD)
    try:
        queries.bind_params(wh, PERIOD)
        r = Report(wh, PERIOD, audience="public")
        ranking, codes = r.data("county_ranking"), r.codes("county_ranking")
        compared = 0
        for column, source in r.cfg["tables"]["county_ranking"]["same_as"].items():
            table, source_column = source.split(".")
            src, src_codes = r.data(table), r.codes(table)
            by_county = {(c if t == 0 else "total"): int(k) for c, t, k in
                         zip(src["county_code"], src["is_total"], src_codes[source_column])}
            for i in ranking.index:
                key = ranking.at[i, "county_code"] if ranking.at[i, "is_total"] == 0 else "total"
                if key in by_county:
                    assert int(codes.at[i, column]) == by_county[key], (column, key)
                    compared += 1
        assert compared >= 20
        assert (codes != 0).any().any()  # something is withheld in the small city's ranking
    finally:
        wh.close()


def test_only_open_problems_are_past_their_deadline(report_warehouse):
    """problem_status's 已过时限: per criterion and status, the ledger's open rows whose deadline is
    before the quarter's end; a rectified problem is never overdue (the staged city has 已整改 rows
    whose deadline has passed)."""
    import duckdb

    from pipelines import warehouse
    from pipelines.policy import load_policy
    from pipelines.report import queries
    from pipelines.report.spec import Report
    from pipelines.report.warehouse import open_warehouse

    cleared = load_policy().validate.ledger.status_cleared
    part = warehouse.stable_path(report_warehouse, "problems", PERIOD)
    expected = dict(((label, status), (n, late)) for label, status, n, late in duckdb.sql(
        f"select criterion_label, status, count(*), count(*) filter (where status <> '{cleared}' and deadline < "
        f"date '2020-06-30') from read_parquet('{part}') group by all").fetchall())
    ((passed_cleared,),) = duckdb.sql(f"select count(*) from read_parquet('{part}') where status = '{cleared}' "
                                      "and deadline < date '2020-06-30'").fetchall()
    assert passed_cleared > 0
    wh = open_warehouse(report_warehouse, upto=PERIOD)
    try:
        queries.bind_params(wh, PERIOD)
        data = Report(wh, PERIOD).data("problem_status")
    finally:
        wh.close()
    got = {(r.criterion_label, r.status): (int(r.households), int(r.past_deadline)) for r in data.itertuples()}
    assert got == expected
