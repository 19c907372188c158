-- validation: the quarter's data-quality gate as `povmon validate` recorded it (validation_status:
-- gate passed, overridden, how many blocking expectations failed and their titles). No row: the
-- gate has not run for the quarter.
-- key: period
with

params as (
    select * from {{ ref('param_run') }}
),

final as (
    select v.period, v.gate_passed, v.overridden, v.failed_expectations, v.failed_titles
    from {{ ref('validation_status') }} as v
    cross join params as p
    where v.period = p.period
)

select * from final
