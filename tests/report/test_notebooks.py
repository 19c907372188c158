"""The analyst notebooks (notebooks/*.py, jupytext pairs) are thin clients of pipelines/report/notebook.py:
each runs through papermill for one county — the region given as a number, as `-p region 140524`
passes it, with a comparison quarter — and its outputs show only that county's households and
units; every chart has Chinese axis and legend titles; the exported HTML draws its charts offline."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import duckdb
import jupytext
import nbformat
import papermill
import pytest

from pipelines import warehouse
from pipelines.config import PROJECT_ROOT
from pipelines.report import notebook

from .conftest import PERIOD

NOTEBOOKS = sorted((PROJECT_ROOT / "notebooks").glob("[0-9][0-9]_*.py"))
COUNTY = "140524"
COMPARE = "2020Q1"
CJK = re.compile(r"[\u4e00-\u9fff]")
KEY = re.compile(r"(?<![0-9a-f])[0-9a-f]{20}(?![0-9a-f])")
REGION = re.compile(r"(?<!\d)1405\d{2}(?:\d{3}){0,2}(?!\d)")  # 6-, 9- and 12-digit codes of the city


def _q(sql: str) -> list[tuple]:
    with duckdb.connect() as con:
        return con.execute(sql).fetchall()


def test_notebooks_found():
    assert len(NOTEBOOKS) == 5


@pytest.mark.parametrize("source", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_pair_in_sync_without_outputs_and_with_a_kernel(source: Path):
    """The committed .ipynb has the .py twin's cells, no outputs, and the python3 kernelspec (so
    JupyterLab does not ask and papermill needs no --language)."""
    paired = nbformat.read(source.with_suffix(".ipynb"), as_version=4)
    text = jupytext.read(source)
    assert [(c.cell_type, c.source) for c in paired.cells] == [(c.cell_type, c.source) for c in text.cells]
    for cell in paired.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, source.name
    for nb in (paired, text):
        assert nb.metadata["kernelspec"]["name"] == "python3" and nb.metadata["kernelspec"]["language"] == "python"
    assert "notebook.setup(" in source.read_text(encoding="utf-8")
    assert not re.search(r"\b(select|from)\b.*\bwhere\b", source.read_text(encoding="utf-8"), re.I | re.S), \
        "queries live in pipelines/report/sql/notebooks, not in the notebook"


@pytest.fixture(scope="module")
def county_runs(report_warehouse, tmp_path_factory) -> dict[str, nbformat.NotebookNode]:
    """Every notebook executed for the county, region passed as an int (papermill -p), with a
    comparison quarter; no kernel or language given: the notebook's own metadata says it."""
    out_dir = tmp_path_factory.mktemp("notebooks")
    runs = {}
    for source in NOTEBOOKS:
        out = out_dir / f"{source.stem}.ipynb"
        # iopub_timeout: nbclient waits 4 s by default for a cell's output messages once it has
        # replied, which a kernel on a busy machine (make test's two workers, others' jobs) can miss
        papermill.execute_notebook(str(source.with_suffix(".ipynb")), str(out), cwd=str(PROJECT_ROOT),
                                   parameters={"period": PERIOD, "region": int(COUNTY), "compare_period": COMPARE,
                                               "data_dir": str(report_warehouse.parent)}, iopub_timeout=60)
        runs[source.stem] = nbformat.read(out, as_version=4)
    return runs


def _texts(nb) -> list[str]:
    """What a reader sees in the outputs: text, HTML tables, and the charts' data."""
    out = []
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            if "text" in o:
                out.append(o["text"])
            for mime, value in o.get("data", {}).items():
                if mime in ("text/plain", "text/html") or mime.endswith("json"):
                    out.append(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))
    return out


def _figures(nb) -> list[dict]:
    return [o["data"]["application/vnd.plotly.v1+json"] for c in nb.cells for o in c.get("outputs", [])
            if "application/vnd.plotly.v1+json" in o.get("data", {})]


def test_each_notebook_shows_only_its_countys_households(county_runs, report_warehouse):
    risk = warehouse.scan(report_warehouse, "risk")
    keys = {r[0]: r[1] for r in _q(f"select household_key, county_code from {risk} where period in ('{PERIOD}', "
                                   f"'{COMPARE}')")}
    (n_county,) = _q(f"select count(*) from {risk} where period = '{PERIOD}' and county_code = '{COUNTY}'")[0]
    listed = set()
    for name, nb in county_runs.items():
        text = "\n".join(_texts(nb))
        shown = {k for k in KEY.findall(text) if k in keys}
        assert {keys[k] for k in shown} <= {COUNTY}, name  # no other county's household
        listed |= shown
        codes = set(REGION.findall(text))
        assert codes and all(c.startswith(COUNTY) for c in codes), (name, sorted(c for c in codes
                                                                                 if not c.startswith(COUNTY)))
        # the scope line: this county's households in the period, as the risk table counts them
        assert re.search(rf"{PERIOD}\s+县\(市、区\)\s+{COUNTY}\s+\S+\s+{n_county}\s", text), name
    assert listed, "the near-threshold list shows the county's households by key"


