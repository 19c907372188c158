-- poor_by_county: remaining poor households and persons (未脱贫 + 返贫) and administrative incidence
-- by county, with the city total row. Persons and incidence come from `measures`
-- (poor_persons_administrative, incidence_administrative), households from `households`.
-- requires: measures, households
with

params as (
    select * from report_params
),

poor_households as (
    select
        h.county_code,
        count(*) as poor_households
    from households as h
    cross join params as p
    where h.period = p.period
      and h.poverty_status in (select code from poor_statuses)
    group by h.county_code
),

admin as (
    select
        m.region_level,
        m.region_code,
        m.region_name,
        max(case when m.measure = 'poor_persons_administrative' then m.estimate end) as poor_persons,
        max(case when m.measure = 'incidence_administrative' then m.estimate end) as incidence,
        max(case when m.measure = 'incidence_administrative' then m.n_weighted end) as rural_population
    from measures as m
    cross join params as p
    where m.period = p.period
      and m.region_level in ('county', 'city')
      and m.measure in ('poor_persons_administrative', 'incidence_administrative')
    group by m.region_level, m.region_code, m.region_name
),

final as (
    select
        case when a.region_level = 'city' then 1 else 0 end as is_total,
        a.region_code as county_code,
        case when a.region_level = 'city' then '合计' else coalesce(rn.name, a.region_name) end as county_name,
        case when a.region_level = 'city' then (select sum(poor_households) from poor_households)
             else coalesce(ph.poor_households, 0) end as poor_households,
        cast(a.poor_persons as bigint) as poor_persons,
        a.rural_population,
        a.incidence
    from admin as a
    left join poor_households as ph on ph.county_code = a.region_code and a.region_level = 'county'
    left join region_names as rn on rn.level = 'county' and rn.code = a.region_code
)

select * from final
order by is_total, county_code
