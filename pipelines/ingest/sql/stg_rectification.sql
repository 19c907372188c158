-- stg_rectification: returned 问题清单 rows, typed: 整改完成时间 as a date (its text kept to tell a bad
-- date from none), and whether 整改措施 / 责任单位 were filled in. The free text itself (pii in
-- header_aliases.toml) never leaves data/raw: the next ledger reads it from the returned file when it
-- prints. Every raw row stays here.
{% import '_macros.sql' as m with context %}
{%- set cols = columns.rectification %}
with

code_labels as (
    select * from {{ ref('param_code_labels') }}
),

tick_columns as (
    {{ m.tick_columns(cols, ref('raw_rectification'), ref('param_tick_marks')) }}
),

final as (
    select
        -- provenance
        {{ m.provenance('r') }}
        -- typed columns
        {{ m.typed_columns(cols, 'r') }}
        r.completed_on as completed_on__raw,
        nullif(trim(r.measure), '') is not null as measure_given,
        nullif(trim(r.responsible_unit), '') is not null as unit_given,
        r.file_id as _file_id
    from {{ ref('raw_rectification') }} as r  -- read where used (a CTE read twice is materialised whole)
    cross join {{ ref('param_label_lists') }} as ll
    {{ m.label_joins(cols, 'r') }}
)

select * from final
