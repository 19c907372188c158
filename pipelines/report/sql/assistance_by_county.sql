-- assistance_by_county: households needing a 帮扶责任人, covered, and each kind of gap, by county
-- with the city total. Coverage = covered / needing. Source: `assistance_coverage` (risk stage).
-- key: is_total, county_code?
{% import '_macros.sql' as m %}
with

params as (
    select * from {{ ref('param_run') }}
),

coverage as (
    select a.*
    from {{ ref('assistance_coverage') }} as a
    cross join params as p
    where a.period = p.period
),

final as (
    {{ m.by_region('coverage', ref('region_names'), ref('param_report'), aggregates={
        'needing': 'sum(s.households_needing_assistance)',
        'covered': 'sum(s.households_covered)',
        'no_pairing': 'sum(s.households_no_pairing)',
        'wrong_level': 'sum(s.households_wrong_level)',
        'overloaded': 'sum(s.households_with_overloaded_cadre)',
        'lapsed_pairings': 'sum(s.lapsed_pairings)'},
      derived={
        'not_covered': 't.needing - t.covered',
        'coverage': 'case when t.needing > 0 then t.covered * 1.0 / t.needing end'}) }}
)

select * from final
order by is_total, county_code
