-- int_xc_lists: the department lists of the period: per department, how many records loaded and
-- the list's record date (the latest record date on it). A rule comparing the registry with a
-- department that sent no list this quarter finds nothing (never "missing from an absent list").
-- key: department
with

records as (
    select * from {{ ref('department_records') }}
),

final as (
    select
        department,
        count(*) as records,
        max(record_date) as record_date
    from records
    group by department
)

select * from final
