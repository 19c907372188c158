# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 4. 风险与季度变动
# 风险等级沿 市 → 县 → 乡(镇) → 村 下钻；本区域的风险原因、监测线以下的临界户，以及上季度到本季度的状态流动（桑基图）。
#
# 参数同 01：`period`、`region`（4/6/9/12 位区划代码）、`compare_period`（可选）、`data_dir`。

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
# ## 风险等级：各级单位

# %%
levels = nb.query("nb_risk_levels")
now = levels[levels["period"] == period]
nb.pivot(now, "risk_level_label", "households", order="level_order")

# %%
nb.compare(levels[levels["role"] != "child"], ["unit_order", "unit_level", "unit_code", "unit_name",
                                              "risk_level_label"], ["households"])

# %%
shown = now[(now["role"] == ("region" if nb.level == "village" else "child")) & (now["risk_level"] != "none")]
nb.bar(shown, "unit_name", "households", f"{period} 风险户（按下一级单位、风险等级）", color="risk_level_label",
       y_label="户数")

# %% [markdown]
# ## 风险原因（本区域，一户可有多个原因）

# %%
reasons = nb.query("nb_reasons").sort_values(["period", "households"], ascending=[True, False])
nb.bar(reasons, "reason", "households", "风险原因（户）", color="period", orientation="h", y_label="户数")

# %% [markdown]
# ## 临界户：监测线以下（本区域，户标识为假名）

# %%
near = nb.query("nb_near_threshold").sort_values("ratio_monitoring")
print(f"监测线以下 {len(near)} 户")
nb.table(near)

# %%
nb.histogram(near, "ratio_monitoring", "人均纯收入 ÷ 监测线（监测线以下户）", nbins=20)

# %% [markdown]
# ## 状态流动：上季度 → 本季度（本区域）

# %%
try:
    flows = nb.query("nb_transitions")
    display(nb.table(flows, ["from_label", "to_label", "households"]))
    display(nb.sankey(flows, f"{period} 脱贫状态流动（户）") if len(flows) else "无上季度数据")
except notebook.Missing as exc:
    print("未运行：", exc)
