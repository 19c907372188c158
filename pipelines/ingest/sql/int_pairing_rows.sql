-- int_pairing_rows: one row per pairing raw row with its quarantine reason (NULL = loaded).
-- materialized: view
{% import '_macros.sql' as m with context %}
with

pseudonym_key as (
    select * from {{ ref('ingest_params') }}
),

staged as (
    select
        *,
        {{ m.pseudonym('household:', 'household_id') }} as household_key
    from {{ ref('stg_pairing') }}
),

row_checks as (
    select
        *,
        case
            when is_blank_row then 'blank_row'
            when is_shifted then 'column_shift'
            when damaged_column is not null then 'id_damaged_by_spreadsheet'
            when household_id is null or cadre_id is null then 'missing_key'
        end as row_reason,
        case
            when is_blank_row or is_shifted then null
            when damaged_column is not null then damaged_column
            when household_id is null then 'household_id'
            else 'cadre_id'
        end as row_reason_column
    from staged
),

ranked as (
    select
        *,
        case when row_reason is null then row_number() over (
            partition by period, (case when row_reason is null then household_key || '/' || cadre_id end)
            order by file_order, source_row)
        end as pair_rank
    from row_checks
),

final as (
    select
        *,
        -- a repeated (household, cadre) pair: not in the contract's list, see docs (duplicate_pairing)
        coalesce(row_reason, case when pair_rank > 1 then 'duplicate_pairing' end) as reason,
        case when row_reason is not null then row_reason_column when pair_rank > 1 then 'cadre_id' end as reason_column,
        case
            when row_reason = 'id_damaged_by_spreadsheet' then damaged_detail
            when pair_rank > 1 then 'same household and cadre as an earlier row of this period'
        end as reason_detail
    from ranked
)

select * from final
