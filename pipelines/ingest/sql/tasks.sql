-- tasks: the office's task list of `period` as it stood at the quarter's end (data/raw/tasks/<p>/),
-- one row per problem (序号): category, masked description, responsible unit and leader (officials
-- in their role), its own deadline and what the list says of completion. Statuses: tasks stage.
-- key: period, task_no
with

loaded as (
    select * from {{ ref('int_task_rows') }}
    where reason is null
),

final as (
    select
        -- keys
        period,
        task_no,
        -- the problem
        category,
        description,
        responsible_unit,
        lead_official,
        deadline,
        completion_state,
        completed_on,
        -- provenance
        source_file,
        sheet,
        source_row
    from loaded
)

select * from final
