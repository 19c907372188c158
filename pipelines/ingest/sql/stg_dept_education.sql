-- stg_dept_education: 教育 school rosters and the 送教上门 list, typed: labels mapped to codes, dates
-- parsed, the ID number checked and keyed (never kept). Every raw row stays here (decisions in
-- int_department_rows).
{% import '_departments.sql' as d with context %}
{{ d.staged_id_list(columns.dept_education, ref('raw_dept_education'), ref('param_code_labels'), ref('ingest_params'),
                     ref('param_tick_marks'), ref('param_label_lists'), ref('param_gb11643')) }}
