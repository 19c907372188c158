-- gaps_by_county: households (and their persons) with an open 两不愁三保障 or 饮水 gap, by
-- dimension and county, with the city total. Source: `risk` gap signals (the shared criteria model,
-- pipelines/criteria/sql/int_household_deprivations.sql; null = not determinable, not counted).
-- key: is_total, county_code?, dimension
{% import '_macros.sql' as m %}
with

params as (
    select * from {{ ref('param_run') }}
),

current_risk as (
    select r.*
    from {{ ref('risk') }} as r
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

dimensions as (
    select code, sort_order from {{ ref('param_labels') }} where domain = 'dimension'
),

-- every county x dimension, zero where no household has the gap
grid as (
    select
        c.county_code,
        d.code as dimension,
        d.sort_order,
        count(l.county_code) as households,
        coalesce(sum(l.persons), 0) as persons
    from (select distinct county_code from current_risk) as c
    cross join dimensions as d
    left join long as l on l.county_code = c.county_code and l.dimension = d.code
    group by c.county_code, d.code, d.sort_order
),

counted as (
    {{ m.by_region('grid', ref('region_names'), ref('param_report'), group=['dimension', 'sort_order'], aggregates={
        'households': 'sum(s.households)',
        'persons': 'sum(s.persons)'}) }}
),

final as (
    select
        c.is_total,
        c.county_code,
        c.county_name,
        c.dimension,
        lb.label as dimension_label,
        c.sort_order,
        c.households,
        c.persons
    from counted as c
    left join {{ ref('param_labels') }} as lb on lb.domain = 'dimension' and lb.code = c.dimension
)

select * from final
order by is_total, county_code, sort_order
