-- stg_tasks: the office's task-list rows (data/raw/tasks/<p>/, config/header_aliases.toml [tasks]),
-- typed: 问题类别 mapped by label (config/tasks.toml [categories]), 完成情况 to done / open / rebound,
-- 整改时限 and 完成时间 read as dates in the offices' spellings (their text kept to tell a bad date
-- from none), 问题描述 with digit runs masked. 整改措施 / 整改进展 (pii) never leave data/raw.
-- Every raw row stays here.
{% import '_macros.sql' as m %}
{% import '_tasks.sql' as t %}
with

raw as (
    select * from {{ ref('raw_tasks') }}
),

categories as (
    select * from {{ ref('param_task_categories') }}
),

completion as (
    select * from {{ ref('param_task_completion') }}
),

typed as (
    select
        -- provenance (every staged model's: _macros.sql)
        {{ m.provenance('r') }}
        {{ t.task_text('r.task_no') }} as task_no,
        nullif(trim(r.category_label), '') as category_label,
        {{ t.masked('r.description') }} as description,
        nullif(trim(r.responsible_unit), '') as responsible_unit,
        nullif(trim(r.lead_official), '') as lead_official,
        r.deadline as deadline__raw,
        {{ t.task_date('r.deadline', 'extract(year from r.period_end)') }} as deadline,
        r.completion as completion__raw,
        r.completed_on as completed_on__raw,
        {{ t.task_date('r.completed_on', 'extract(year from r.period_end)') }} as completed_on
    from raw as r
    cross join {{ ref('param_task_masking') }} as mk
),

final as (
    select
        s.*,
        c.code as category,
        -- a blank 完成情况 is open, unless a completion date is given
        case
            when s.completion__raw is null then (case when s.completed_on is not null then 'done' else 'open' end)
            else k.state
        end as completion_state
    from typed as s
    left join categories as c on c.label = s.category_label
    left join completion as k on k.label = s.completion__raw
)

select * from final
