-- problem_status: the validation stage's problem ledger (两不愁三保障 and other problems per
-- household) by criterion and status, with how many are past their deadline at the period end
-- (open ones only: a rectified problem is never overdue).
-- Source: `problems` (pipelines/validate).
-- key: criterion_label, status
with

params as (
    select * from {{ ref('param_run') }}
),

ledger as (
    select * from {{ ref('param_ledger') }}
),

final as (
    select
        coalesce(pr.criterion_label, pr.criterion) as criterion_label,
        min(pr.criterion_order) as criterion_order,
        pr.status,
        count(*) as households,
        count(*) filter (where pr.status <> lg.status_cleared and cast(pr.deadline as date) < p.period_end)
            as past_deadline
    from {{ ref('problems') }} as pr
    cross join params as p
    cross join ledger as lg
    where pr.period = p.period
    group by 1, pr.status
)

select * from final
order by criterion_order, criterion_label, status
