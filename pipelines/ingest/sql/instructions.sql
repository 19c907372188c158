-- instructions: the office's written instructions (指令) of `period` as they stood at the quarter's
-- end, one row per 文号: recipient department, issue date, deadline, what the list says of
-- completion. Statuses: tasks stage (instruction_status).
-- key: period, doc_no
with

loaded as (
    select * from {{ ref('int_instruction_rows') }}
    where reason is null
),

final as (
    select
        -- keys
        period,
        doc_no,
        -- the instruction
        issued_on,
        recipient,
        content,
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
