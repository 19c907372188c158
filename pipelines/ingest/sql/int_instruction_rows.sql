-- int_instruction_rows: one row per instruction (指令) raw row with its quarantine reason (NULL =
-- loaded). A row needs a 文号, a readable 下发日期 and 办结时限, a known 办结情况 and, when written, a
-- readable 办结日期; a 文号 repeated within the quarter is quarantined after its first row.
-- materialized: view
with

staged as (
    select * from {{ ref('stg_instructions') }}
),

row_checks as (
    select
        *,
        case
            when is_blank_row then 'blank_row'
            when is_shifted then 'column_shift'
            when damaged_column is not null then 'id_damaged_by_spreadsheet'
            when doc_no is null or recipient is null then 'missing_instruction_key'
            when issued_on is null then 'bad_issue_date'
            when deadline__raw is null then 'missing_deadline'
            when deadline is null then 'bad_deadline'
            when completion_state is null then 'unknown_completion'
            when completed_on__raw is not null and completed_on is null then 'bad_task_completion_date'
        end as row_reason,
        case
            when is_blank_row or is_shifted then null
            when damaged_column is not null then damaged_column
            when doc_no is null then 'doc_no'
            when recipient is null then 'recipient'
            when issued_on is null then 'issued_on'
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
            partition by period, (case when row_reason is null then doc_no end)
            order by file_order, sheet, source_row)
        end as list_rank
    from row_checks
),

final as (
    select
        *,
        coalesce(row_reason, case when list_rank > 1 then 'duplicate_doc_no' end) as reason,
        case when row_reason is not null then row_reason_column when list_rank > 1 then 'doc_no' end as reason_column,
        case
            when row_reason = 'id_damaged_by_spreadsheet' then damaged_detail
            when row_reason = 'bad_issue_date' then 'no date or not a date (expected e.g. 2020年3月2日)'
            when row_reason = 'missing_deadline' then 'no 办结时限 (expected a date, e.g. 2020年4月30日)'
            when row_reason = 'bad_deadline' then 'not a date (expected e.g. 2020年4月30日, 2020.4.30, 4月底)'
            when row_reason = 'unknown_completion' then 'label not in config/tasks.toml [completion]'
            when row_reason = 'bad_task_completion_date' then 'not a date (expected e.g. 2020年4月30日)'
            when list_rank > 1 then 'same 文号 as an earlier row of this quarter''s list'
        end as reason_detail,
        cast(null as varchar) as household_key
    from ranked
)

select * from final
