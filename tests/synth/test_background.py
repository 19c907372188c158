"""pipelines/synth/background.py: a quarter's files written in a forked child are the files the
same calls write inline, and a failing write in the child stops the run naming what it wrote."""

import os
from pathlib import Path

import pandas as pd
import pytest

from pipelines.synth import background, writers


def _frame() -> pd.DataFrame:
    return pd.DataFrame({"户编号": ["H1", "H1", "H2"], "姓名": ["甲", "乙", "丙&<>"], "人数": [2, 2, 1]})


def _jobs(out: Path) -> background.Jobs:
    jobs = background.Jobs()
    jobs.add(writers.write_export, _frame(), out / "a.xlsx", "xlsx", title="标题", merge_columns=["户编号"])
    jobs.add(writers.write_export, _frame(), out / "a.csv", "csv-gb18030")
    jobs.add(writers.write_export, _frame(), out / "a.dta", "dta")
    return jobs


def test_child_writes_the_same_bytes_as_inline(tmp_path):
    inline, child = tmp_path / "inline", tmp_path / "child"
    background.run_jobs(_jobs(inline))
    with background.Writer(1) as writer:
        if writer.context is None:
            pytest.skip("no fork on this platform")
        writer.submit("2020Q1", _jobs(child))
        assert len(writer.running) == 1  # written in the child, not here
    names = sorted(p.name for p in inline.iterdir())
    assert names == ["a.csv", "a.dta", "a.xlsx"]
    assert sorted(p.name for p in child.iterdir()) == names  # no temporary file left
    for name in names:
        assert (child / name).read_bytes() == (inline / name).read_bytes(), name


def test_zero_processes_writes_inline(tmp_path):
    writer = background.Writer(0)
    writer.submit("2020Q1", _jobs(tmp_path))
    assert writer.running == [] and (tmp_path / "a.csv").exists()  # written before submit returned


def _fail(path: Path) -> None:
    raise ValueError(f"cannot write {path.name}")


def test_a_failing_child_is_raised_with_its_label(tmp_path):
    jobs = background.Jobs()
    jobs.add(_fail, tmp_path / "x.xlsx")
    writer = background.Writer(1)
    if writer.context is None:
        pytest.skip("no fork on this platform")
    writer.submit("2020Q3 chunk 0", jobs)
    with pytest.raises(RuntimeError, match=r"2020Q3 chunk 0.*\n(.|\n)*ValueError: cannot write x.xlsx"):
        writer.close()
    assert writer.running == []


def test_at_most_the_configured_children_run(tmp_path):
    seen = []
    with background.Writer(1) as writer:
        if writer.context is None:
            pytest.skip("no fork on this platform")
        for k in range(3):
            jobs = background.Jobs()
            jobs.add(writers.write_export, _frame(), tmp_path / f"{k}.csv", "csv-utf8")
            writer.submit(str(k), jobs)
            seen.append(len(writer.running))
    assert seen == [1, 1, 1]
    assert sorted(os.listdir(tmp_path)) == ["0.csv", "1.csv", "2.csv"]
