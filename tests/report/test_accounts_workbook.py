"""The one-workbook 交总账 output (config/report.toml [workbooks.accounts]): written by the report
stage beside summary.xlsx, one sheet per 账 with title and source, numbers equal to the report
models, inert text, the same bytes on a rerun."""

from __future__ import annotations

from openpyxl import load_workbook

from pipelines.policy import load_policy
from pipelines.report import queries
from pipelines.report.warehouse import open_warehouse
from tests.report.conftest import PERIOD
from tests.report_runs import without_pngs

BOOK = f"交总账_{PERIOD}.xlsx"
SHEETS = ["说明", "收入账", "就业账", "政策账", "政策账(按政策)", "项目账", "资金账"]


def test_accounts_workbook_has_one_sheet_per_ledger_with_titles(report_out):
    out, summary = report_out
    assert str(out / BOOK) in summary["outputs"]
    wb = load_workbook(out / BOOK)
    assert wb.sheetnames == SHEETS
    spec = load_policy().report.tables
    for name, sheet in (("projects_by_county_type", "项目账"), ("projects_by_fund_source", "资金账"),
                        ("income_by_county", "收入账")):
        ws = wb[sheet]
        assert ws["A1"].value == spec[name].title
        assert ws["A2"].value.startswith("来源与口径：")
    assert wb.properties.title == "交总账"


def test_project_sheet_cells_equal_the_model(report_out, report_warehouse):
    out, _ = report_out
    wh = open_warehouse(report_warehouse, upto=PERIOD)
    try:
        queries.bind_params(wh, PERIOD)
        model = queries.query(wh, "projects_by_county_type")
    finally:
        wh.close()
    total = model[(model["is_total"] == 1) & (model["project_type"] == "all")].iloc[0]
    assert total["projects"] > 0 and total["paid"] <= total["received"]
    ws = load_workbook(out / BOOK)["项目账"]
    rows = [[c.value for c in r] for r in ws.iter_rows()]
    header_at = next(i for i, r in enumerate(rows) if r[0] == "县(市、区)代码")
    header = rows[header_at]
    body = rows[header_at + 1:]
    city = [r for r in body if r[header.index("县(市、区)")] == "合计" and r[header.index("项目类型")] == "全部类型"]
    assert len(city) == 1
    row = dict(zip(header, city[0]))
    assert row["项目数(个)"] == total["projects"]
    assert row["已支付(万元)"] == round(total["paid"], 6) or abs(row["已支付(万元)"] - total["paid"]) < 1e-6
    assert abs(row["资金拨付率(已支付÷到位)"] - total["paid"] / total["received"]) < 1e-9
    assert row["带贫户(登记在册，户)"] == total["households"]
    # every county of the sample city has projects: one all-types row per county and the total
    assert sum(1 for r in body if r[header.index("项目类型")] == "全部类型") == model["county_code"].nunique() + 1


def test_accounts_workbook_text_is_inert(report_out):
    out, _ = report_out
    wb = load_workbook(out / BOOK)
    for ws in wb.worksheets:
        for r in ws.iter_rows():
            for c in r:
                assert c.data_type != "f", (ws.title, c.coordinate)


def test_rerun_writes_the_same_bytes(report_out, report_warehouse, tmp_path):
    from pipelines.report.pipeline import run

    out, _ = report_out
    again = tmp_path / PERIOD
    run(report_warehouse, PERIOD, again, force=True, policy=without_pngs())  # PNGs: not this test's subject
    assert (again / BOOK).read_bytes() == (out / BOOK).read_bytes()
