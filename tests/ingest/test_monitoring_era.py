"""Exports of the 防返贫监测信息系统 (2021 on, domain.md §1: 户类型, 监测对象类别, 风险是否消除, 风险识别时间,
风险消除时间) load through the same aliases; any quarter from 2016Q1 on is accepted."""

from __future__ import annotations

import duckdb
import pytest

from pipelines.ingest.pipeline import run
from tests.ingest.conftest import HEADERS, household, write_csv

MONITORING = [*HEADERS, "户类型", "监测对象类别", "风险是否消除", "风险识别时间", "风险消除时间"]


def test_a_monitoring_export_loads_its_household_type_category_and_risk_dates(raw_dir, tmp_path):
    a = household("1405241002000001")
    for r in a:
        r.update({"户类型": "普通农户", "监测对象类别": "边缘易致贫户", "风险是否消除": "否",
                  "风险识别时间": "2021-05-10", "风险消除时间": "", "脱贫状态": ""})
    b = household("1405241002000002", seq0=20, names=("钱一", "钱二", "钱三"))
    for r in b:
        r.update({"户类型": "脱贫户", "监测对象类别": "脱贫不稳定户", "风险是否消除": "是",
                  "风险识别时间": "2021/3/1", "风险消除时间": "2021年9月30日"})
    write_csv(raw_dir / "registry/2021Q3/140524_陵川县.csv", a + b, headers=MONITORING)
    run(raw_dir, tmp_path / "processed")
    con = duckdb.connect(str(tmp_path / "processed" / "povmon.duckdb"), read_only=True)
    got = con.execute("select period, household_type, monitoring_category, risk_eliminated, "
                      "cast(risk_identified_date as varchar), cast(risk_eliminated_date as varchar) "
                      "from households order by monitoring_category").fetchall()
    assert got == [("2021Q3", "marginal", "marginal", False, "2021-05-10", None),
                   ("2021Q3", "registered", "unstable_exited", True, "2021-03-01", "2021-09-30")]
    assert con.execute("select count(*) from findings where reason = 'unknown_code_label'").fetchone()[0] == 0


@pytest.mark.parametrize("period", ["2016Q1", "2018Q3", "2023Q4"])
def test_any_quarter_from_2016_on_is_accepted(raw_dir, tmp_path, period):
    write_csv(raw_dir / f"registry/{period}/140524_陵川县.csv", household())
    summary = run(raw_dir, tmp_path / "processed")
    assert summary["periods"] == [period] and summary["files"]["rows_loaded"] == 3
