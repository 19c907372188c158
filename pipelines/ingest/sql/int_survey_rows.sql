-- int_survey_rows: one row per survey raw row with its quarantine reason (NULL = loaded).
-- materialized: view
{% import '_macros.sql' as m with context %}
with

pseudonym_key as (
    select * from {{ ref('ingest_params') }}
),

staged as (
    select
        *,
        {{ m.pseudonym('survey_household:', 'survey_household_id') }} as survey_household_key
    from {{ ref('stg_survey') }}
),

final as (
    select
        *,
        case
            when is_blank_row then 'blank_row'
            when is_shifted then 'column_shift'
            when damaged_column is not null then 'id_damaged_by_spreadsheet'
            when survey_household_id is null then 'missing_key'
            when village_code is null then 'missing_village_code'
            when length(village_code) <> 12 or translate(village_code, '0123456789', '') <> '' then 'bad_village_code'
        end as reason,
        case
            when is_blank_row or is_shifted then null
            when damaged_column is not null then damaged_column
            when survey_household_id is null then 'survey_household_id'
            else 'village_code'
        end as reason_column,
        case when damaged_column is not null and not is_blank_row and not is_shifted then damaged_detail end
            as reason_detail,
        cast(null as varchar) as household_key
    from staged
)

select * from final
