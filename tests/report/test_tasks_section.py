"""The report page shows the 整改清仓见底 section (issue 16 part 2; numbers: tests/tasks/test_report_section.py)."""

from __future__ import annotations


def test_tasks_section_on_the_page(report_out):
    out, _ = report_out
    page = (out / "summary.html").read_text(encoding="utf-8")
    section = page[page.index("整改清仓见底"):]
    assert "巡视反馈问题4月底前整改到位" in section and "全部问题6月底前清仓见底" in section
    assert "fig-tasks_by_unit" in section and "逾期未完成及回头看反弹问题(按责任单位)" in section
