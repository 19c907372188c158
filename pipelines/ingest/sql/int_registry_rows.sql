-- Registry rows with their disposition (view: stg_registry joined to the narrow reasons table).
with

staged as (
    select * from stg_registry
),

dispositions as (
    select * from int_registry_dispositions
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
