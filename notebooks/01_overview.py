# %% [markdown]
# # 1. 季度概览：全市 → 县 → 乡镇
# 本季度一览：剩余未脱贫、低于省定指导线、两不愁三保障缺口、风险等级。`region` 为区划代码(字符串)：
# 4 位全市、6 位县、9 位乡镇；下钻时改 `region` 即可。数据只读自数据仓库(data/processed)。

# %% tags=["parameters"]
period = "2020Q2"
region = "1405"
data_dir = None  # None: pipelines.config (honours $POVMON_DATA)

# %%
import pandas as pd
import plotly.express as px

from pipelines.measures.nodes import format_incidence
from pipelines.report import charts, notebook, queries

wh = notebook.setup(period, data_dir)
level, _ = notebook.region_level(region)
where = notebook.region_where(region)
print(f"{period} · {level} {region}; tables: {sorted(wh.tables)}")

# %% [markdown]
# ## 贫困发生率(登记口径)：本级及下一级

# %%
child = {"city": "county", "county": "township", "township": "village", "village": "village"}[level]
inc = wh.con.execute(
    """select region_level, region_code, region_name, measure, estimate, n_weighted
       from measures where period = ? and data_source = 'registry'
         and measure in ('incidence_administrative', 'poor_persons_administrative')
         and (region_code = ? or (region_level = ? and starts_with(region_code, ?)))""",
    [period, region, child, region if level != "city" else ""]).df()
wide = inc.pivot_table(index=["region_level", "region_code", "region_name"], columns="measure", values="estimate").reset_index()
wide["贫困发生率"] = wide["incidence_administrative"].map(format_incidence)
wide

# %% [markdown]
# ## 下一级单位：未脱贫户与人、低于指导线户、风险户

# %%
col = {"county": "county_code", "township": "township_code", "village": "village_code"}[child]
by_unit = wh.con.execute(f"""
    select r.{col} as code, coalesce(n.name, r.{col}) as name,
           count(*) filter (where r.poverty_status in (select code from poor_statuses)) as poor_households,
           count(*) filter (where r.below_guideline) as below_guideline_households,
           count(*) filter (where r.risk_level = 'high') as high_risk_households
    from risk as r left join region_names as n on n.code = r.{col}
    where r.period = ? and {where}
    group by 1, 2 order by 1""", [period]).df()
px.bar(by_unit, x="name", y=["poor_households", "below_guideline_households", "high_risk_households"],
       barmode="group", title=f"{region} 下一级单位概览(户)")

# %% [markdown]
# ## 两不愁三保障缺口(全市，按县)

# %%
gaps = queries.query(wh, "gaps_by_county")
charts.stacked_by_county(gaps, "dimension_label", "households", "两不愁三保障及饮水未保障户(按县)", "户")
