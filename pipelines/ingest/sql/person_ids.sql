-- person_ids: the valid ID numbers of each registry file of a quarter, as person keys (never the
-- number): one row per file and key with how many rows carry it (duplicates included). A re-ingest
-- that re-reads only the counties re-sent decides their cross-county duplicates from the other
-- counties' rows here, and re-reads a county whose duplicate decisions that changes
-- (pipelines/ingest/pipeline.py, docs/data_contract.md §5).
-- key: period, source_file, person_key
with

dispositions as (
    select * from {{ ref('int_registry_dispositions') }}
),

final as (
    select
        period,
        source_file,
        person_key,
        count(*) as rows
    from dispositions
    where id_rank is not null
    group by period, source_file, person_key
)

select * from final
