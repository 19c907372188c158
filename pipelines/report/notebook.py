"""Shared set-up for the analyst notebooks (notebooks/*.py): warehouse, parameters, renderer."""

from __future__ import annotations

from pathlib import Path

import plotly.io as pio

from pipelines import config
from pipelines.report import queries
from pipelines.report.warehouse import Warehouse, open_warehouse

# HTML in the outputs (survives nbconvert --to html) plus the JupyterLab mime renderer
RENDERER = "notebook_connected+plotly_mimetype"


def setup(period: str, data_dir: str | None = None) -> Warehouse:
    """Warehouse of data_dir/processed (default: pipelines.config, honours $POVMON_DATA) up to the
    period, report parameters bound, plotly renderer set for HTML export."""
    pio.renderers.default = RENDERER
    processed = Path(data_dir) / "processed" if data_dir else config.PROCESSED_DIR
    wh = open_warehouse(processed, upto=period)
    queries.bind_params(wh, period)
    return wh


def region_level(region: str) -> tuple[str, str | None]:
    """Region code (string) -> (level, column in the canonical tables): 4 digits city,
    6 county, 9 township, 12 village."""
    levels = {4: ("city", None), 6: ("county", "county_code"), 9: ("township", "township_code"),
              12: ("village", "village_code")}
    if not region.isdigit() or len(region) not in levels:
        raise ValueError(f"region must be a 4/6/9/12-digit code string, got {region!r}")
    return levels[len(region)]


def region_where(region: str, alias: str = "") -> str:
    """SQL predicate restricting a table with county/township/village codes to the region."""
    _, col = region_level(region)
    return "true" if col is None else f"{alias}{col} = '{region}'"
