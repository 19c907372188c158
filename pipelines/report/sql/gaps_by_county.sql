-- gaps_by_county: households (and their persons) with an open 两不愁三保障 or 饮水 gap, by
-- dimension and county, with the city total. Source: `risk` gap signals (the shared criteria model,
-- pipelines/criteria/sql/int_household_deprivations.sql; null = not determinable, not counted).
-- requires: risk
with

params as (
    select * from report_params
),

current_risk as (
    select r.*
    from risk as r
    cross join params as p
    where r.period = p.period
),

long as (
    select county_code, persons, 'food' as dimension from current_risk where sig_gap_food
    union all select county_code, persons, 'clothing' from current_risk where sig_gap_clothing
    union all select county_code, persons, 'education' from current_risk where sig_gap_education
    union all select county_code, persons, 'medical' from current_risk where sig_gap_medical
    union all select county_code, persons, 'housing' from current_risk where sig_gap_housing
    union all select county_code, persons, 'water' from current_risk where sig_gap_water
),

grid as (
    select c.county_code, d.code as dimension, d.sort_order
    from (select distinct county_code from current_risk) as c
    cross join (select code, sort_order from labels where domain = 'dimension') as d
),

counted as (
    select
        0 as is_total,
        g.county_code,
        g.dimension,
        g.sort_order,
        count(l.county_code) as households,
        coalesce(sum(l.persons), 0) as persons
    from grid as g
    left join long as l on l.county_code = g.county_code and l.dimension = g.dimension
    group by g.county_code, g.dimension, g.sort_order
),

totals as (
    select 1 as is_total, null as county_code, dimension, sort_order,
           sum(households) as households, sum(persons) as persons
    from counted
    group by dimension, sort_order
),

final as (
    select
        u.is_total,
        u.county_code,
        case when u.is_total = 1 then '合计' else coalesce(rn.name, u.county_code) end as county_name,
        u.dimension,
        lb.label as dimension_label,
        u.sort_order,
        u.households,
        u.persons
    from (select * from counted union all select * from totals) as u
    left join region_names as rn on rn.level = 'county' and rn.code = u.county_code
    left join labels as lb on lb.domain = 'dimension' and lb.code = u.dimension
)

select * from final
order by is_total, county_code, sort_order
