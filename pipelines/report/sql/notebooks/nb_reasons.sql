-- nb_reasons: the risk reasons (one household may have several) of the region's households, in the
-- period and the comparison period.
-- key: period, reason
--
-- inputs: nb_households
with

reasons as (
    select period, household_key, unnest(reasons) as reason
    from {{ ref('nb_households') }}
),

final as (
    select
        period,
        reason,
        count(distinct household_key) as households
    from reasons
    group by period, reason
)

select * from final
