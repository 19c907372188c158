-- risk_by_county: households and persons by risk level (config/risk.toml [[levels]]) and county,
-- with the city total. Source: `risk`.
-- key: is_total, county_code?, risk_level
{% import '_macros.sql' as m %}
with

params as (
    select * from {{ ref('param_run') }}
),

current_risk as (
    select r.county_code, r.risk_level, r.persons
    from {{ ref('risk') }} as r
    cross join params as p
    where r.period = p.period
),

counted as (
    {{ m.by_region('current_risk', ref('region_names'), ref('param_report'), group=['risk_level'], aggregates={
        'households': 'count(*)',
        'persons': 'coalesce(sum(s.persons), 0)'}) }}
),

final as (
    select
        c.is_total,
        c.county_code,
        c.county_name,
        c.risk_level,
        coalesce(lb.label, c.risk_level) as risk_level_label,
        coalesce(lb.sort_order, 99) as sort_order,
        c.households,
        c.persons
    from counted as c
    left join {{ ref('param_labels') }} as lb on lb.domain = 'risk_level' and lb.code = c.risk_level
)

select * from final
order by is_total, county_code, sort_order
