# %% [markdown]
# # 5. 数据质量
# 校验发现的问题(校验阶段 `problems`，未运行时说明)、隔离行和导入清单。

# %% tags=["parameters"]
period = "2020Q2"
region = "1405"
data_dir = None

# %%
from pipelines.report import charts, notebook, queries

wh = notebook.setup(period, data_dir)

# %%
try:
    display(queries.query(wh, "problem_status"))
except queries.Missing as exc:
    print("未运行：", exc)

# %%
reasons = queries.query(wh, "quality_reasons")
reasons

# %%
charts.horizontal_bars(reasons.assign(label=reasons["disposition"] + "·" + reasons["reason"]),
                       "label", "row_count", "隔离行与问题标记(按原因)", "行数") if len(reasons) else None

# %% [markdown]
# ## 导入清单

# %%
manifest = wh.con.execute("select * from ingest_manifest where period = ? order by source_file", [period]).df()
manifest
