"""Every analyst notebook (notebooks/*.py, jupytext percent) executes top to bottom on the test
warehouse through papermill, and plotly charts survive HTML export."""

from __future__ import annotations

from pathlib import Path

import jupytext
import nbformat
import papermill
import pytest

from pipelines.config import PROJECT_ROOT

from .conftest import PERIOD

NOTEBOOKS = sorted((PROJECT_ROOT / "notebooks").glob("[0-9][0-9]_*.py"))


def test_notebooks_found():
    assert len(NOTEBOOKS) == 5


@pytest.mark.parametrize("source", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_pair_in_sync_and_committed_without_outputs(source: Path):
    """The committed .ipynb has the same cells as its .py twin, and no outputs or counts."""
    paired = nbformat.read(source.with_suffix(".ipynb"), as_version=4)
    text = jupytext.read(source)
    assert [(c.cell_type, c.source) for c in paired.cells] == [(c.cell_type, c.source) for c in text.cells]
    for cell in paired.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, source.name


@pytest.mark.parametrize("source", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_executes(source: Path, report_warehouse, tmp_path):
    nb = jupytext.read(source)
    assert any("parameters" in c.metadata.get("tags", []) for c in nb.cells)
    src, out = tmp_path / f"{source.stem}.ipynb", tmp_path / f"{source.stem}.out.ipynb"
    nbformat.write(nb, src)
    papermill.execute_notebook(str(src), str(out), kernel_name="python3", language="python", cwd=str(PROJECT_ROOT),
                               parameters={"period": PERIOD, "region": "1405",
                                           "data_dir": str(report_warehouse.parent)})
    if source.stem.startswith("01_"):
        from nbconvert import HTMLExporter

        body, _ = HTMLExporter().from_notebook_node(nbformat.read(out, as_version=4))
        assert "Plotly.newPlot" in body  # the chart's JS is in the exported HTML
