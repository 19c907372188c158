# %% [markdown]
# # 2. 贫困发生率与 FGT 指数
# 三条标准下的 FGT(P0 发生率、P1 贫困深度、P2 贫困强度)、标准敏感性曲线、分组剖面和抽样调查置信区间。
# 登记口径无抽样误差；抽样调查口径附 95% 置信区间。

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
fgt = wh.con.execute(
    """select data_source, line_name, measure, estimate, ci_low, ci_high from measures
       where period = ? and region_code = ? and population_group = 'all'
         and measure in ('fgt0', 'fgt1', 'fgt2') and line_name in (select line_name from report_lines)
       order by data_source, line_name, measure""", [period, region_code]).df()
fgt

# %% [markdown]
# ## 敏感性曲线：标准在省定指导线的 50%–200% 之间变化时的 P0

# %%
sens = wh.con.execute(
    """select line_value, estimate from measures where period = ? and region_code = ? and data_source = 'registry'
       and measure = 'fgt0' and line_name like '%_pct_%' order by line_value""", [period, region_code]).df()
px.line(sens, x="line_value", y="estimate", markers=True,
        labels={"line_value": "标准(元/人/年)", "estimate": "P0"}, title="P0 对标准的敏感性(登记口径)")

# %% [markdown]
# ## 分组剖面(全市)

# %%
profile = wh.con.execute(
    """select population_group, line_name, measure, estimate from measures where period = ?
       and region_level = 'city' and population_group like '%=%' and line_name = 'provincial_guideline'""",
    [period]).df()
px.bar(profile[profile["measure"] == "fgt0"], x="population_group", y="estimate", title="分组 P0(省定指导线)")

# %% [markdown]
# ## 趋势与抽样调查置信区间

# %%
charts.incidence_trend(queries.query(wh, "incidence_trend"))
