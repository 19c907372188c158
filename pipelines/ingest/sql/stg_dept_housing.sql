-- stg_dept_housing: 住建 housing safety assessments (by the household head's ID number), typed: labels
-- mapped to codes, dates parsed, the ID number checked and keyed (never kept). Every raw row stays
-- here (decisions in int_department_rows).
{% import '_departments.sql' as d with context %}
{{ d.staged_id_list(columns.dept_housing, ref('raw_dept_housing'), ref('param_code_labels'), ref('ingest_params'),
                     ref('param_tick_marks'), ref('param_label_lists'), ref('param_gb11643')) }}
