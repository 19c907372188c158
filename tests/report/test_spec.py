"""The declarative report (issue #10 item 4): the one by-region macro, the report models' keys,
card templates and definitions generated from the policy."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from pipelines import params
from pipelines.graph import bind_rows
from pipelines.policy import PolicyError, load_policy
from pipelines.report import queries
from pipelines.report.spec import Report, Template, render_definitions
from pipelines.report.warehouse import open_warehouse

from .conftest import PERIOD


def _by_region_sql(**kwargs) -> str:
    """The macro rendered on its own (relations `rows`, `names`, `settings`)."""
    template = queries.GRAPH.env.from_string(
        "{% import '_macros.sql' as m %}{{ m.by_region('rows', 'names', 'settings', **kw) }}")
    return template.render(kw=kwargs)


@pytest.fixture()
def con():
    c = duckdb.connect()
    bind_rows(c, "names", {"level": "varchar", "code": "varchar", "name": "varchar"},
              [("county", "140521", "沁水县"), ("county", "140522", "阳城县"), ("county", "140524", "陵川县")])
    bind_rows(c, "settings", {"total_label": "varchar"}, [("全市合计",)])
    # five households: two counties, two kinds; persons by hand
    bind_rows(c, "rows", {"county_code": "varchar", "kind": "varchar", "persons": "integer"},
              [("140521", "a", 3), ("140521", "a", 2), ("140521", "b", 4), ("140522", "a", 1), ("140599", "b", 5)])
    return c


def test_by_region_counts_each_region_and_the_total_from_the_same_rows(con):
    sql = _by_region_sql(aggregates={"households": "count(*)", "persons": "sum(s.persons)"},
                         derived={"persons_per_household": "t.persons * 1.0 / t.households"})
    rows = con.execute(f"select * from ({sql}) order by is_total, county_code").fetchall()
    assert rows == [
        (0, "140521", "沁水县", 3, 9, 3.0),
        (0, "140522", "阳城县", 1, 1, 1.0),
        (0, "140599", "140599", 1, 5, 5.0),  # a code without a name keeps its code
        (1, None, "全市合计", 5, 15, 3.0),
    ]


def test_by_region_groups_and_grid(con):
    sql = _by_region_sql(aggregates={"households": "count(*)"}, group=["kind"])
    rows = con.execute(f"select is_total, county_code, kind, households from ({sql}) "
                       "order by is_total, county_code, kind").fetchall()
    assert rows == [(0, "140521", "a", 2), (0, "140521", "b", 1), (0, "140522", "a", 1), (0, "140599", "b", 1),
                    (1, None, "a", 3), (1, None, "b", 2)]
    # a grid lists regions without rows, at zero for the fill_zero aggregates and null otherwise
    sql = _by_region_sql(aggregates={"households": "count(*)", "persons": "sum(s.persons)"},
                         grid="(select code as county_code from names)", fill_zero=["households"])
    rows = con.execute(f"select county_code, county_name, households, persons from ({sql}) "
                       "order by is_total, county_code").fetchall()
    assert ("140524", "陵川县", 0, None) in rows
    assert rows[-1] == (None, "全市合计", 5, 15)


def test_every_by_region_table_uses_the_macro():
    by_region = [n for n in queries.GRAPH.models if n.endswith(("_by_county", "_ranking"))]
    assert len(by_region) == 12  # 11 + crosscheck_by_county (issue 16)
    for name in by_region:
        text = queries.GRAPH.models[name].path.read_text(encoding="utf-8")
        assert ("m.by_region(" in text or "m.ranking(" in text) and "合计" not in text \
            and "union all select 1" not in text, name


@pytest.fixture(scope="module")
def staged_report(report_warehouse):
    wh = open_warehouse(report_warehouse, upto=PERIOD)
    queries.bind_params(wh, PERIOD)
    yield Report(wh, PERIOD)
    wh.close()


@pytest.mark.parametrize("name", sorted(queries.GRAPH.models))
def test_report_model_key_is_unique_and_not_null(staged_report, name):
    model = queries.GRAPH.models[name]
    assert model.key, f"{model.path}: declares its key"
    df = staged_report.data(name)
    assert df is not None, name
    if name == "survey_designs":  # no `povmon survey` run in the staged city: tested in tests/measures
        assert df.empty
        return
    assert len(df), name
    required = [k for k in model.key if k not in model.nullable_key]
    assert not df[required].isna().any().any(), name
    assert not df.duplicated(list(model.key)).any(), f"{name}: key {model.key} repeats"


def test_card_template_kinds():
    from pipelines.report.spec import Withheld

    rows = pd.DataFrame({"households": [3, 4, 1200]})
    t = Template(incidence_threshold=0.0001, rows=rows)
    assert t.format("{a:count}户、{b:count}人、{sum.households:count}户次", a=3, b=12345) == "3户、12,345人、1,207户次"
    assert t.format("{a:count}户、{b:count}人", a=Withheld("<5"), b=Withheld("x")) == "<5户、x人"
    withheld = Template(rows=pd.DataFrame({"households": [Withheld("<5"), 40]}), hidden="x")
    assert withheld.format("{sum.households:count}") == "x"  # a sum over a withheld cell would give it away
    assert t.format("{x:incidence}|{y:incidence}|{z:pct1}|{d:date}|{n:int}|{c:signed}|{p:pp}|{ok:choice:是|否}",
                    x=0.00005, y=0.0123, z=0.5834, d=pd.Timestamp("2020-06-30"), n=float("nan"), c=-21, p=0.0002,
                    ok=False) == "不到万分之一|1.23%|58.3%|2020-06-30|—|−21|+0.02个百分点|否"
    assert t.format("{source.registry}", **{"source.registry": "登记"}) == "登记"


def test_definitions_follow_the_policy():
    text = render_definitions(load_policy(overrides={"thresholds": {"education": {"compulsory_age_max": 16}}}))["gaps"]
    assert "6–16周岁" in text and "config/thresholds.toml" in text
    renamed = load_policy(overrides={"code_labels": {"poverty_status": {"returned": ["返贫户"]}}})
    assert "脱贫状态为未脱贫或返贫户的" in render_definitions(renamed)["incidence"]
    with pytest.raises(PolicyError, match=r"\[definitions\]\.gaps: unknown name 'no_such_rule'"):
        load_policy(overrides={"report": {"definitions": {"gaps": "见 {no_such_rule}"}}})


def test_a_section_naming_an_unknown_table_is_refused():
    policy = load_policy()
    sections = [s.model_dump(exclude_defaults=True) for s in policy.report.sections]
    sections[0]["tables"] = ["no_such_table"]
    with pytest.raises(PolicyError, match=r"sections\]\] headline\.tables: unknown table 'no_such_table'"):
        load_policy(overrides={"report": {"sections": sections}})


def test_param_tables_of_the_report_come_from_the_policy():
    c = duckdb.connect()
    policy = load_policy()
    params.bind(c, policy, ["param_report", "param_report_lines", "param_poor_statuses"])
    assert c.execute("select total_label from param_report").fetchone() == (policy.report.total_label,)
    poor = policy.groups[policy.measures.incidence.poor_group]
    assert sorted(r[0] for r in c.execute("select code from param_poor_statuses").fetchall()) == sorted(poor)
    # another status group named as poor in config reaches every report model through this one table
    other = load_policy(overrides={"measures": {"incidence": {"poor_group": "exited"}}})
    params.bind(c, other, ["param_poor_statuses"])
    assert sorted(r[0] for r in c.execute("select code from param_poor_statuses").fetchall()) == \
        sorted(other.groups["exited"])
    assert [r[0] for r in c.execute("select line_name from param_report_lines order by sort_order").fetchall()] == \
        list(policy.report.incidence.lines)


def test_compare_reports_finds_a_changed_number_and_passes_a_copy(report_out, tmp_path):
    import importlib.util
    import shutil
    import sys

    import openpyxl

    from pipelines.config import PROJECT_ROOT

    script = PROJECT_ROOT / "benchmarks" / "compare_reports.py"
    spec = importlib.util.spec_from_file_location("compare_reports", script)
    cr = sys.modules.setdefault("compare_reports", importlib.util.module_from_spec(spec))
    spec.loader.exec_module(cr)
    out, _ = report_out
    a, b = tmp_path / "a" / PERIOD, tmp_path / "b" / PERIOD
    for d in (a, b):
        d.mkdir(parents=True)
        for name in ("summary.html", "summary.xlsx"):
            shutil.copy(out / name, d / name)
    assert cr.compare(tmp_path / "a", tmp_path / "b") == []
    tables, cards = cr.page_parts(a / "summary.html")
    assert len(tables) >= 10 and any(label == "剩余未脱贫(含返贫)" for _v, label in cards)
    wb = openpyxl.load_workbook(b / "summary.xlsx")
    ws = wb["未脱贫人口"]
    ws.cell(row=5, column=4).value = 999_999  # one county's 未脱贫人数
    wb.save(b / "summary.xlsx")
    diffs = cr.compare(tmp_path / "a", tmp_path / "b", pages=False)
    assert len(diffs) == 1 and "[未脱贫人口] row 5 column 4" in diffs[0] and "999999" in diffs[0]


def test_every_reason_code_of_the_data_contract_has_a_chinese_label():
    from pipelines.config import PROJECT_ROOT

    text = (PROJECT_ROOT / "docs" / "data_contract.md").read_text(encoding="utf-8")
    section = text[text.index("## 3. Ingest dispositions"):text.index("**What a quarantined row keeps**")]
    codes = {c.strip() for row in section.splitlines() if row.startswith("| ") and not row.startswith("| reason")
             for c in row.split("|")[1].split("/")}
    codes.discard("---")
    labels = load_policy().report.labels["reason"]
    assert len(codes) >= 15 and codes <= set(labels), sorted(codes - set(labels))
