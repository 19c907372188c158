-- tasks_by_unit: per responsible unit, the quarter's problems, done, open past their due date and
-- reopened (the figure of the 整改清仓见底 section).
-- Source: `task_status` (povmon tasks).
-- key: responsible_unit
with

run as (
    select * from {{ ref('param_run') }}
),

final as (
    select
        t.responsible_unit,
        count(*) as items,
        count(*) filter (where t.status in ('done', 'done_late')) as done_now,
        count(*) filter (where t.status in ('overdue', 'reopened')) as overdue,
        max(t.days_overdue) as max_days_overdue
    from {{ ref('task_status') }} as t
    cross join run as r
    where t.period = r.period
    group by t.responsible_unit
)

select * from final
order by overdue desc, responsible_unit
