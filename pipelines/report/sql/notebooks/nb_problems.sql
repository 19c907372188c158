-- nb_problems: the problem ledger (validate's `problems`) of the region by criterion and status, in
-- the period and the comparison period: problems, households, and open problems past their deadline.
-- key: period, criterion, status
--
-- inputs: problems, param_notebook (period, compare_period, region_code)
with

nb as (
    select * from {{ ref('param_notebook') }}
),

final as (
    select
        p.period,
        p.criterion,
        min(p.criterion_label) as criterion_label,
        min(p.criterion_order) as criterion_order,
        p.status,
        count(*) as problems,
        count(distinct p.household_key) as households,
        count(*) filter (where p.overdue) as overdue
    from {{ ref('problems') }} as p
    cross join nb
    where (p.period = nb.period or p.period = nb.compare_period)
      and starts_with(p.village_code, nb.region_code)
    group by p.period, p.criterion, p.status
)

select * from final
