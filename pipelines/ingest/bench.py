"""Ingest benchmark: national-size raw Parquet (all text, Chinese headers) -> processed tables.

`bench_ingest()` writes one raw registry Parquet per size with DuckDB (no synth dependency, so
it measures ingest alone), runs the ingest and returns seconds and rows per size. The lead may
swap the generator for `povmon synth --format parquet` once that exists.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import duckdb

from pipelines.ingest.pipeline import run


def write_raw_registry(path: Path, persons: int) -> None:
    """A registry export of `persons` rows (3 per household), valid IDs, text cells only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute(f"""
        copy (
            with p as (
                select i, i // 3 as h, i % 3 as m,
                    '140524' || strftime(date '1950-01-01' + cast(i % 20000 as integer), '%Y%m%d')
                        || lpad(cast(i % 997 as varchar), 3, '0') as id17
                from range({persons}) as t(i)
            ),
            ids as (
                select *, id17 || substr('10X98765432', 1 + (
                    {" + ".join(f"{w} * cast(substr(id17, {k + 1}, 1) as integer)"
                                for k, w in enumerate((7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)))}
                ) % 11, 1) as id18
                from p
            )
            select
                cast(i + 1 as varchar) as "序号", '陵川县' as "县(市、区)", '崇文镇' as "乡(镇)",
                '测试村' as "行政村", '140524100200' as "行政区划代码",
                'H' || lpad(cast(h as varchar), 10, '0') as "户编号",
                'P' || lpad(cast(i as varchar), 11, '0') as "人编号",
                '某' as "姓名", id18 as "证件号码",
                case when cast(substr(id18, 17, 1) as integer) % 2 = 1 then '男' else '女' end as "性别",
                substr(id18, 7, 4) || '-' || substr(id18, 11, 2) || '-' || substr(id18, 13, 2) as "出生日期",
                '3' as "人数", case m when 0 then '户主' when 1 then '配偶' else '之子' end as "与户主关系",
                '初中' as "文化程度", '健康' as "健康状况", '普通劳动力' as "劳动技能", '是' as "是否参加大病保险",
                '一般贫困户' as "贫困户属性", '已脱贫(享受政策)' as "脱贫状态", '因病' as "主要致贫原因",
                '8000' as "工资性收入", '1500' as "生产经营性收入", '0' as "财产性收入", '500' as "转移性收入",
                '1000' as "生产经营性支出", '10000' as "年收入", '9000' as "纯收入", '3000' as "人均纯收入",
                '13800000000' as "联系电话"
            from ids
        ) to '{path}' (format parquet)
    """)
    con.close()


def bench_ingest(sizes=(100_000, 1_000_000, 10_000_000), workdir: Path | None = None) -> list[dict]:
    """Seconds to ingest a raw registry Parquet of each size (persons)."""
    results = []
    for n in sizes:
        base = Path(tempfile.mkdtemp(prefix="povmon-bench-", dir=workdir))
        try:
            raw = base / "raw"
            write_raw_registry(raw / "registry" / "2020Q4" / "140524_陵川县_bench.parquet", n)
            started = time.perf_counter()
            summary = run(raw, base / "processed")
            results.append(dict(persons=n, seconds=round(time.perf_counter() - started, 2),
                                loaded=summary["rows"]["persons"], findings=sum(summary["findings"].values())))
        finally:
            shutil.rmtree(base, ignore_errors=True)
    return results


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(bench_ingest(tuple(int(a) for a in sys.argv[1:]) or (100_000,)), indent=2))
