-- risk_by_county: households and persons by risk level (config/risk.toml [[levels]]) and county,
-- with the city total. Source: `risk`.
-- requires: risk
with

params as (
    select * from report_params
),

current_risk as (
    select r.county_code, r.risk_level, r.persons
    from risk as r
    cross join params as p
    where r.period = p.period
),

counted as (
    select 0 as is_total, county_code, risk_level, count(*) as households, coalesce(sum(persons), 0) as persons
    from current_risk
    group by county_code, risk_level
    union all
    select 1, null, risk_level, count(*), coalesce(sum(persons), 0)
    from current_risk
    group by risk_level
),

final as (
    select
        c.is_total,
        c.county_code,
        case when c.is_total = 1 then '合计' else coalesce(rn.name, c.county_code) end as county_name,
        c.risk_level,
        coalesce(lb.label, c.risk_level) as risk_level_label,
        coalesce(lb.sort_order, 99) as sort_order,
        c.households,
        c.persons
    from counted as c
    left join region_names as rn on rn.level = 'county' and rn.code = c.county_code
    left join labels as lb on lb.domain = 'risk_level' and lb.code = c.risk_level
)

select * from final
order by is_total, county_code, sort_order
