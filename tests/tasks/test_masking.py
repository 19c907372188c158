"""Masking of free text (问题描述, 内容): config/tasks.toml [masking] as the pattern DuckDB applies."""

from __future__ import annotations

import duckdb
import pytest

from pipelines.params import task_mask_pattern
from pipelines.policy import load_policy

MASK = "＊"


def _masked(text: str) -> str:
    m = load_policy().tasks.masking
    pattern = task_mask_pattern(m.min_digits, m.group_min_digits, m.pair_long_digits)
    with duckdb.connect() as con:
        return con.execute("select regexp_replace(?, ?, ?, 'g')", [text, pattern, MASK]).fetchone()[0]


@pytest.mark.parametrize(("text", "expected"), [
    ("联系电话187-2742-8023", "联系电话＊"),
    ("电话0356 123 4567请回电", "电话＊请回电"),
    ("电话187.2742.8023。", "电话＊。"),
    ("座机0356-1234567", "座机＊"),
    ("手机1872742 8023", "手机＊"),
    ("身份证140102 19800101 123X", "身份证＊"),
    ("身份证34052419800101001X号", "身份证＊号"),
    ("户编号14052119800", "户编号＊"),
])
def test_phones_and_ids_masked(text, expected):
    assert _masked(text) == expected


@pytest.mark.parametrize("text", [
    "2020-04-30前完成", "2020.4.30", "2020 04 30", "资金12.5万元", "2019-2020年度", "每户500-1000元",
    "截至2020-06-30 共12户", "晋脱贫办发〔2020〕12号", "123456",
])
def test_dates_amounts_and_ranges_kept(text):
    assert _masked(text) == text
