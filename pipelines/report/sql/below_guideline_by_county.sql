-- below_guideline_by_county: households below the provincial guideline (省定脱贫标准指导线) by county,
-- split into still-poor and exited, with the line used. Source: `risk` (income per capita as the
-- risk stage defines it; strictly below the line).
-- requires: risk
with

params as (
    select * from report_params
),

below as (
    select
        r.county_code,
        r.household_key,
        r.persons,
        r.line_guideline,
        case when r.poverty_status in (select code from poor_statuses) then 1 else 0 end as is_poor
    from risk as r
    cross join params as p
    where r.period = p.period
      and r.below_guideline
),

counted as (
    select
        0 as is_total,
        county_code,
        count(*) as households,
        coalesce(sum(persons), 0) as persons,
        sum(is_poor) as poor_households,
        count(*) - sum(is_poor) as exited_households,
        max(line_guideline) as line_value
    from below
    group by county_code
    union all
    select
        1,
        null,
        count(*),
        coalesce(sum(persons), 0),
        coalesce(sum(is_poor), 0),
        count(*) - coalesce(sum(is_poor), 0),
        max(line_guideline)
    from below
),

final as (
    select
        c.is_total,
        c.county_code,
        case when c.is_total = 1 then '合计' else coalesce(rn.name, c.county_code) end as county_name,
        c.households,
        c.persons,
        c.poor_households,
        c.exited_households,
        c.line_value
    from counted as c
    left join region_names as rn on rn.level = 'county' and rn.code = c.county_code
)

select * from final
order by is_total, county_code
