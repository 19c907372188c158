"""The package side of the analyst notebooks (notebooks/*.py): a notebook is a thin client.

    nb = notebook.setup(period="2020Q2", region="140524", compare_period="2020Q1")
    nb.path()                    # 市 → 县 → 乡(镇) → 村: the drill path, Chinese headers
    nb.query("nb_overview")      # a SQL model of pipelines/report/sql/notebooks/ (raw codes, a DataFrame)
    nb.table("nb_overview")      # the same for display: Chinese headers and labels
    nb.bar(...), nb.line(...)    # plotly figures with Chinese axis and legend titles

`region` is a region code at any level — 4 digits the city, 6 a county, 9 a township, 12 a village —
as a string or a number (papermill's `-p region 140524` passes an int; leading zeros cannot occur:
province codes start at 11). `compare_period` (optional) adds a second quarter to every query,
and `compare` shows each figure in both quarters and the change. Every query runs through the model graph on the warehouse's
pinned snapshot; labels come from config/notebooks.toml and the policy's label set. Plotly figures
are rendered with plotly.js embedded in the notebook's outputs (RENDERER), so an exported HTML
file opens offline.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import plotly.express as px
import plotly.io as pio

from pipelines import config, params
from pipelines.graph import Graph, bind_rows
from pipelines.periods import Period
from pipelines.policy import Policy, load_policy
from pipelines.report.warehouse import Warehouse, open_warehouse

SQL_DIR = Path(__file__).parent / "sql" / "notebooks"
GRAPH = Graph(SQL_DIR)
# plotly.js embedded once in the outputs (offline HTML export) plus JupyterLab's mime renderer
RENDERER = "notebook+plotly_mimetype"
LEVELS = {4: ("city", None), 6: ("county", "county_code"), 9: ("township", "township_code"),
          12: ("village", "village_code")}
CHILD = {"city": "county", "county": "township", "township": "village", "village": None}
OWN_PARAMS = ("param_notebook",)


class Missing(Exception):
    """A query's input table is not in the warehouse (its stage has not run for these quarters)."""


def region_code(region: object) -> str:
    """The region parameter as a code string: '140524' from '140524', 140524 or ' 140524 '."""
    if isinstance(region, bool) or region is None:
        raise ValueError(f"region must be a 4/6/9/12-digit region code, got {region!r}")
    text = str(region).strip()
    if isinstance(region, float) and region.is_integer():
        text = str(int(region))
    if not text.isdigit() or len(text) not in LEVELS:
        raise ValueError(f"region must be a 4/6/9/12-digit region code (city, county, township, village), "
                         f"got {region!r}")
    return text


def region_level(region: object) -> tuple[str, str | None]:
    """Region code -> (level, column of the canonical tables): 4 digits city, 6 county, 9 township,
    12 village."""
    return LEVELS[len(region_code(region))]


def region_where(region: object, alias: str = "") -> str:
    """SQL predicate restricting a table with county/township/village codes to the region."""
    code = region_code(region)
    _, col = LEVELS[len(code)]
    return "true" if col is None else f"{alias}{col} = '{code}'"


