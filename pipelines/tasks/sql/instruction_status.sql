-- instruction_status: each of the office's instructions (指令) of `period` with its status at the
-- quarter's end against its 办结时限 (the rules of task_status without the city's caps): reopened,
-- done, done_late, overdue, on_time; days overdue for the recipient department it names.
-- key: period, doc_no
with

run as (
    select * from {{ ref('param_run') }}
),

done_earlier as (
    select distinct h.doc_no
    from {{ ref('instructions_history') }} as h
    cross join run as r
    where h.period < r.period
      and h.completion_state = 'done'
),

dated as (
    select
        l.*,
        r.period_end,
        l.deadline as due_on,
        e.doc_no is not null as done_before
    from {{ ref('instructions_current') }} as l
    cross join run as r
    left join done_earlier as e on e.doc_no = l.doc_no
),

classified as (
    select
        *,
        case
            when completion_state = 'rebound' or (completion_state = 'open' and done_before) then 'reopened'
            when completion_state = 'done' and (completed_on is null or completed_on <= due_on) then 'done'
            when completion_state = 'done' then 'done_late'
            when period_end > due_on then 'overdue'
            else 'on_time'
        end as status
    from dated
),

final as (
    select
        -- keys
        d.period,
        d.doc_no,
        -- the instruction
        d.issued_on,
        d.recipient,
        d.content,
        -- deadline and status
        d.due_on,
        d.completion_state,
        d.completed_on,
        d.done_before,
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
    inner join {{ ref('param_task_statuses') }} as s on s.status = d.status
)

select * from final
