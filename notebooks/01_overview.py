# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 1. 季度概览：市 → 县 → 乡(镇) → 村
# 本季度一览：在册户、未脱贫、低于省定指导线、高风险、监测户、两不愁三保障或饮水未保障。
#
# 参数：`period` 季度（如 "2020Q2"）；`region` 区划代码，4 位市、6 位县、9 位乡(镇)、12 位村（字符串或数字均可，
# 如 papermill `-p region 140524` 或 `-r region 140524`）；`compare_period` 对比季度（如 "2020Q1"，None 不对比）；
# `data_dir` 数据目录（None：pipelines.config，可用 $POVMON_DATA）。下钻时改 `region` 即可。
# 查询在 pipelines/report/sql/notebooks/，本笔记本只负责展示。

# %% tags=["parameters"]
period = "2020Q2"
region = "1405"
compare_period = None
data_dir = None

# %%
from pipelines.report import notebook

nb = notebook.setup(period, region, data_dir, compare_period)
nb.scope()

# %% [markdown]
# ## 下钻路径：上级、本级与下一级单位

# %%
nb.path()

# %% [markdown]
# ## 各级单位概览（户、人）

# %%
overview = nb.query("nb_overview")
COLUMNS = ["unit_level", "unit_code", "unit_name", "households", "persons", "poor_households", "poor_persons",
           "below_guideline_households", "high_risk_households", "monitored_households", "gap_households"]
nb.table(overview[overview["period"] == period], COLUMNS)

# %% [markdown]
# ## 与对比期相比（未设 `compare_period` 时只列本期）

# %%
nb.compare(overview, ["unit_order", "unit_level", "unit_code", "unit_name"],
           ["poor_households", "below_guideline_households", "high_risk_households", "gap_households"])

# %% [markdown]
# ## 下一级单位（村级时为本村）

# %%
shown = overview[(overview["period"] == period) & (overview["role"] == ("region" if nb.level == "village" else "child"))]
nb.bar(shown, "unit_name", ["poor_households", "below_guideline_households", "high_risk_households", "gap_households"],
       f"{period} 下一级单位概览", y_label="户数")
