-- int_population_rows: one row per population-reference raw row with its quarantine reason
-- (NULL = loaded).
-- materialized: view
with

staged as (
    select * from {{ ref('stg_population') }}
),

regions_known as (
    select code from {{ ref('param_regions') }}
),

row_checks as (
    select
        r.*,
        case
            when r.is_blank_row then 'blank_row'
            when r.is_shifted then 'column_shift'
            when r.year is null then 'missing_key'
            when r.village_code is null then 'missing_village_code'
            when length(r.village_code) <> 12 or translate(r.village_code, '0123456789', '') <> ''
                or c.code is null or t.code is null then 'bad_village_code'
        end as row_reason
    from staged as r
    left join regions_known as c on c.code = substr(r.village_code, 1, 6)
    left join regions_known as t on t.code = substr(r.village_code, 1, 9)
),

final as (
    select
        *,
        row_reason as reason,
        case when row_reason = 'missing_key' then 'year' when row_reason is not null then 'village_code' end as reason_column,
        cast(null as varchar) as reason_detail,
        cast(null as varchar) as household_key
    from row_checks
)

select * from final
