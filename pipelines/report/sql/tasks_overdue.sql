-- tasks_overdue: the quarter's problems open past their due date or reopened at 回头看, listed by
-- responsible unit (whoever is late is named), longest overdue first within a unit.
-- Source: `task_status` (povmon tasks).
-- key: task_no
with

run as (
    select * from {{ ref('param_run') }}
),

final as (
    select
        t.responsible_unit,
        t.task_no,
        t.category_label,
        t.description,
        t.lead_official,
        t.due_on,
        t.status_label,
        t.days_overdue
    from {{ ref('task_status') }} as t
    cross join run as r
    where t.period = r.period
      and t.status in ('overdue', 'reopened')
)

select * from final
order by responsible_unit, days_overdue desc, task_no
