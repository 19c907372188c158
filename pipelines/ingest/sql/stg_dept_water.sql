-- stg_dept_water: 水利 water-supply coverage by village, typed: labels mapped to codes, dates parsed.
-- Every raw row stays here (decisions in int_department_rows).
{% import '_macros.sql' as m with context %}
{%- set cols = columns.dept_water %}
with

code_labels as (
    select * from {{ ref('param_code_labels') }}
),

tick_columns as (
    {{ m.tick_columns(cols, ref('raw_dept_water'), ref('param_tick_marks')) }}
),

typed as (
    select
        -- provenance
        {{ m.provenance('r') }}
        r.record_date as record_date__raw,
        -- typed columns
        {{ m.typed_columns(cols, 'r') }}
        r.file_id as _file_id
    from {{ ref('raw_dept_water') }} as r  -- read where used (a CTE read twice is materialised whole)
    cross join {{ ref('param_label_lists') }} as ll
    {{ m.label_joins(cols, 'r') }}
),

final as (
    select * from typed
)

select * from final
