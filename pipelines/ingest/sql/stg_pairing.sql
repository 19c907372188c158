-- stg_pairing: pairing rows, typed: labels mapped to codes, yes/no resolved. Every raw row stays here.
{% import '_macros.sql' as m with context %}
{%- set cols = columns.pairing %}
with

code_labels as (
    select * from {{ ref('param_code_labels') }}
),

tick_columns as (
    {{ m.tick_columns(cols, ref('raw_pairing'), ref('param_tick_marks')) }}
),

final as (
    select
        -- provenance
        {{ m.provenance('r') }}
        -- typed columns
        {{ m.typed_columns(cols, 'r') }}
        r.file_id as _file_id
    from {{ ref('raw_pairing') }} as r  -- read where used (a CTE read twice is materialised whole)
    cross join {{ ref('param_label_lists') }} as ll
    {{ m.label_joins(cols, 'r') }}
)

select * from final
