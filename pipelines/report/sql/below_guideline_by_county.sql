-- below_guideline_by_county: households below the provincial guideline (省定脱贫标准指导线) by county,
-- split into still-poor and exited, with the line used. Source: `risk` (income per capita as the
-- risk stage defines it; strictly below the line).
-- key: is_total, county_code?
{% import '_macros.sql' as m %}
with

params as (
    select * from {{ ref('param_run') }}
),

poor_statuses as (
    select code from {{ ref('param_poor_statuses') }}
),

below as (
    select
        r.county_code,
        r.household_key,
        r.persons,
        r.line_guideline,
        case when r.poverty_status in (select code from poor_statuses) then 1 else 0 end as is_poor
    from {{ ref('risk') }} as r
    cross join params as p
    where r.period = p.period
      and r.below_guideline
),

final as (
    {{ m.by_region('below', ref('region_names'), ref('param_report'), aggregates={
        'households': 'count(*)',
        'persons': 'coalesce(sum(s.persons), 0)',
        'poor_households': 'coalesce(sum(s.is_poor), 0)',
        'exited_households': 'count(*) - coalesce(sum(s.is_poor), 0)',
        'line_value': 'max(s.line_guideline)'}) }}
)

select * from final
order by is_total, county_code
