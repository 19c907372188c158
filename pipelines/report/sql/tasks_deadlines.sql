-- tasks_deadlines: 清仓见底 progress of the quarter's task list against each of the city's
-- deadlines (config/tasks.toml [[deadlines]], those of the list's year): per category it covers
-- and in total (category 'all'), the problems in scope, those done by the deadline (done with no
-- date counts as done in time), done now, open past their due date, reopened at 回头看.
-- Source: `task_status` (povmon tasks).
-- key: deadline_code, category
with

run as (
    select * from {{ ref('param_run') }}
),

deadlines as (
    select d.*
    from {{ ref('param_task_deadlines') }} as d
    cross join run as r
    where d.year = r.year
),

items as (
    select t.*
    from {{ ref('task_status') }} as t
    cross join run as r
    where t.period = r.period
),

scoped as (
    select
        d.deadline_code,
        d.deadline_order,
        d.label as deadline_label,
        d.due_on as deadline,
        i.category,
        i.category_label,
        i.category_order,
        i.status,
        i.completion_state = 'done' and (i.completed_on is null or i.completed_on <= d.due_on) as done_by_deadline
    from deadlines as d
    inner join items as i on i.category = d.category
),

by_category as (
    select
        deadline_code,
        min(deadline_order) as deadline_order,
        min(deadline_label) as deadline_label,
        min(deadline) as deadline,
        category,
        min(category_label) as category_label,
        min(category_order) as category_order,
        count(*) as items,
        count(*) filter (where done_by_deadline) as done_by_deadline,
        count(*) filter (where status in ('done', 'done_late')) as done_now,
        count(*) filter (where status = 'overdue') as overdue,
        count(*) filter (where status = 'reopened') as reopened
    from scoped
    group by deadline_code, category
),

totals as (
    select
        deadline_code,
        min(deadline_order) as deadline_order,
        min(deadline_label) as deadline_label,
        min(deadline) as deadline,
        'all' as category,
        '合计' as category_label,
        999 as category_order,
        sum(items) as items,
        sum(done_by_deadline) as done_by_deadline,
        sum(done_now) as done_now,
        sum(overdue) as overdue,
        sum(reopened) as reopened
    from by_category
    group by deadline_code
),

final as (
    select
        u.*,
        cast(u.done_by_deadline as double) / nullif(u.items, 0) as done_by_deadline_share,
        cast(u.overdue as double) / nullif(u.items, 0) as overdue_share,
        (select period_end from run) >= u.deadline as deadline_passed
    from (select * from by_category union all select * from totals) as u
)

select * from final
order by deadline_order, category_order
