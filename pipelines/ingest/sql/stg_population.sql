-- population rows, typed: labels mapped to codes, yes/no resolved. Every raw row stays here.
{% import '_macros.sql' as m with context %}
with

raw as (
    select * from raw_population
),

tick_columns as (
    {{ m.tick_columns(cols, 'raw') }}
),

final as (
    select
        -- provenance
        {{ m.provenance('r') }}
        -- typed columns
        {{ m.typed_columns(cols, 'r') }}
        r.file_id as _file_id
    from raw as r
    {{ m.label_joins(cols, 'r') }}
)

select * from final
