"""Every chart of summary.html shows the values its table publishes: a count the table suppresses
("<5", primary or secondary) is absent from the chart (figure JSON read out of the page)."""

from __future__ import annotations

import base64
import json
import math
import re

import numpy as np
import pandas as pd
import pytest

from pipelines.config import CONFIG_DIR
from pipelines.report import queries
from pipelines.report.pipeline import Report
from pipelines.report.publish import suppression_mask
from pipelines.report.warehouse import open_warehouse

from .conftest import PERIOD

# figure key -> (table, x column, how traces map to values: {legend label: column} or (trace column, value column))
BAR_CHARTS = {
    "poor_by_county": ("poor_by_county", "county_name", {"未脱贫户数(户)": "poor_households", "未脱贫人数(人)": "poor_persons"}),
    "below_guideline": ("below_guideline_by_county", "county_name", {"户数(户)": "households", "人数(人)": "persons"}),
    "assistance": ("assistance_by_county", "county_name", {"已落实(户)": "covered", "未落实(户)": "not_covered"}),
    "gaps_by_county": ("gaps_by_county", "county_name", ("dimension_label", "households")),
    "risk_by_county": ("risk_by_county", "county_name", ("risk_level_label", "households")),
    "employment": ("employment_by_county", "county_name", ("destination_label", "persons")),
    "gap_progress": ("gap_progress", "period", ("dimension_label", "households")),
}
NO_COUNTS = {"incidence_trend", "quality"}  # rates, and row counts by reason (its table suppresses none)


def _array(value):
    """A Plotly data array: a list, or a typed array {"dtype", "bdata"} (base64)."""
    if isinstance(value, dict) and "bdata" in value:
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"])).tolist()
    return list(value) if value is not None else []


def figures(page: str) -> dict[str, list[dict]]:
    """{figure key: traces} from the Plotly.newPlot calls of the page."""
    out, decoder = {}, json.JSONDecoder()
    for m in re.finditer(r'Plotly\.newPlot\(\s*"fig-([a-z_]+)",\s*', page):
        traces, _end = decoder.raw_decode(page, m.end())
        out[m.group(1)] = traces
    return out


@pytest.fixture(scope="module")
def tables(report_warehouse):
    """{table: (raw query result, suppression mask)} exactly as the report publishes them."""
    wh = open_warehouse(report_warehouse, upto=PERIOD)
    try:
        queries.bind_params(wh, PERIOD, CONFIG_DIR)
        r = Report(wh, PERIOD, CONFIG_DIR)
        out = {}
        for name in {t for t, _x, _m in BAR_CHARTS.values()} | {"transition_sankey"}:
            df = r.data(name)
            spec = r.cfg["tables"][name]
            out[name] = (df, suppression_mask(df, spec["counts"], r.threshold, spec.get("group"), r.secondary))
        return out
    finally:
        wh.close()


def _expected(df: pd.DataFrame, mask: pd.DataFrame, x_col: str, mapping) -> dict[tuple[str, str], float | None]:
    """(trace name, x) -> the value the table publishes (None when suppressed), non-total rows."""
    body = df[df["is_total"] == 0] if "is_total" in df.columns else df
    out = {}
    for i, row in body.iterrows():
        pairs = mapping.items() if isinstance(mapping, dict) else [(str(row[mapping[0]]), mapping[1])]
        for trace, col in pairs:
            out[(trace, str(row[x_col]))] = None if mask.loc[i, col] else float(row[col])
    return out


def test_no_chart_shows_a_suppressed_count(report_out, tables):
    out, _summary = report_out
    figs = figures((out / "summary.html").read_text(encoding="utf-8"))
    assert set(figs) == set(BAR_CHARTS) | NO_COUNTS | {"transition_sankey"}
    suppressed = 0
    for key, (table, x_col, mapping) in BAR_CHARTS.items():
        df, mask = tables[table]
        expected = _expected(df, mask, x_col, mapping)
        shown = {}
        for trace in figs[key]:
            for x, y in zip(_array(trace["x"]), _array(trace["y"])):
                shown[(trace["name"], str(x))] = None if y is None or (isinstance(y, float) and math.isnan(y)) else y
            for text in trace.get("text") or []:
                assert not (text and 0 < float(text.replace(",", "")) < 5), (key, text)
        assert shown == expected, key
        suppressed += sum(v is None for v in expected.values())
    assert suppressed >= 3  # the small city has small cells in its charts: the check bites


def test_the_sankey_leaves_out_suppressed_flows(report_out, tables):
    out, _summary = report_out
    (trace,) = figures((out / "summary.html").read_text(encoding="utf-8"))["transition_sankey"]
    labels = trace["node"]["label"]
    shown = {(labels[s].split(" ", 1)[1], labels[t].split(" ", 1)[1]): v
             for s, t, v in zip(_array(trace["link"]["source"]), _array(trace["link"]["target"]),
                                _array(trace["link"]["value"]))}
    df, mask = tables["transition_sankey"]
    expected = {(f, t): float(v) for f, t, v, hidden in zip(df["from_status_label"], df["to_status_label"],
                                                            df["households"], mask["households"]) if not hidden}
    assert shown == expected
    assert mask["households"].any()  # some flow is small enough to be suppressed
