"""The worked example of pipelines/measures/README.md runs and prints what the README shows, and
its headline figure agrees with a hand calculation on the generated survey."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

from worked_example import example_survey

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "pipelines" / "measures" / "README.md"


def _blocks() -> tuple[str, str]:
    text = README.read_text(encoding="utf-8").split("<!-- worked-example -->", 1)[1]
    code = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    shown = re.search(r"```text\n(.*?)```", text, re.S).group(1)
    return code, shown


def test_readme_worked_example_prints_what_it_shows(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))
    code, shown = _blocks()
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, str(README), "exec"), {"__name__": "readme_example"})
    assert out.getvalue() == shown


def test_worked_example_headline_by_hand():
    df = example_survey()
    persons = df.weight * df["size"]
    p0 = float((persons * (df.income < 6000)).sum() / persons.sum())
    _code, shown = _blocks()
    line = next(l for l in shown.splitlines() if l.split()[:2] == ["all", "fgt0"])
    assert float(line.split()[2]) == round(p0, 4)
    assert len(df) == 72 and df.village.nunique() == 12 and df.region.nunique() == 4
