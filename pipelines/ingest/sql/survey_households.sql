-- survey_households: the 住户抽样调查 sample with design weights, one row per household and period.
-- key: period, survey_household_key
with

loaded as (
    select * from {{ ref('int_survey_rows') }}
    where reason is null
),

final as (
    select
        -- keys
        period,
        survey_household_key,
        -- design
        county_code,
        village_code,
        design_weight,
        -- measures
        household_size,
        per_capita_net_income,
        registered,
        -- provenance
        source_file,
        source_row
    from loaded
)

select * from final
