"""Plotly figures of the quarterly summary, shared with the notebooks. Each takes the (small)
DataFrame a report query returns and gives a go.Figure with Chinese labels and a CJK font."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from pipelines.policy import load_policy

COLOURS = ["#1f4e79", "#c0392b", "#e67e22", "#27ae60", "#8e44ad", "#16a085", "#7f8c8d"]


def _layout(fig: go.Figure, title: str, cfg: dict | None = None, **extra) -> go.Figure:
    cfg = cfg or load_policy().raw("report")["figures"]
    fig.update_layout(title={"text": title, "x": 0.01}, template="plotly_white",
                      font={"family": cfg["font_family"], "size": 13},
                      width=cfg["width"], height=cfg["height"], margin={"l": 60, "r": 20, "t": 60, "b": 60},
                      legend={"orientation": "h", "y": -0.18}, **extra)
    return fig


def _label(v) -> str:
    """Bar text: blank for a suppressed (NaN) count."""
    return "" if v is None or v != v else f"{v:,.0f}"


def incidence_trend(df: pd.DataFrame) -> go.Figure:
    """Lines of incidence by quarter: registry (no CI) and survey at each line (95% CI bars)."""
    fig = go.Figure()
    for i, ((_, _), g) in enumerate(df.groupby(["data_source", "line_name"], sort=True)):
        g = g.sort_values("period")
        label = f"{g['data_source_label'].iloc[0]}·{g['line_label'].iloc[0]}"
        err = None
        if g["ci_high"].notna().any():
            err = {"type": "data", "array": (g["ci_high"] - g["estimate"]) * 100,
                   "arrayminus": (g["estimate"] - g["ci_low"]) * 100, "visible": True}
        fig.add_trace(go.Scatter(x=g["period"], y=g["estimate"] * 100, mode="lines+markers", name=label,
                                 error_y=err, line={"color": COLOURS[i % len(COLOURS)]},
                                 hovertemplate="%{x} %{y:.2f}%<extra>" + label + "</extra>"))
    return _layout(fig, "贫困发生率(%)：登记口径与抽样调查口径(误差线为95%置信区间)",
                   yaxis={"title": "贫困发生率(%)", "rangemode": "tozero"}, xaxis={"title": "季度", "type": "category"})


def county_bars(df: pd.DataFrame, value_cols: dict[str, str], title: str, y_title: str) -> go.Figure:
    """Grouped bars by county (totals row dropped); value_cols {column: legend label}."""
    body = df[df["is_total"] == 0]
    fig = go.Figure([go.Bar(x=body["county_name"], y=body[c], name=label, marker_color=COLOURS[i % len(COLOURS)],
                            text=[_label(v) for v in body[c]], textposition="outside")
                     for i, (c, label) in enumerate(value_cols.items())])
    return _layout(fig, title, barmode="group", yaxis={"title": y_title}, xaxis={"title": "县(市、区)"})


def stacked_by_county(df: pd.DataFrame, category: str, value: str, title: str, y_title: str,
                      order: str = "sort_order") -> go.Figure:
    """Stacked bars by county, one colour per category (e.g. gap dimension, risk level)."""
    body = df[df["is_total"] == 0].sort_values(["county_code", order])
    fig = go.Figure()
    for i, (cat, g) in enumerate(body.groupby(category, sort=False)):
        fig.add_trace(go.Bar(x=g["county_name"], y=g[value], name=str(cat), marker_color=COLOURS[i % len(COLOURS)]))
    return _layout(fig, title, barmode="stack", yaxis={"title": y_title}, xaxis={"title": "县(市、区)"})


def gap_progress(df: pd.DataFrame, deadline: str | None) -> go.Figure:
    """Open gaps per dimension by quarter: the way to 清零 before the deadline (suppressed = gap)."""
    fig = go.Figure()
    for i, (label, g) in enumerate(df.sort_values(["sort_order", "period"]).groupby("dimension_label", sort=False)):
        fig.add_trace(go.Scatter(x=g["period"], y=g["households"], mode="lines+markers", name=label,
                                 line={"color": COLOURS[i % len(COLOURS)]}))
    title = "两不愁三保障及饮水未保障户数变化(目标：清零)"
    if deadline:
        title += f"，下一时限 {deadline}"
    return _layout(fig, title, yaxis={"title": "未保障户数(户)", "rangemode": "tozero"},
                   xaxis={"title": "季度", "type": "category"})


def transition_sankey(df: pd.DataFrame) -> go.Figure:
    """Sankey of households between poverty statuses, previous quarter -> this quarter; a flow
    whose count is suppressed (NaN) is left out."""
    prev = df["previous_period"].iloc[0] if len(df) else ""
    df = df[df["households"].notna()]
    left = sorted(set(df["from_status_label"]))
    right = sorted(set(df["to_status_label"]))
    nodes = [f"{prev} {s}" for s in left] + [f"本季度 {s}" for s in right]
    fig = go.Figure(go.Sankey(
        node={"label": nodes, "pad": 14, "thickness": 16, "color": "#1f4e79"},
        link={"source": [left.index(s) for s in df["from_status_label"]],
              "target": [len(left) + right.index(s) for s in df["to_status_label"]],
              "value": df["households"].tolist()}))
    return _layout(fig, f"脱贫状态变动(户)：{prev} → 本季度")


def horizontal_bars(df: pd.DataFrame, label: str, value: str, title: str, x_title: str) -> go.Figure:
    d = df.sort_values(value)
    fig = go.Figure(go.Bar(y=d[label], x=d[value], orientation="h", marker_color=COLOURS[0],
                           text=[_label(v) for v in d[value]],
                           textposition="outside"))
    return _layout(fig, title, xaxis={"title": x_title}, yaxis={"title": ""})


def from_spec(chart: str, df: pd.DataFrame, *, title: str = "", y_title: str = "", series: dict | None = None,
              category: str = "", value: str = "") -> go.Figure:
    """The figure a config/report.toml [[sections.figures]] entry names, on its table's frame."""
    if chart == "incidence_trend":
        return incidence_trend(df)
    if chart == "county_bars":
        return county_bars(df, series or {}, title, y_title)
    if chart == "stacked_by_county":
        return stacked_by_county(df, category, value, title, y_title)
    if chart == "gap_progress":
        deadlines = df["next_deadline"].dropna()
        return gap_progress(df, str(pd.Timestamp(deadlines.iloc[0]).date()) if len(deadlines) else None)
    if chart == "transition_sankey":
        return transition_sankey(df)
    if chart == "horizontal_bars":
        return horizontal_bars(df, category, value, title, y_title)
    raise ValueError(f"unknown chart {chart!r}")
