-- crosscheck_by_county: the quarter's department cross-check findings by county and rule, with the
-- city total (findings placed by the registry household's county; a 民政 case outside the registry
-- by the village code on 民政's list). Source: `crosscheck_findings`.
-- key: is_total, county_code?, rule
{% import '_macros.sql' as m %}
with

params as (
    select * from {{ ref('param_run') }}
),

findings as (
    select
        f.county_code,
        f.rule,
        f.household_key
    from {{ ref('crosscheck_findings') }} as f
    cross join params as p
    where f.period = p.period
      and f.county_code is not null
),

counted as (
    {{ m.by_region('findings', ref('region_names'), ref('param_report'), group=['rule'], aggregates={
        'findings': 'count(*)',
        'households': 'count(distinct s.household_key)'}) }}
),

final as (
    select
        c.is_total,
        c.county_code,
        c.county_name,
        c.rule,
        r.rule_label,
        r.department_label,
        r.rule_order as sort_order,
        c.findings,
        c.households
    from counted as c
    inner join {{ ref('param_crosscheck_rules') }} as r on r.rule = c.rule
)

select * from final
order by is_total, county_code, sort_order
