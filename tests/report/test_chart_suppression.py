"""Public audience: every chart of summary.html shows what its table publishes. A shown count is
drawn at its value; a withheld count ("<5" primary, "x" complementary) is never drawn at its value
and never left blank: a hatched band marks it, over the interval the published table allows.
(Figure JSON read out of the page.)"""

from __future__ import annotations

import base64
import json
import math
import re

import numpy as np
import pytest

from pipelines.report import queries
from pipelines.report.publish import SHOWN
from pipelines.report.spec import Report
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
    "crosscheck": ("crosscheck_by_county", "county_name", ("rule_label", "findings")),
}
NO_COUNTS = {"incidence_trend", "quality"}  # rates, and row counts by reason (its table withholds none)
NO_COUNTS |= {"tasks_by_unit"}  # problems per responsible unit (not households: nothing withheld)
BAND = "不公开(区间)"


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
    """{table: (query result, protection codes, chart frame)} exactly as the public report has them."""
    wh = open_warehouse(report_warehouse, upto=PERIOD)
    try:
        queries.bind_params(wh, PERIOD)
        r = Report(wh, PERIOD, audience="public")
        return {name: (r.data(name), r.codes(name), r.chart_frame(name))
                for name in {t for t, _x, _m in BAR_CHARTS.values()} | {"transition_sankey"}}
    finally:
        wh.close()


def _cells(df, codes, x_col, mapping):
    """(trace name, x) -> (value, withheld?) for the non-total rows."""
    body = df[df["is_total"] == 0] if "is_total" in df.columns else df
    out = {}
    for i, row in body.iterrows():
        pairs = mapping.items() if isinstance(mapping, dict) else [(str(row[mapping[0]]), mapping[1])]
        for trace, col in pairs:
            out[(trace, str(row[x_col]))] = (float(row[col]), bool(codes.at[i, col] != SHOWN))
    return out


def test_no_chart_shows_a_withheld_count_and_none_leaves_it_blank(public_out, tables):
    out, _summary = public_out
    figs = figures((out / "summary.html").read_text(encoding="utf-8"))
    assert set(figs) == set(BAR_CHARTS) | NO_COUNTS | {"transition_sankey"}
    withheld_total = 0
    for key, (table, x_col, mapping) in BAR_CHARTS.items():
        df, codes, _frame = tables[table]
        cells = _cells(df, codes, x_col, mapping)
        shown, bands = {}, {}
        legend_of = {}
        for trace in figs[key]:
            if trace["name"] == BAND:
                continue
            legend_of[trace.get("offsetgroup")] = trace["name"]
            for x, y in zip(_array(trace["x"]), _array(trace["y"])):
                if not (y is None or (isinstance(y, float) and math.isnan(y))):
                    shown[(trace["name"], str(x))] = y
            for text in trace.get("text") or []:
                assert not (text and 0 < float(text.replace(",", "")) < 5), (key, text)
        for trace in figs[key]:
            if trace["name"] != BAND:
                continue
            name = legend_of.get(trace.get("offsetgroup"))
            xs = _array(trace["x"])
            if trace.get("type") == "scatter":  # gap_progress: a marked interval per withheld point
                name = None
            for x, text in zip(xs, trace["text"]):
                bands.setdefault(str(x), []).append((name, text))
        for (trace, x), (value, withheld) in cells.items():
            if withheld:
                withheld_total += 1
                assert (trace, x) not in shown, (key, trace, x)  # never at its value
                marks = bands.get(x, [])
                assert any(n in (trace, None) and t.startswith(("<5", "x")) for n, t in marks), (key, trace, x)
            else:
                assert shown.get((trace, x)) == value, (key, trace, x)
    assert withheld_total >= 3  # the small city has small cells in its charts: the check bites


def test_a_band_covers_the_withheld_value_and_only_what_the_table_allows(tables):
    """The interval drawn is what a reader can work out anyway, and it holds the true value."""
    for table, (df, codes, frame) in tables.items():
        for col in [c for c in codes.columns if f"{c}__lo" in frame.columns]:
            for i in frame.index[frame[f"{col}__mark"].notna()]:
                lo, hi, true = frame.at[i, f"{col}__lo"], frame.at[i, f"{col}__hi"], float(df.at[i, col])
                assert lo <= true, (table, col, i)
                assert math.isnan(hi) or true <= hi, (table, col, i)
                if frame.at[i, f"{col}__mark"] == "<5":
                    assert (lo, hi) == (1.0, 4.0)


def test_the_sankey_folds_stable_flows_and_marks_withheld_ones(public_out, tables):
    out, _summary = public_out
    (trace,) = figures((out / "summary.html").read_text(encoding="utf-8"))["transition_sankey"]
    df, codes, frame = tables["transition_sankey"]
    labels = trace["node"]["label"]
    drawn = {(labels[s].split(" ", 1)[1], labels[t].split(" ", 1)[1]): (v, c)
             for s, t, v, c in zip(_array(trace["link"]["source"]), _array(trace["link"]["target"]),
                                   _array(trace["link"]["value"]), trace["link"]["customdata"])}
    for i, row in df.iterrows():
        key = (row["from_status_label"], row["to_status_label"])
        if row["from_status"] == row["to_status"]:
            assert key not in drawn  # stable households are named in the title, not drawn
            continue
        value, label = drawn[key]
        if codes.at[i, "households"] != SHOWN:
            lo, hi = frame.at[i, "households__lo"], frame.at[i, "households__hi"]
            assert "不公开" in label and value == ((lo + hi) / 2 if hi == hi else lo)  # the band, not the count
        else:
            assert value == row["households"]
    assert (codes["households"] != SHOWN).any()  # some flow is small enough to be withheld


def test_internal_charts_show_exact_counts(report_out, tables):
    out, _summary = report_out
    figs = figures((out / "summary.html").read_text(encoding="utf-8"))
    assert not any(t.get("name") == BAND for traces in figs.values() for t in traces)
    df, _codes, _frame = tables["poor_by_county"]
    body = df[df["is_total"] == 0]
    (households, _persons) = figs["poor_by_county"]
    assert _array(households["y"]) == body["poor_households"].astype(float).tolist()
    assert any(0 < v < 5 for v in _array(households["y"]))  # small counts drawn exactly for the office
