-- tasks_instructions_overdue: the office's instructions (指令) not settled by their 办结时限 at
-- the quarter's end (open past it, reopened, or settled late), named by recipient department.
-- Source: `instruction_status` (povmon tasks).
-- key: doc_no
with

run as (
    select * from {{ ref('param_run') }}
),

final as (
    select
        i.recipient,
        i.doc_no,
        i.issued_on,
        i.due_on,
        i.completed_on,
        i.status_label,
        i.days_overdue
    from {{ ref('instruction_status') }} as i
    cross join run as r
    where i.period = r.period
      and i.status in ('overdue', 'reopened', 'done_late')
)

select * from final
order by recipient, days_overdue desc, doc_no
