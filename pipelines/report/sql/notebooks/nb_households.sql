-- nb_households: the risk stage's households of the notebook's region in the period and the
-- comparison period (when one is given): the rows every household-level notebook query starts from.
-- key: period, household_key
-- materialized: view
--
-- inputs: risk, param_notebook (period, compare_period, region_code)
with

nb as (
    select * from {{ ref('param_notebook') }}
),

final as (
    select r.*
    from {{ ref('risk') }} as r
    cross join nb
    where (r.period = nb.period or r.period = nb.compare_period)
      and starts_with(r.village_code, nb.region_code)
)

select * from final
