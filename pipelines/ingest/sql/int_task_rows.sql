-- int_task_rows: one row per task-list raw row with its quarantine reason (NULL = loaded). A row
-- needs a 序号 and a known 问题类别, a readable 整改时限 (the tracker's status is its deadline), a
-- known 完成情况 and, when one is written, a readable 完成时间; a 序号 repeated within the
-- quarter's list is quarantined after its first row (the tracker follows a problem by its 序号).
-- materialized: view
with

staged as (
    select * from {{ ref('stg_tasks') }}
),

row_checks as (
    select
        *,
        case
            when is_blank_row then 'blank_row'
            when is_shifted then 'column_shift'
            when damaged_column is not null then 'id_damaged_by_spreadsheet'
            when task_no is null or category_label is null then 'missing_task_key'
            when category is null then 'unknown_task_category'
            when deadline__raw is null then 'missing_deadline'
            when deadline is null then 'bad_deadline'
            when completion_state is null then 'unknown_completion'
            when completed_on__raw is not null and completed_on is null then 'bad_task_completion_date'
        end as row_reason,
        case
            when is_blank_row or is_shifted then null
            when damaged_column is not null then damaged_column
            when task_no is null then 'task_no'
            when category_label is null or category is null then 'category_label'
            when deadline__raw is null or deadline is null then 'deadline'
            when completion_state is null then 'completion'
            else 'completed_on'
        end as row_reason_column
    from staged
),

ranked as (
    select
        *,
        case when row_reason is null then row_number() over (
            partition by period, (case when row_reason is null then task_no end)
            order by file_order, sheet, source_row)
        end as list_rank
    from row_checks
),

final as (
    select
        *,
        coalesce(row_reason, case when list_rank > 1 then 'duplicate_task_no' end) as reason,
        case when row_reason is not null then row_reason_column when list_rank > 1 then 'task_no' end as reason_column,
        case
            when row_reason = 'id_damaged_by_spreadsheet' then damaged_detail
            when row_reason = 'unknown_task_category' then 'label not a category of config/tasks.toml [categories]'
            when row_reason = 'missing_deadline' then 'no 整改时限 (expected a date, e.g. 2020年4月30日)'
            when row_reason = 'bad_deadline' then 'not a date (expected e.g. 2020年4月30日, 2020.4.30, 4月底)'
            when row_reason = 'unknown_completion' then 'label not in config/tasks.toml [completion]'
            when row_reason = 'bad_task_completion_date' then 'not a date (expected e.g. 2020年4月30日)'
            when list_rank > 1 then 'same 序号 as an earlier row of this quarter''s list'
        end as reason_detail,
        cast(null as varchar) as household_key
    from ranked
)

select * from final
