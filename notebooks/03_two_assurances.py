# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 3. 两不愁三保障与饮水安全
# 各维度未保障户沿 市 → 县 → 乡(镇) → 村 下钻，本区域问题清单的整改进度，以及多维贫困指数（Alkire–Foster：
# H、A、M0 及各维度贡献；measures 阶段计算到县级，乡(镇)、村级时显示所属县）。
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
# ## 未保障户：各级单位 × 维度

# %%
gaps = nb.query("nb_gaps")
now = gaps[gaps["period"] == period]
nb.pivot(now, "dimension_label", "households", order="sort_order")

# %%
nb.compare(gaps[gaps["role"] != "child"], ["unit_order", "unit_level", "unit_code", "unit_name", "dimension_label"],
           ["households"])

# %%
shown = now[now["role"] == ("region" if nb.level == "village" else "child")]
nb.bar(shown, "unit_name", "households", f"{period} 未保障户（按下一级单位、维度）", color="dimension_label",
       y_label="户数")

# %% [markdown]
# ## 问题清单整改进度（本区域）

# %%
try:
    problems = nb.query("nb_problems").sort_values(["period", "criterion_order", "status"])
    display(nb.table(problems, ["period", "criterion_label", "status", "problems", "households", "overdue"]))
except notebook.Missing as exc:
    print("未运行：", exc)

# %% [markdown]
# ## 多维贫困指数与各维度贡献

# %%
af = nb.query("nb_af")
nb.table(af[af["indicator"].isna()].sort_values(["period", "line_name", "measure"]),
         ["period", "unit_name", "line_name", "measure", "estimate"]).rename(columns={"标准": "剥夺临界值k"})

# %%
contrib = af[af["indicator"].notna() & (af["period"] == period)].merge(
    gaps[["dimension", "dimension_label"]].drop_duplicates(), left_on="indicator", right_on="dimension")
nb.bar(contrib, "line_name", "estimate", f"{period} 各维度对 M0 的贡献（{', '.join(af['unit_name'].unique())}）",
       color="dimension_label", y_label="贡献份额", labels={"line_name": "剥夺临界值k"})
