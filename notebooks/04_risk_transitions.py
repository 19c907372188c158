# %% [markdown]
# # 4. 风险与季度变动
# 临界户(监测线以下)、风险原因、上季度到本季度的状态流动(桑基图)。

# %% tags=["parameters"]
period = "2020Q2"
region = "1405"
data_dir = None

# %%
import plotly.express as px

from pipelines.report import charts, notebook, queries

wh = notebook.setup(period, data_dir)
where = notebook.region_where(region)

# %% [markdown]
# ## 临界户：收入与监测线之比

# %%
near = wh.con.execute(f"""select household_key, county_code, township_code, income_per_capita, ratio_monitoring,
       risk_level_label, reasons_text from risk where period = ? and {where} and below_monitoring
       order by ratio_monitoring""", [period]).df()
print(f"监测线以下 {len(near)} 户")
px.histogram(near, x="ratio_monitoring", nbins=20, title="人均纯收入 ÷ 监测线(监测线以下户)")

# %% [markdown]
# ## 风险原因

# %%
reasons = wh.con.execute(f"""select reason, count(*) as households from
       (select unnest(reasons) as reason from risk where period = ? and {where}) group by 1 order by 2 desc""",
       [period]).df()
charts.horizontal_bars(reasons, "reason", "households", "风险原因(户，可多选)", "户")

# %% [markdown]
# ## 状态流动

# %%
sankey = queries.query(wh, "transition_sankey")
charts.transition_sankey(sankey) if len(sankey) else print("无上季度数据")

# %%
queries.query(wh, "transition_flows")
