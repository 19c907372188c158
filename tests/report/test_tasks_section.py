"""The report page shows the 整改清仓见底 section (issue 16 part 2; numbers: tests/tasks/test_report_section.py)."""

from __future__ import annotations


def test_tasks_section_on_the_page(report_out):
    out, _ = report_out
    page = (out / "summary.html").read_text(encoding="utf-8")
    section = page[page.index("整改清仓见底"):]
    assert "巡视反馈问题4月底前整改到位" in section and "全部问题6月底前清仓见底" in section
    assert "fig-tasks_by_unit" in section and "逾期未完成及回头看反弹问题(按责任单位)" in section


def test_overdue_items_are_named_in_the_internal_report_only(report_out, public_out):
    """The overdue lists name each item, its unit and leading official: the office's working list.
    The public report keeps the counts by unit (the figure) and leaves the lists out, page and
    workbook (config/report.toml `audiences = ["internal"]`)."""
    from openpyxl import load_workbook

    titles = ("逾期未完成及回头看反弹问题(按责任单位)", "逾期未办结及逾期办结的指令(按接收单位)")
    for out, shown in ((report_out[0], True), (public_out[0], False)):
        page = (out / "summary.html").read_text(encoding="utf-8")
        section = page[page.index("整改清仓见底"):]
        assert "fig-tasks_by_unit" in section
        assert all((t in section) is shown for t in titles), (out, shown)
        sheets = load_workbook(out / "summary.xlsx", read_only=True).sheetnames
        assert ("逾期问题" in sheets) is shown and ("逾期指令" in sheets) is shown, (out, sheets)
