-- nb_sensitivity: registry P0 as the line moves (the measures stage's sensitivity lines, a share
-- of the provincial guideline) for the region or the nearest unit above it that has them.
-- key: period, line_name
--
-- inputs: nb_units, measures, param_notebook (period, compare_period)
with

nb as (
    select * from {{ ref('param_notebook') }}
),

curve as (
    select m.*
    from {{ ref('measures') }} as m
    cross join nb
    where m.measure = 'fgt0' and m.data_source = 'registry' and m.population_group = 'all'
      and position('_pct_' in m.line_name) > 0
      and (m.period = nb.period or m.period = nb.compare_period)
),

nearest as (
    select u.unit_level, u.unit_code, u.unit_name
    from {{ ref('nb_units') }} as u
    where u.role in ('path', 'region')
      and exists (select 1 from curve as c where c.region_level = u.unit_level and c.region_code = u.unit_code)
    order by u.unit_order desc
    limit 1
),

final as (
    select
        c.period,
        c.line_name,
        n.unit_level,
        n.unit_code,
        n.unit_name,
        c.line_value,
        c.estimate
    from curve as c
    inner join nearest as n on n.unit_level = c.region_level and n.unit_code = c.region_code
)

select * from final
