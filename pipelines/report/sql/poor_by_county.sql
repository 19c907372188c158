-- poor_by_county: remaining poor households and persons (未脱贫 + 返贫) and administrative incidence
-- by county, with the city total row. Persons and incidence come from `measures`
-- (poor_persons_administrative, incidence_administrative; the city row for the total), households
-- from `households`.
-- key: is_total, county_code
{% import '_macros.sql' as m %}
with

params as (
    select * from {{ ref('param_run') }}
),

poor_statuses as (
    select code from {{ ref('param_poor_statuses') }}
),

poor_households as (
    select h.county_code
    from {{ ref('households') }} as h
    cross join params as p
    where h.period = p.period
      and h.poverty_status in (select code from poor_statuses)
),

admin as (
    select
        m.region_level,
        m.region_code,
        m.region_name,
        max(case when m.measure = 'poor_persons_administrative' then m.estimate end) as poor_persons,
        max(case when m.measure = 'incidence_administrative' then m.estimate end) as incidence,
        max(case when m.measure = 'incidence_administrative' then m.n_weighted end) as rural_population
    from {{ ref('measures') }} as m
    cross join params as p
    where m.period = p.period
      and m.region_level in ('county', 'city')
      and m.measure in ('poor_persons_administrative', 'incidence_administrative')
    group by m.region_level, m.region_code, m.region_name
),

counted as (
    {{ m.by_region('poor_households', ref('region_names'), ref('param_report'), aggregates={
        'poor_households': 'count(*)'},
      grid="(select region_code as county_code from admin where region_level = 'county')",
      fill_zero=['poor_households']) }}
),

final as (
    select
        c.is_total,
        a.region_code as county_code,
        c.county_name,
        c.poor_households,
        cast(a.poor_persons as bigint) as poor_persons,
        a.rural_population,
        a.incidence
    from admin as a
    inner join counted as c
        on (a.region_level = 'city' and c.is_total = 1)
        or (a.region_level = 'county' and c.is_total = 0 and c.county_code = a.region_code)
)

select * from final
order by is_total, county_code
