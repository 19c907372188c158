-- stg_projects: project-list rows (data/raw/projects), typed: 项目类型 and 资金来源 mapped by label
-- to codes, amounts (万元) as numbers, dates as dates; every raw row stays here.
{% import '_macros.sql' as m with context %}
{%- set cols = columns.projects %}
with

code_labels as (
    select * from {{ ref('param_code_labels') }}
),

tick_columns as (
    {{ m.tick_columns(cols, ref('raw_projects'), ref('param_tick_marks')) }}
),

final as (
    select
        -- provenance
        {{ m.provenance('r') }}
        -- typed columns
        {{ m.typed_columns(cols, 'r') }}
        r.file_id as _file_id
    from {{ ref('raw_projects') }} as r  -- read where used (a CTE read twice is materialised whole)
    cross join {{ ref('param_label_lists') }} as ll
    {{ m.label_joins(cols, 'r') }}
)

select * from final
