"""Tiny hand-built raw exports for ingest tests (3-person households, standard headers)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from pipelines.idcard import check_char

HEADERS = [
    "序号", "县(市、区)", "乡(镇)", "行政村", "行政区划代码", "户编号", "人编号", "姓名", "证件号码", "性别",
    "出生日期", "人数", "年度家庭人口数", "与户主关系", "文化程度", "在校生状况", "健康状况", "劳动技能",
    "是否参加大病保险", "是否享受低保", "贫困户属性", "脱贫状态", "主要致贫原因", "工资性收入", "生产经营性收入",
    "财产性收入", "转移性收入", "生产经营性支出", "年收入", "纯收入", "人均纯收入", "联系电话",
]
VILLAGE = "140524100200"


def make_id(prefix6: str, birth: str, seq: str) -> str:
    """A valid 18-character ID: address, YYYYMMDD, 3-digit sequence, check character."""
    first17 = prefix6 + birth + seq
    return first17 + check_char(first17)


def person(hh: str, pid: str, name: str, id_number: str, sex: str, birth: str, relation: str,
           size: int = 3, phone: str = "13800000000", **over) -> dict:
    """One member row with household fields; incomes consistent (net 9000, 3000 per head)."""
    row = {
        "序号": "1", "县(市、区)": "陵川县", "乡(镇)": "崇文镇", "行政村": "测试村", "行政区划代码": VILLAGE,
        "户编号": hh, "人编号": pid, "姓名": name, "证件号码": id_number, "性别": sex,
        "出生日期": f"{birth[:4]}-{birth[4:6]}-{birth[6:]}", "人数": str(size), "年度家庭人口数": str(size),
        "与户主关系": relation, "文化程度": "初中", "在校生状况": "", "健康状况": "健康", "劳动技能": "普通劳动力",
        "是否参加大病保险": "是", "是否享受低保": "否", "贫困户属性": "一般贫困户", "脱贫状态": "已脱贫（享受政策）",
        "主要致贫原因": "因病", "工资性收入": "8000", "生产经营性收入": "1500", "财产性收入": "0",
        "转移性收入": "500", "生产经营性支出": "1000", "年收入": "10000", "纯收入": "9000", "人均纯收入": "3000",
        "联系电话": phone,
    }
    row.update(over)
    return row


def household(hh: str = "1405241002000001", seq0: int = 10, names=("张三", "李四", "张小明")) -> list[dict]:
    """户主 (male 1980), 配偶 (female 1982), 之子 (male 2010)."""
    return [
        person(hh, hh + "01", names[0], make_id("140524", "19800101", f"{seq0:02d}1"), "男", "19800101", "户主",
               phone="13912345671"),
        person(hh, hh + "02", names[1], make_id("140524", "19820202", f"{seq0:02d}2"), "女", "19820202", "配偶",
               phone="13912345672"),
        person(hh, hh + "03", names[2], make_id("140524", "20100303", f"{seq0:02d}3"), "男", "20100303", "之子",
               phone="13912345673", **{"文化程度": "", "在校生状况": "七年级"}),
    ]


def write_csv(path: Path, rows: list[dict], headers=HEADERS, encoding="utf-8", title: str | None = None) -> Path:
    """CSV with the given encoding ('utf-8-sig' for a BOM) and an optional title line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding=encoding) as fh:
        w = csv.writer(fh)
        if title:
            w.writerow([title])
        w.writerow(headers)
        for r in rows:
            w.writerow([r.get(h, "") for h in headers] if isinstance(r, dict) else r)
    return path


@pytest.fixture
def raw_dir(tmp_path) -> Path:
    return tmp_path / "raw"


def registry_path(raw_dir: Path, name: str = "140524_陵川县_2020Q4.csv", period: str = "2020Q4") -> Path:
    return raw_dir / "registry" / period / name
