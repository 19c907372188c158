-- task_status: each problem on the office's task list of `period` with its status at the quarter's
-- end: its due date is its own 整改时限, capped by the city's deadlines of the list's year that
-- cover its category (config/tasks.toml [[deadlines]]); reopened = the list says 回头看发现反弹, or
-- the problem is open although an earlier quarter's list had it done (the same problem: same 序号,
-- 问题类别 and 责任单位; a 序号 an earlier list gave to another problem is a new problem, flagged
-- task_no_reused); done / done_late = done on
-- or before / after its due date (done without a date: done); overdue / on_time = open with the
-- due date passed / not passed at the quarter's end.
-- key: period, task_no
{% import '_macros.sql' as m %}
with

run as (
    select * from {{ ref('param_run') }}
),

listed as (
    select * from {{ ref('tasks_current') }}
),

city_caps as (
    -- the earliest city deadline of the list's year covering each category
    select d.category, min(d.due_on) as city_due_on
    from {{ ref('param_task_deadlines') }} as d
    cross join run as r
    where d.year = r.year
    group by d.category
),

earlier as (
    -- the problems of earlier quarters' lists: one is this quarter's when 序号, 问题类别 and 责任单位 agree
    select
        h.task_no,
        h.category,
        coalesce(h.responsible_unit, '') as unit_key,
        max(case when h.completion_state = 'done' then 1 else 0 end) as was_done
    from {{ ref('tasks_history') }} as h
    cross join run as r
    where h.period < r.period
    group by h.task_no, h.category, coalesce(h.responsible_unit, '')
),

same_item as (
    select l.task_no, max(e.was_done) as was_done
    from listed as l
    inner join earlier as e
        on e.task_no = l.task_no and e.category = l.category and e.unit_key = coalesce(l.responsible_unit, '')
    group by l.task_no
),

reused_no as (
    -- 序号 that an earlier list gave to another problem (and never to this one)
    select distinct l.task_no
    from listed as l
    inner join earlier as e on e.task_no = l.task_no
    left join same_item as s on s.task_no = l.task_no
    where s.task_no is null
),

categories as (
    select distinct code, category_order, category_label from {{ ref('param_task_categories') }}
),

dated as (
    select
        l.*,
        r.period_end,
        c.city_due_on,
        case when c.city_due_on < l.deadline then c.city_due_on else l.deadline end as due_on,
        coalesce(e.was_done, 0) = 1 as done_before,
        u.task_no is not null as task_no_reused
    from listed as l
    cross join run as r
    left join city_caps as c on c.category = l.category
    left join same_item as e on e.task_no = l.task_no
    left join reused_no as u on u.task_no = l.task_no
),

classified as (
    select
        *,
        {{ m.status() }} as status
    from dated
),

final as (
    select
        -- keys
        d.period,
        d.task_no,
        -- the problem
        d.category,
        c.category_label,
        c.category_order,
        d.description,
        d.responsible_unit,
        d.lead_official,
        -- deadlines and status
        d.deadline,
        d.city_due_on,
        d.due_on,
        d.completion_state,
        d.completed_on,
        d.done_before,
        d.task_no_reused,
        d.status,
        s.label as status_label,
        s.status_order,
        case
            when d.status = 'done_late' then datediff('day', d.due_on, d.completed_on)
            when d.status in ('overdue', 'reopened') and d.period_end > d.due_on then datediff('day', d.due_on, d.period_end)
            else 0
        end as days_overdue,
        -- provenance
        d.source_file,
        d.sheet,
        d.source_row
    from classified as d
    inner join categories as c on c.code = d.category
    inner join {{ ref('param_task_statuses') }} as s on s.status = d.status
)

select * from final
