-- nb_af: the Alkire–Foster index (H, A, M0 and each indicator's contribution) for the region or
-- the nearest unit above it on the drill path that the measures stage computes it for.
-- key: period, line_name, measure
--
-- inputs: nb_units, measures, param_notebook (period, compare_period)
with

nb as (
    select * from {{ ref('param_notebook') }}
),

af as (
    select m.*
    from {{ ref('measures') }} as m
    cross join nb
    where (m.measure in ('af_H', 'af_A', 'af_M0') or starts_with(m.measure, 'af_contribution.'))
      and m.population_group = 'all'
      and (m.period = nb.period or m.period = nb.compare_period)
),

nearest as (
    select u.unit_level, u.unit_code, u.unit_name
    from {{ ref('nb_units') }} as u
    where u.role in ('path', 'region')
      and exists (select 1 from af where af.region_level = u.unit_level and af.region_code = u.unit_code)
    order by u.unit_order desc
    limit 1
),

final as (
    select
        a.period,
        a.line_name,
        a.measure,
        case when starts_with(a.measure, 'af_contribution.') then substr(a.measure, 17) end as indicator,
        n.unit_level,
        n.unit_code,
        n.unit_name,
        a.estimate
    from af as a
    inner join nearest as n on n.unit_level = a.region_level and n.unit_code = a.region_code
)

select * from final
