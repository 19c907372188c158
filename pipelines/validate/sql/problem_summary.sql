-- problem_summary: how far each county and township is from 清零 (zero open problems), per period.
-- key: period, region_level, region_code
-- inputs: problems (one period), param_ledger (one row)
with

params as (
    select * from {{ ref('param_ledger') }}
),

by_unit as (
    select
        'county' as region_level,
        county_code as region_code,
        county_name as region_name,
        county_code,
        status
    from {{ ref('problems') }}
    union all
    select
        'township',
        township_code,
        township_name,
        county_code,
        status
    from {{ ref('problems') }}
),

counted as (
    select
        region_level,
        region_code,
        any_value(region_name) as region_name,
        any_value(county_code) as county_code,
        count(*) filter (where status = params.status_new) as new_problems,
        count(*) filter (where status = params.status_open) as open_carried,
        count(*) filter (where status = params.status_cleared) as cleared
    from by_unit
    cross join params
    group by region_level, region_code
),

final as (
    select
        params.period,
        c.region_level,
        c.region_code,
        c.region_name,
        c.county_code,
        c.new_problems,
        c.open_carried,
        c.new_problems + c.open_carried as open_problems,
        c.cleared,
        c.new_problems + c.open_carried = 0 as cleared_to_zero,
        params.deadline,
        datediff('day', params.period_end, params.deadline) as days_to_deadline
    from counted as c
    cross join params
)

select * from final
