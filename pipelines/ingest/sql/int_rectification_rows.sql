-- int_rectification_rows: one row per returned 问题清单 row with its quarantine reason (NULL =
-- loaded): 户编号 keyed like the registry's, 问题类别 mapped by its label to a criterion
-- (config/validate.toml [criteria]) or a department cross-check rule (config/departments.toml).
-- materialized: view
{% import '_macros.sql' as m with context %}
with

pseudonym_key as (
    select * from {{ ref('ingest_params') }}
),

criteria as (
    select criterion, label from {{ ref('param_criteria_labels') }}
    union all
    -- a department cross-check's problem is filed under its rule (config/departments.toml [[rule]])
    -- (its label as a cell is compared: cleaned like every cell, full-width punctuation made ASCII)
    select r.rule as criterion, {{ m.clean('r.rule_label') }} as label
    from {{ ref('param_crosscheck_rules') }} as r
    cross join {{ ref('param_fullwidth') }} as fw
),

staged as (
    select
        s.*,
        {{ m.pseudonym('household:', 's.household_id') }} as household_key,
        c.criterion
    from {{ ref('stg_rectification') }} as s
    left join criteria as c on c.label = s.criterion_label
),

row_checks as (
    select
        *,
        case
            when is_blank_row then 'blank_row'
            when is_shifted then 'column_shift'
            when damaged_column is not null then 'id_damaged_by_spreadsheet'
            when household_id is null or criterion_label is null then 'missing_key'
            when criterion is null then 'unknown_criterion'
            when completed_on__raw is not null and completed_on is null then 'bad_completion_date'
        end as row_reason,
        case
            when is_blank_row or is_shifted then null
            when damaged_column is not null then damaged_column
            when household_id is null then 'household_id'
            when criterion_label is null or criterion is null then 'criterion_label'
            else 'completed_on'
        end as row_reason_column
    from staged
),

ranked as (
    select
        *,
        case when row_reason is null then row_number() over (
            partition by period, (case when row_reason is null then household_key || '/' || criterion end)
            order by file_order, sheet, source_row)
        end as report_rank
    from row_checks
),

final as (
    select
        *,
        coalesce(row_reason, case when report_rank > 1 then 'duplicate_rectification' end) as reason,
        case when row_reason is not null then row_reason_column when report_rank > 1 then 'criterion_label' end
            as reason_column,
        case
            when row_reason = 'id_damaged_by_spreadsheet' then damaged_detail
            when row_reason = 'unknown_criterion' then 'label not a criterion of config/validate.toml [criteria]'
            when row_reason = 'bad_completion_date' then 'not a date (expected e.g. 2020-09-15)'
            when report_rank > 1 then 'same household and criterion as an earlier row of this quarter'
        end as reason_detail
    from ranked
)

select * from final
