# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 2. 贫困发生率与 FGT 指数
# 登记口径贫困发生率（未脱贫和返贫人口 ÷ 农村户籍人口）沿 市 → 县 → 乡(镇) → 村 下钻；FGT（P0 发生率、P1 深度、
# P2 强度，登记口径与抽样调查口径，后者附 95% 置信区间）由 measures 阶段计算到县级：乡(镇)、村级时显示所属县，
# 表中"单位"列注明。另列本区域各户人均纯收入与省定指导线之比的分布。
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
# ## 贫困发生率（登记口径）：上级、本级与下一级

# %%
incidence = nb.query("nb_incidence")
nb.table(incidence.sort_values(["period", "unit_order"]),
         ["period", "role", "unit_level", "unit_code", "unit_name", "incidence", "poor_persons", "rural_population"])

# %%
nb.compare(incidence, ["unit_order", "unit_level", "unit_code", "unit_name"], ["incidence", "poor_persons"])

# %%
shown = incidence[(incidence["period"] == period) & (incidence["role"] != "path")]
nb.bar(shown, "unit_name", "incidence", f"{period} 贫困发生率（登记口径）", color="role")

# %% [markdown]
# ## FGT 指数（本级或最近的上级）

# %%
fgt = nb.query("nb_fgt").sort_values(["period", "data_source", "line_order", "measure"])
nb.table(fgt, ["period", "unit_name", "data_source", "line_name", "measure", "estimate", "ci_low", "ci_high"])

# %%
p0 = fgt[(fgt["measure"] == "fgt0") & (fgt["period"] == period)]
nb.bar(p0, "line_name", "estimate", f"{period} P0（{', '.join(p0['unit_name'].unique())}）", color="data_source",
       error_y=p0["ci_high"] - p0["estimate"], error_y_minus=p0["estimate"] - p0["ci_low"])

# %% [markdown]
# ## 敏感性：标准在省定指导线的一定比例间变化时的 P0（登记口径）

# %%
sensitivity = nb.query("nb_sensitivity")
nb.line(sensitivity.sort_values("line_value"), "line_value", "estimate",
        f"P0 对标准的敏感性（{', '.join(sensitivity['unit_name'].unique())}）", color="period")

# %% [markdown]
# ## 本区域各户：人均纯收入 ÷ 省定指导线

# %%
ratio = nb.query("nb_income_ratio")
nb.histogram(ratio, "ratio_guideline", "人均纯收入与省定指导线之比（户）", color="period", barmode="overlay", nbins=40)
