-- stg_dept_civil: 民政 低保 / 特困 / 临时救助 cases, typed: labels mapped to codes, dates parsed, the ID number
-- checked and keyed (never kept). Every raw row stays here (decisions in int_department_rows).
{% import '_departments.sql' as d with context %}
{{ d.staged_id_list(columns.dept_civil, ref('raw_dept_civil'), ref('param_code_labels'), ref('ingest_params'),
                     ref('param_tick_marks'), ref('param_label_lists'), ref('param_gb11643')) }}
