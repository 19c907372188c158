-- crosscheck_lists: one row per configured department (config/departments.toml [departments]):
-- the records of its list the quarter's cross-checks compared (0: it sent no list, nothing was
-- checked) and the list's record date, so the report can say which departments were compared.
-- key: period, department
with

run as (
    select * from {{ ref('param_run') }}
),

departments as (
    select code as department, label as department_label
    from {{ ref('param_labels') }}
    where domain = 'department'
),

final as (
    select
        run.period,
        d.department,
        d.department_label,
        cast(coalesce(l.records, 0) as bigint) as records,
        l.record_date
    from departments as d
    cross join run
    left join {{ ref('int_xc_lists') }} as l on l.department = d.department
)

select * from final
