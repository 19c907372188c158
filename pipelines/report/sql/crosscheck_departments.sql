-- crosscheck_departments: which departments' lists the quarter's cross-checks compared: records
-- loaded and the list's record date (none: the department sent no list, nothing was checked).
-- Source: `crosscheck_lists` (pipelines/crosscheck).
-- key: department
with

params as (
    select * from {{ ref('param_run') }}
),

final as (
    select
        l.department,
        l.department_label,
        l.records,
        l.record_date,
        l.records > 0 as compared
    from {{ ref('crosscheck_lists') }} as l
    cross join params as p
    where l.period = p.period
)

select * from final
order by department
