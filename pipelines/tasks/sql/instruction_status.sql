-- instruction_status: each of the office's instructions (指令) of `period` with its status at the
-- quarter's end against its 办结时限 (the rules of task_status without the city's caps): reopened,
-- done, done_late, overdue, on_time; days overdue for the recipient department it names. An
-- earlier quarter's instruction is this one when 文号 and 接收单位 agree; a 文号 an earlier list gave
-- to another recipient is a new instruction, flagged doc_no_reused.
-- key: period, doc_no
{% import '_macros.sql' as m %}
with

run as (
    select * from {{ ref('param_run') }}
),

listed as (
    select * from {{ ref('instructions_current') }}
),

earlier as (
    -- the instructions of earlier quarters' lists: one is this quarter's when 文号 and 接收单位 agree
    select
        h.doc_no,
        h.recipient,
        max(case when h.completion_state = 'done' then 1 else 0 end) as was_done
    from {{ ref('instructions_history') }} as h
    cross join run as r
    where h.period < r.period
    group by h.doc_no, h.recipient
),

reused_no as (
    -- 文号 that an earlier list gave to another recipient (and never to this one)
    select distinct l.doc_no
    from listed as l
    inner join earlier as e on e.doc_no = l.doc_no
    left join earlier as s on s.doc_no = l.doc_no and s.recipient = l.recipient
    where s.doc_no is null
),

dated as (
    select
        l.*,
        r.period_end,
        l.deadline as due_on,
        coalesce(e.was_done, 0) = 1 as done_before,
        u.doc_no is not null as doc_no_reused
    from listed as l
    cross join run as r
    left join earlier as e on e.doc_no = l.doc_no and e.recipient = l.recipient
    left join reused_no as u on u.doc_no = l.doc_no
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
        d.doc_no_reused,
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
