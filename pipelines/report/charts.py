"""Plotly figures of the quarterly summary, shared with the notebooks. Each takes the (small)
DataFrame a report query returns and gives a go.Figure with Chinese labels and a CJK font.

In the public audience a withheld count arrives as NaN with `<col>__lo`, `<col>__hi`, `<col>__mark`
(Report.chart_frame): it is drawn as a hatched band over the interval a reader can work out from
the published table anyway (1–4 for "<5"; from 5 up to what the total leaves for "x", open-ended
when the total is withheld too), labelled with its mark — never as a gap."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from pipelines.policy import load_policy

COLOURS = ["#1f4e79", "#c0392b", "#e67e22", "#27ae60", "#8e44ad", "#16a085", "#7f8c8d"]
DASHES = ["solid", "dash", "dot", "dashdot", "longdash", "longdashdot"]
SYMBOLS = ["circle", "square", "diamond", "triangle-up", "cross", "x", "star"]
BAND = "不公开(区间)"


def _layout(fig: go.Figure, title: str, cfg: dict | None = None, **extra) -> go.Figure:
    cfg = cfg or load_policy().raw("report")["figures"]
    settings = {"width": cfg["width"], "height": cfg["height"], "margin": {"l": 60, "r": 20, "t": 60, "b": 60},
                "legend": {"orientation": "h", "y": -0.18}, **extra}
    fig.update_layout(title={"text": title, "x": 0.01}, template="plotly_white",
                      font={"family": cfg["font_family"], "size": 13}, **settings)
    return fig


def _label(v) -> str:
    """Bar text: blank for a withheld (NaN) count (its band carries the mark)."""
    return "" if v is None or v != v else f"{v:,.0f}"


def _withheld(df: pd.DataFrame, col: str) -> pd.DataFrame:
    """Rows whose `col` is withheld, with lo/hi (hi filled for open intervals) and mark."""
    if f"{col}__mark" not in df.columns:
        return df.iloc[0:0]
    rows = df[df[f"{col}__mark"].notna()].copy()
    if not len(rows):
        return rows
    shown = pd.to_numeric(df[col], errors="coerce").max()
    top = shown if shown == shown and shown is not None else 0.0
    lo = rows[f"{col}__lo"].astype(float)
    hi = rows[f"{col}__hi"].astype(float)
    rows["_lo"] = lo
    rows["_open"] = hi.isna()
    rows["_hi"] = hi.where(hi.notna(), lo.combine(pd.Series(top, index=lo.index), max) * 1.0 + 1.0)
    rows["_hi"] = rows[["_lo", "_hi"]].max(axis=1)
    rows["_text"] = [f"{m}" + ("(≥" + f"{lo_:,.0f})" if op and m != "" else "")
                     for m, lo_, op in zip(rows[f"{col}__mark"], rows["_lo"], rows["_open"])]
    return rows


def _band_trace(x, rows: pd.DataFrame, colour: str, group: str, legend: bool, orientation: str = "v") -> go.Bar:
    size = (rows["_hi"] - rows["_lo"]).clip(lower=0.5)
    return go.Bar(x=x, y=size, base=rows["_lo"], offsetgroup=group, name=BAND, legendgroup="band", showlegend=legend,
                  marker={"color": "rgba(255,255,255,0)", "line": {"color": colour, "width": 1},
                          "pattern": {"shape": "/", "fgcolor": colour, "size": 6}},
                  text=rows["_text"], textposition="outside", orientation=orientation,
                  hovertemplate="%{x}：%{text}(不公开，区间 %{base:,.0f}–%{customdata:,.0f})<extra></extra>",
                  customdata=rows["_hi"])


def incidence_trend(df: pd.DataFrame, cfg: dict | None = None) -> go.Figure:
    """Lines of incidence by quarter: registry (no interval: no sampling error) and survey at each
    line (95% CI bars); each line its own dash and marker, so lines at one value stay apart."""
    fig = go.Figure()
    for i, ((_, _), g) in enumerate(df.groupby(["data_source", "line_name"], sort=True)):
        g = g.sort_values("period")
        label = f"{g['data_source_label'].iloc[0]}·{g['line_label'].iloc[0]}"
        err = None
        if g["ci_high"].notna().any():
            err = {"type": "data", "array": (g["ci_high"] - g["estimate"]) * 100,
                   "arrayminus": (g["estimate"] - g["ci_low"]) * 100, "visible": True}
        fig.add_trace(go.Scatter(x=g["period"], y=g["estimate"] * 100, mode="lines+markers", name=label,
                                 error_y=err, line={"color": COLOURS[i % len(COLOURS)], "dash": DASHES[i % len(DASHES)]},
                                 marker={"symbol": SYMBOLS[i % len(SYMBOLS)], "size": 8},
                                 hovertemplate="%{x} %{y:.2f}%<extra>" + label + "</extra>"))
    return _layout(fig, "贫困发生率(%)：登记口径与抽样调查口径(误差线为95%置信区间；登记口径无抽样误差)", cfg,
                   yaxis={"title": "贫困发生率(%)", "rangemode": "tozero"}, xaxis={"title": "季度", "type": "category"},
                   hovermode="x unified")


def county_bars(df: pd.DataFrame, value_cols: dict[str, str], title: str, y_title: str,
                cfg: dict | None = None) -> go.Figure:
    """Grouped bars by county (totals row dropped); value_cols {column: legend label}."""
    body = df[df["is_total"] == 0]
    fig = go.Figure()
    legend = True
    for i, (c, label) in enumerate(value_cols.items()):
        colour = COLOURS[i % len(COLOURS)]
        fig.add_trace(go.Bar(x=body["county_name"], y=body[c], name=label, marker_color=colour, offsetgroup=str(i),
                             text=[_label(v) for v in body[c]], textposition="outside"))
        band = _withheld(body, c)
        if len(band):
            fig.add_trace(_band_trace(band["county_name"], band, colour, str(i), legend))
            legend = False
    return _layout(fig, title, cfg, barmode="group", yaxis={"title": y_title}, xaxis={"title": "县(市、区)"})


def grouped_by_county(df: pd.DataFrame, category: str, value: str, title: str, y_title: str,
                      order: str = "sort_order", cfg: dict | None = None) -> go.Figure:
    """Grouped bars by county, one colour per category (gap dimension, risk level, destination);
    withheld counts as marked bands."""
    body = df[df["is_total"] == 0].sort_values(["county_code", order])
    fig = go.Figure()
    legend = True
    for i, (cat, g) in enumerate(body.groupby(category, sort=False)):
        colour = COLOURS[i % len(COLOURS)]
        fig.add_trace(go.Bar(x=g["county_name"], y=g[value], name=str(cat), marker_color=colour, offsetgroup=str(i)))
        band = _withheld(g, value)
        if len(band):
            fig.add_trace(_band_trace(band["county_name"], band, colour, str(i), legend))
            legend = False
    return _layout(fig, title, cfg, barmode="group", yaxis={"title": y_title}, xaxis={"title": "县(市、区)"})


def stacked_by_county(df: pd.DataFrame, category: str, value: str, title: str, y_title: str,
                      order: str = "sort_order") -> go.Figure:
    """Stacked bars by county, one colour per category (the notebooks' exact counts)."""
    body = df[df["is_total"] == 0].sort_values(["county_code", order])
    fig = go.Figure()
    for i, (cat, g) in enumerate(body.groupby(category, sort=False)):
        fig.add_trace(go.Bar(x=g["county_name"], y=g[value], name=str(cat), marker_color=COLOURS[i % len(COLOURS)]))
    return _layout(fig, title, barmode="stack", yaxis={"title": y_title}, xaxis={"title": "县(市、区)"})


def gap_progress(df: pd.DataFrame, deadline: str | None, cfg: dict | None = None) -> go.Figure:
    """Open gaps per dimension by quarter: the way to 清零. Each dimension has its own dash and
    marker (lines at one value stay apart); a withheld count is a marked interval."""
    fig = go.Figure()
    legend = True
    for i, (label, g) in enumerate(df.sort_values(["sort_order", "period"]).groupby("dimension_label", sort=False)):
        colour = COLOURS[i % len(COLOURS)]
        fig.add_trace(go.Scatter(x=g["period"], y=g["households"], mode="lines+markers", name=label,
                                 line={"color": colour, "dash": DASHES[i % len(DASHES)]},
                                 marker={"symbol": SYMBOLS[i % len(SYMBOLS)], "size": 9}))
        band = _withheld(g, "households")
        if len(band):
            mid = (band["_lo"] + band["_hi"]) / 2
            fig.add_trace(go.Scatter(
                x=band["period"], y=mid, mode="markers+text", name=BAND, legendgroup="band", showlegend=legend,
                text=band["_text"], textposition="middle right",
                marker={"symbol": "line-ew", "size": 14, "color": colour, "line": {"color": colour, "width": 2}},
                error_y={"type": "data", "symmetric": False, "array": band["_hi"] - mid, "arrayminus": mid - band["_lo"],
                         "color": colour, "thickness": 6, "width": 8},
                hovertemplate=f"{label} %{{x}}：%{{text}}(不公开)<extra></extra>"))
            legend = False
    title = "两不愁三保障及饮水未保障户数变化(目标：清零)"
    if deadline:
        title += f"，下一时限 {deadline}"
    return _layout(fig, title, cfg, yaxis={"title": "未保障户数(户)", "rangemode": "tozero"},
                   xaxis={"title": "季度", "type": "category"}, hovermode="x unified")


def transition_sankey(df: pd.DataFrame, fold_stable: bool = False, cfg: dict | None = None) -> go.Figure:
    """Sankey of households between poverty statuses, previous quarter -> this quarter. With
    fold_stable, households whose status did not change are not drawn (they would be the whole
    picture) but named under the title; a withheld flow is drawn grey, labelled with its mark."""
    prev = df["previous_period"].iloc[0] if len(df) else ""
    stable = df[df["from_status"] == df["to_status"]] if fold_stable else df.iloc[0:0]
    moved = df.drop(stable.index)
    left = sorted(set(moved["from_status_label"]))
    right = sorted(set(moved["to_status_label"]))
    nodes = [f"{prev} {s}" for s in left] + [f"本季度 {s}" for s in right]
    marks = moved["households__mark"] if "households__mark" in moved.columns else pd.Series(None, index=moved.index)
    values, colours, labels = [], [], []
    for (_, row), mark in zip(moved.iterrows(), marks):
        if isinstance(mark, str):
            lo, hi = row["households__lo"], row["households__hi"]
            values.append((float(lo) + float(hi)) / 2 if hi == hi else float(lo))  # the band's middle
            colours.append("rgba(127,127,127,0.55)")
            labels.append(f"{mark}(不公开)")
        else:
            values.append(float(row["households"]))
            colours.append("rgba(31,78,121,0.35)")
            labels.append(f"{row['households']:,.0f}户")
    fig = go.Figure(go.Sankey(
        node={"label": nodes, "pad": 14, "thickness": 16, "color": "#1f4e79"},
        link={"source": [left.index(s) for s in moved["from_status_label"]],
              "target": [len(left) + right.index(s) for s in moved["to_status_label"]],
              "value": values, "color": colours, "customdata": labels,
              "hovertemplate": "%{source.label} → %{target.label}：%{customdata}<extra></extra>"}))
    title = f"脱贫状态变动(户)：{prev} → 本季度"
    top = 60
    if len(stable):
        kept = [f"{r['from_status_label']}{_stable_count(r)}户" for _, r in stable.iterrows()]
        lines = ["、".join(kept[i:i + 3]) for i in range(0, len(kept), 3)]
        title += "<br><sup>状态未变、未画出：" + "<br>".join(lines) + "</sup>"
        top += 20 * len(lines)
    return _layout(fig, title, cfg, margin={"l": 20, "r": 20, "t": top, "b": 20})


def _stable_count(row) -> str:
    mark = row.get("households__mark")
    return mark if isinstance(mark, str) else f"{row['households']:,.0f}"


def horizontal_bars(df: pd.DataFrame, label: str, value: str, title: str, x_title: str,
                    cfg: dict | None = None) -> go.Figure:
    d = df.sort_values(value)
    fig = go.Figure(go.Bar(y=d[label], x=d[value], orientation="h", marker_color=COLOURS[0],
                           text=[_label(v) for v in d[value]],
                           textposition="outside"))
    return _layout(fig, title, cfg, xaxis={"title": x_title}, yaxis={"title": ""},
                   height=max(300, 120 + 26 * len(d)))


def from_spec(chart: str, df: pd.DataFrame, *, title: str = "", y_title: str = "", series: dict | None = None,
              category: str = "", value: str = "", fold: bool = False, config: dict | None = None) -> go.Figure:
    """The figure a config/report.toml [[sections.figures]] entry names, on its table's frame."""
    if chart == "incidence_trend":
        return incidence_trend(df, config)
    if chart == "county_bars":
        return county_bars(df, series or {}, title, y_title, config)
    if chart == "grouped_by_county":
        return grouped_by_county(df, category, value, title, y_title, cfg=config)
    if chart == "gap_progress":
        deadlines = df.loc[df["period"] == df["period"].max(), "next_deadline"].dropna()
        deadline = str(pd.Timestamp(deadlines.iloc[0]).date()) if len(deadlines) else None
        return gap_progress(df, deadline, config)
    if chart == "transition_sankey":
        return transition_sankey(df, fold_stable=fold, cfg=config)
    if chart == "horizontal_bars":
        return horizontal_bars(df, category, value, title, y_title, config)
    raise ValueError(f"unknown chart {chart!r}")
