-- nb_near_threshold: the region's households below the monitoring line in the period: income,
-- its ratio to the monitoring line, risk level and reasons (keys are pseudonymous).
-- key: household_key
--
-- inputs: nb_households, param_notebook (period)
with

nb as (
    select * from {{ ref('param_notebook') }}
),

final as (
    select
        h.household_key,
        h.county_code,
        h.township_code,
        h.village_code,
        h.income_per_capita,
        h.ratio_monitoring,
        h.risk_level_label,
        h.reasons_text
    from {{ ref('nb_households') }} as h
    cross join nb
    where h.period = nb.period and h.below_monitoring
)

select * from final
