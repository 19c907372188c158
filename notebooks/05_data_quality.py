# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 5. 数据质量
# 本区域的隔离行与问题标记（按原因）、问题清单整改进度和导入清单。问题标记按户所在地归属；隔离行没有可信的位置，
# 按其来源的县导出文件归属（乡(镇)、村级时"范围"列注明"所属县导出文件"）。
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
# ## 隔离行与问题标记（按原因）

# %%
quality = nb.query("nb_quality").sort_values(["disposition", "row_count"], ascending=[True, False])
nb.table(quality)

# %%
nb.bar(quality, "reason", "row_count", "隔离行与问题标记（按原因）", color="disposition", orientation="h",
       y_label="行数")

# %% [markdown]
# ## 问题清单整改进度（本区域）

# %%
try:
    problems = nb.query("nb_problems").sort_values(["period", "criterion_order", "status"])
    display(nb.table(problems, ["period", "criterion_label", "status", "problems", "households", "overdue"]))
except notebook.Missing as exc:
    print("未运行：", exc)

# %% [markdown]
# ## 导入清单（本区域的导出文件）

# %%
nb.table("nb_manifest")
