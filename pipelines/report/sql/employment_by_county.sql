-- employment_by_county: (就业账) registered persons working away (务工状况 filled) by destination
-- (乡镇内 / 县内 / 省内 / 省外) and county, with mean months worked, city total included.
-- Source: `persons` (registry).
-- key: is_total, county_code?, migrant_status
{% import '_macros.sql' as m %}
with

params as (
    select * from {{ ref('param_run') }}
),

migrants as (
    select
        pe.county_code,
        pe.migrant_status,
        pe.work_months
    from {{ ref('persons') }} as pe
    cross join params as p
    where pe.period = p.period
      and pe.migrant_status is not null
),

counted as (
    {{ m.by_region('migrants', ref('region_names'), ref('param_report'), group=['migrant_status'], aggregates={
        'persons': 'count(*)',
        'mean_months': 'avg(s.work_months)'}) }}
),

final as (
    select
        c.is_total,
        c.county_code,
        c.county_name,
        c.migrant_status,
        coalesce(lb.label, c.migrant_status) as destination_label,
        coalesce(lb.sort_order, 99) as sort_order,
        c.persons,
        c.mean_months
    from counted as c
    left join {{ ref('param_labels') }} as lb on lb.domain = 'migrant_status' and lb.code = c.migrant_status
)

select * from final
order by is_total, county_code, sort_order
