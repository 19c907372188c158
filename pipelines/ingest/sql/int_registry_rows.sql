-- int_registry_rows: registry rows with their disposition (stg_registry joined to the narrow
-- reasons table; a view: materialising ~180 text columns per row is the dominant cost at 10M persons).
-- materialized: view
with

staged as (
    select * from {{ ref('stg_registry') }}
),

dispositions as (
    select * from {{ ref('int_registry_dispositions') }}
),

final as (
    select
        s.*,
        d.reason,
        d.reason_column,
        d.reason_detail,
        d.id_rank,
        d.id_count
    from staged as s
    inner join dispositions as d
        on d.file_id = s.file_id and d.source_row = s.source_row
)

select * from final
