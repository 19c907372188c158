# %% [markdown]
# # 3. 两不愁三保障与饮水安全
# 各维度缺口、多维贫困指数(Alkire–Foster：H、A、M0)及各维度贡献。

# %% tags=["parameters"]
period = "2020Q2"
region = "1405"
data_dir = None

# %%
import plotly.express as px

from pipelines.report import charts, notebook, queries

wh = notebook.setup(period, data_dir)
level, _ = notebook.region_level(region)
region_code = region if level in ("city", "county") else region[:6]

# %%
gaps = queries.query(wh, "gaps_by_county")
charts.stacked_by_county(gaps, "dimension_label", "households", "未保障户(按县、维度)", "户")

# %%
charts.gap_progress(queries.query(wh, "gap_progress"), None)

# %% [markdown]
# ## 多维贫困指数与贡献

# %%
af = wh.con.execute(
    """select line_name as k, measure, estimate from measures where period = ? and region_code = ?
       and (measure in ('af_H', 'af_A', 'af_M0') or measure like 'af_contribution.%') order by k, measure""",
    [period, region_code]).df()
af

# %%
contrib = af[af["measure"].str.startswith("af_contribution.")].assign(
    indicator=lambda d: d["measure"].str.removeprefix("af_contribution."))
px.bar(contrib, x="k", y="estimate", color="indicator", title="各维度对 M0 的贡献")