def test_every_chart_has_chinese_axes_and_legend(county_runs):
    checked = 0
    for name, nb in county_runs.items():
        for fig in _figures(nb):
            layout = fig["layout"]
            title = layout.get("title", {}).get("text", "")
            assert CJK.search(title), (name, title)
            if any(t.get("type") == "sankey" for t in fig["data"]):
                assert all(CJK.search(label) for t in fig["data"] for label in t["node"]["label"])
                continue
            for axis in ("xaxis", "yaxis"):
                text = layout.get(axis, {}).get("title", {}).get("text") or ""
                assert CJK.search(text), (name, title, axis, text)
            if sum(1 for t in fig["data"] if t.get("showlegend", True) and t.get("name")) > 1:
                legend = layout.get("legend", {}).get("title", {}).get("text") or ""
                assert CJK.search(legend), (name, title, legend)
                assert all(CJK.search(t["name"]) or re.fullmatch(r"\d{4}Q\d", t["name"]) for t in fig["data"])
            checked += 1
    assert checked >= 10


def test_html_export_draws_offline(county_runs, chromium, tmp_path):
    from nbconvert import HTMLExporter

    nb = county_runs["01_overview"]
    body, _ = HTMLExporter().from_notebook_node(nb)
    assert "cdn.plot.ly/plotly" not in body and "Plotly.newPlot" in body  # plotly.js is in the page
    page = tmp_path / "01_overview.html"
    page.write_text(body, encoding="utf-8")
    dom = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                          f"--user-data-dir={tmp_path / 'profile'}", "--host-resolver-rules=MAP * ~NOTFOUND",
                          "--virtual-time-budget=8000", "--dump-dom", page.as_uri()],
                         capture_output=True, text=True, timeout=120).stdout
    assert dom.count('class="main-svg"') >= len(_figures(nb)) >= 1  # every chart drawn, no network


def test_region_at_every_level(report_warehouse):
    assert notebook.region_code(140524) == "140524" and notebook.region_code(" 140524100 ") == "140524100"
    assert notebook.region_code(1405.0) == "1405"
    for bad in ("14052", "1405x", 14052410, None):
        with pytest.raises(ValueError, match="region"):
            notebook.region_code(bad)
    data_dir = str(report_warehouse.parent)
    city = notebook.setup(PERIOD, "1405", data_dir)
    units = city.query("nb_units")
    assert sorted(units.loc[units["role"] == "child", "unit_code"]) == [
        "140502", "140521", "140522", "140524", "140525", "140581"]
    township = (_q(f"select township_code from {warehouse.scan(report_warehouse, 'risk', PERIOD)} "
                   f"where county_code = '{COUNTY}' group by 1 order by count(*) desc limit 1"))[0][0]
    nb = notebook.setup(PERIOD, township, data_dir, compare_period=COMPARE)
    assert list(nb.query("nb_units").query("role != 'child'")["unit_code"]) == ["1405", COUNTY, township]
    near = nb.query("nb_near_threshold")
    assert set(near["township_code"]) <= {township}
    overview = nb.query("nb_overview")
    own = overview[(overview["role"] == "region")].set_index("period")["households"].to_dict()
    counts = dict(_q(f"select period, count(*) from {warehouse.scan(report_warehouse, 'risk')} where "
                     f"township_code = '{township}' and period in ('{PERIOD}', '{COMPARE}') group by 1"))
    assert own == counts
    children = overview[(overview["role"] == "child") & (overview["period"] == PERIOD)]
    assert children["households"].sum() == counts[PERIOD]  # the villages add up to the township
    village = children.sort_values("households").iloc[-1]["unit_code"]
    assert len(notebook.setup(PERIOD, village, data_dir).query("nb_units")) == 4  # 市 县 乡 村, no children


def test_make_lab_allows_root():
    import os

    dry = subprocess.run(["make", "-n", "lab"], cwd=PROJECT_ROOT, capture_output=True, text=True).stdout
    line = next(line for line in dry.splitlines() if "jupyter lab" in line)
    assert ("--allow-root" in line) == (os.getuid() == 0)
