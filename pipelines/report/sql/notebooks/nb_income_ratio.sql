-- nb_income_ratio: each household of the region with its per-capita net income against the
-- provincial guideline and the monitoring line (ratios from the risk stage), in the period and
-- the comparison period: the distribution the incidence notebook draws.
-- key: period, household_key
--
-- inputs: nb_households
with

final as (
    select
        period,
        household_key,
        county_code,
        township_code,
        village_code,
        income_per_capita,
        ratio_guideline,
        ratio_monitoring,
        below_guideline,
        below_monitoring
    from {{ ref('nb_households') }}
)

select * from final
