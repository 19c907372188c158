-- employment_by_county (就业账): registered persons working away (务工状况 filled) by destination
-- (乡镇内 / 县内 / 省内 / 省外) and county, with mean months worked, city total included.
-- Source: `persons` (registry).
-- requires: persons
with

params as (
    select * from report_params
),

migrants as (
    select
        pe.county_code,
        pe.migrant_status,
        pe.work_months
    from persons as pe
    cross join params as p
    where pe.period = p.period
      and pe.migrant_status is not null
),

counted as (
    select 0 as is_total, county_code, migrant_status, count(*) as persons, avg(work_months) as mean_months
    from migrants
    group by county_code, migrant_status
    union all
    select 1, null, migrant_status, count(*), avg(work_months)
    from migrants
    group by migrant_status
),

final as (
    select
        c.is_total,
        c.county_code,
        case when c.is_total = 1 then '合计' else coalesce(rn.name, c.county_code) end as county_name,
        c.migrant_status,
        coalesce(lb.label, c.migrant_status) as destination_label,
        coalesce(lb.sort_order, 99) as sort_order,
        c.persons,
        c.mean_months
    from counted as c
    left join region_names as rn on rn.level = 'county' and rn.code = c.county_code
    left join labels as lb on lb.domain = 'migrant_status' and lb.code = c.migrant_status
)

select * from final
order by is_total, county_code, sort_order
