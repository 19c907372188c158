-- stg_instructions: the office's instructions (指令) rows (data/raw/tasks/<p>/, own sheet or file,
-- config/header_aliases.toml [instructions]), typed: 下发日期 / 办结时限 / 办结日期 read as dates in
-- the offices' spellings (text kept), 办结情况 to done / open / rebound, 内容 with digit runs masked.
-- Every raw row stays here.
{% import '_macros.sql' as m %}
{% import '_tasks.sql' as t %}
with

raw as (
    select * from {{ ref('raw_instructions') }}
),

completion as (
    select * from {{ ref('param_task_completion') }}
),

typed as (
    select
        -- provenance (every staged model's: _macros.sql)
        {{ m.provenance('r') }}
        {{ t.task_text('r.doc_no') }} as doc_no,
        r.issued_on as issued_on__raw,
        {{ t.task_date('r.issued_on', 'extract(year from r.period_end)') }} as issued_on,
        nullif(trim(r.recipient), '') as recipient,
        {{ t.masked('r.content') }} as content,
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
        case
            when s.completion__raw is null then (case when s.completed_on is not null then 'done' else 'open' end)
            else k.state
        end as completion_state
    from typed as s
    left join completion as k on k.label = s.completion__raw
)

select * from final
