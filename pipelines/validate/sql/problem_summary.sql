-- problem_summary: how far each county and township is from 清零 (zero open problems), per period.
-- key: period, region_level, region_code
-- inputs: problems (one period), param_ledger (one row)
-- overdue_open counts open problems past their deadline at the period end (已过时限: an already
-- rectified problem is never overdue); deadline is the nearest deadline of the unit's open
-- problems (null when none is open) and days_to_deadline counts to it from the period end.
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
        status,
        is_open,
        overdue,
        deadline
    from {{ ref('problems') }}
    union all
    select
        'township',
        township_code,
        township_name,
        county_code,
        status,
        is_open,
        overdue,
        deadline
    from {{ ref('problems') }}
),

counted as (
    select
        region_level,
        region_code,
        any_value(region_name) as region_name,
        any_value(county_code) as county_code,
        count(*) filter (where u.status = params.status_new) as new_problems,
        count(*) filter (where u.status = params.status_open) as open_carried,
        count(*) filter (where u.status = params.status_disputed) as disputed,
        count(*) filter (where u.is_open) as open_problems,
        count(*) filter (where u.is_open and u.overdue) as overdue_open,
        count(*) filter (where u.status = params.status_cleared) as cleared,
        min(u.deadline) filter (where u.is_open) as next_deadline
    from by_unit as u
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
        c.disputed,
        c.open_problems,
        c.overdue_open,
        c.cleared,
        c.open_problems = 0 as cleared_to_zero,
        c.next_deadline as deadline,
        cast(datediff('day', params.period_end, c.next_deadline) as integer) as days_to_deadline
    from counted as c
    cross join params
)

select * from final
