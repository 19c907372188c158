-- households: one row per household and period: household fields from the 户主's row (the first
-- row when there is none).
-- key: period, household_key
with

picked as (
    select
        p.*,
        h.member_count
    from {{ ref('int_households_reconciled') }} as h
    inner join {{ ref('int_persons_loaded') }} as p
        on p.file_id = h.file_id and p.source_row = h.source_row
),

final as (
    select
        -- keys
        period,
        household_key,
        -- where
        county_code,
        township_code,
        village_code,
        -- household block, as recorded on the picked row
        {%- for name in household_fields %}
        {{ name }},
        {%- endfor %}
        cast(member_count as integer) as member_count,
        -- 人均纯收入 recomputed: net income / configured denominator ({{ income_denominator }})
        case when coalesce({{ income_denominator }}, household_size) > 0
            then round(net_income / coalesce({{ income_denominator }}, household_size), 2)
        end as per_capita_net_income_derived,
        -- provenance
        source_file,
        source_row
    from picked
)

select * from final