@dataclass
class Notebook:
    """One notebook run: the pinned warehouse, its parameters and the label set."""

    wh: Warehouse
    policy: Policy
    period: str
    compare_period: str | None
    region: str
    level: str

    # ---- queries ------------------------------------------------------------------------------------
    def query(self, name: str) -> pd.DataFrame:
        """The model `name` of sql/notebooks as a DataFrame (codes as stored); Missing when a
        warehouse table it reads is absent."""
        absent = sorted(t for t in GRAPH.sources([name]) if not t.startswith("param_") and not self.wh.has(t))
        if absent:
            raise Missing(f"{name}: 缺少数据表 {', '.join(absent)}（相应阶段尚未运行）")
        GRAPH.run(self.wh.con, [name])
        return self.wh.con.execute(f"select * from {name}").df()

    def labelled(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Codes a reader sees as labels: levels, roles, measures, sources, dispositions."""
        nb = self.policy.notebooks
        out = frame.copy()
        maps = {"unit_level": nb.levels, "role": nb.roles, "measure": {**nb.measures},
                "data_source": self.policy.report.labels.get("data_source", {}),
                "disposition": nb.values, "scope": nb.values,
                "line_name": {n: self.policy.lines.label(n) for n in self.policy.lines.names}}
        for col, mapping in maps.items():
            if col in out.columns:
                out[col] = out[col].map(lambda v, m=mapping: m.get(v, v) if isinstance(v, str) else v)
        return out

    def table(self, name_or_frame: str | pd.DataFrame, columns: list[str] | None = None) -> pd.DataFrame:
        """A query (or frame) for display: the chosen columns, labels, Chinese headers."""
        frame = self.query(name_or_frame) if isinstance(name_or_frame, str) else name_or_frame
        if columns is not None:
            frame = frame[columns]
        return self.labelled(frame).rename(columns=self.policy.notebooks.columns)

    def path(self) -> pd.DataFrame:
        """The drill path and the next level down: 位置, 层级, 代码, 单位."""
        return self.table("nb_units", ["role", "unit_level", "unit_code", "unit_name"])

    def scope(self) -> pd.DataFrame:
        """What this run covers: region, level, quarters, and the region's households per quarter."""
        overview = self.query("nb_overview")
        own = overview[overview["role"] == "region"][["period", "unit_code", "unit_name", "households", "persons"]]
        return self.table(own.assign(unit_level=self.level)[["period", "unit_level", "unit_code", "unit_name",
                                                                "households", "persons"]])

    def pivot(self, frame: pd.DataFrame, columns: str, values: str, order: str | None = None,
              index: tuple[str, ...] = ("unit_order", "unit_level", "unit_code", "unit_name")) -> pd.DataFrame:
        """For display: `values` with one column per label of `columns` (in `order`), units in path order."""
        out = frame.pivot_table(index=list(index), columns=columns, values=values, aggfunc="sum")
        if order is not None:
            out = out[list(frame.sort_values(order)[columns].drop_duplicates())]
        out = out.reset_index()
        out.columns.name = None
        out = self.labelled(out)
        if "unit_order" in out.columns:
            out = out.sort_values("unit_order").drop(columns="unit_order")
        return out.rename(columns=self.policy.notebooks.columns).reset_index(drop=True)

    def compare(self, frame: pd.DataFrame, keys: list[str], values: list[str]) -> pd.DataFrame:
        """For display: each of `values` per key in the period and, with a comparison period, in it
        and the change ("未脱贫户·2020Q1", "未脱贫户·2020Q2", "未脱贫户·变化"); rows in unit order."""
        labels = self.policy.notebooks.columns
        periods = [p for p in (self.compare_period, self.period) if p]
        out = frame[frame["period"].isin(periods)].pivot_table(index=keys, columns="period", values=values,
                                                               aggfunc="sum")
        table = pd.DataFrame(index=out.index)
        for v in values:
            for p in periods:
                table[f"{labels.get(v, v)}·{p}"] = out[(v, p)] if (v, p) in out.columns else None
            if self.compare_period:
                table[f"{labels.get(v, v)}·变化"] = out[(v, self.period)] - out[(v, self.compare_period)]
        table = self.labelled(table.reset_index())
        if "unit_order" in table.columns:
            table = table.sort_values("unit_order").drop(columns="unit_order")
        return table.rename(columns=labels).reset_index(drop=True)

    # ---- charts ------------------------------------------------------------------------------------------
    def labels(self, **extra: str) -> dict[str, str]:
        return {**self.policy.notebooks.columns, **extra}

    def bar(self, frame: pd.DataFrame, x: str, y: str | list[str], title: str, *, color: str | None = None,
            y_label: str | None = None, orientation: str = "v", **kwargs):
        """A bar chart whose axes and legend carry Chinese labels (several y columns: one legend
        entry per column, named by its label)."""
        labels = {**self.labels(), **kwargs.pop("labels", {})}
        data = self.labelled(frame)
        if isinstance(y, list):
            data = data.melt(id_vars=[c for c in data.columns if c not in y], value_vars=y,
                             var_name="measure_label", value_name="value")
            data["measure_label"] = data["measure_label"].map(lambda c: labels.get(c, c))
            y, color = "value", "measure_label"
            labels = {**labels, "value": y_label or "户数"}
        elif y_label:
            labels = {**labels, y: y_label}
        xy = dict(x=y, y=x) if orientation == "h" else dict(x=x, y=y)
        fig = px.bar(data, **xy, color=color, title=title, labels=labels, barmode="group",
                     orientation=orientation, **kwargs)
        return _chinese_axes(fig, labels, xy, color)

    def line(self, frame: pd.DataFrame, x: str, y: str, title: str, *, color: str | None = None, **kwargs):
        labels = {**self.labels(), **kwargs.pop("labels", {})}
        fig = px.line(self.labelled(frame), x=x, y=y, color=color, title=title, labels=labels, markers=True, **kwargs)
        return _chinese_axes(fig, labels, {"x": x, "y": y}, color)

    def histogram(self, frame: pd.DataFrame, x: str, title: str, *, color: str | None = None, **kwargs):
        labels = {**self.labels(count="户数"), **kwargs.pop("labels", {})}
        fig = px.histogram(self.labelled(frame), x=x, color=color, title=title, labels=labels, **kwargs)
        fig.update_yaxes(title_text="户数")
        return _chinese_axes(fig, labels, {"x": x}, color)

    def sankey(self, flows: pd.DataFrame, title: str):
        """Flows (from_label, to_label, households) as a Sankey diagram: 上季度 left, 本季度 right."""
        import plotly.graph_objects as go

        left = [f"上季度·{v}" for v in flows["from_label"]]
        right = [f"本季度·{v}" for v in flows["to_label"]]
        nodes = list(dict.fromkeys(left + right))
        fig = go.Figure(go.Sankey(node={"label": nodes},
                                  link={"source": [nodes.index(v) for v in left],
                                        "target": [nodes.index(v) for v in right],
                                        "value": flows["households"].tolist()}))
        fig.update_layout(title_text=title)
        return fig


def _chinese_axes(fig, labels: dict[str, str], xy: dict[str, str], color: str | None):
    """Axis and legend titles from the labels (px leaves a raw column name where none is given)."""
    if "x" in xy:
        fig.update_xaxes(title_text=labels.get(xy["x"], xy["x"]))
    if "y" in xy:
        fig.update_yaxes(title_text=labels.get(xy["y"], xy["y"]))
    if color is not None:
        fig.update_layout(legend_title_text=labels.get(color, color))
    return fig


def bind(nb: Notebook) -> None:
    """The parameter tables of the notebook models on the warehouse connection."""
    con, policy = nb.wh.con, nb.policy
    level = nb.level
    bind_rows(con, "param_notebook", {"period": "varchar", "compare_period": "varchar", "region_code": "varchar",
                                      "region_level": "varchar", "child_level": "varchar", "city_code": "varchar",
                                      "city_name": "varchar"},
              [(nb.period, nb.compare_period, nb.region, level, CHILD[level], policy.city.code, policy.city.name)])
    names = {s for s in GRAPH.sources(list(GRAPH.models)) if s.startswith("param_") and s not in OWN_PARAMS}
    params.bind(con, policy, names, period=nb.period)


def setup(period: str, region: object = None, data_dir: str | None = None, compare_period: str | None = None,
          policy: Policy | None = None) -> Notebook:
    """Open the warehouse of data_dir/processed (default: pipelines.config, honours $POVMON_DATA) up
    to the later of the two quarters, bind the parameters, set the offline plotly renderer."""
    pio.renderers.default = RENDERER
    period = str(Period.parse(period))
    compare = str(Period.parse(compare_period)) if compare_period else None
    policy = policy or load_policy()
    code = region_code(region if region is not None else policy.city.code)
    if not code.startswith(policy.city.code):
        raise ValueError(f"region {code} is not in {policy.city.name} ({policy.city.code})")
    processed = Path(data_dir) / "processed" if data_dir else config.PROCESSED_DIR
    wh = open_warehouse(processed, upto=max(period, compare or period))
    nb = Notebook(wh, policy, period, compare, code, LEVELS[len(code)][0])
    bind(nb)
    return nb
