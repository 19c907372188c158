-- nb_fgt: FGT P0 / P1 / P2 (registry and survey, with the survey's 95 % CI) at the report's lines
-- for the notebook's region or, below the level the measures stage computes FGT at (county), for
-- the nearest unit above it on the drill path: unit_level / unit_code say which one it is.
-- key: period, data_source, line_name, measure
--
-- inputs: nb_units, measures, param_notebook (period, compare_period), param_report_lines (line_name, sort_order)
with

nb as (
    select * from {{ ref('param_notebook') }}
),

fgt as (
    select m.*
    from {{ ref('measures') }} as m
    cross join nb
    where m.measure in ('fgt0', 'fgt1', 'fgt2') and m.population_group = 'all'
      and m.line_name in (select line_name from {{ ref('param_report_lines') }})
      and (m.period = nb.period or m.period = nb.compare_period)
),

nearest as (
    -- the deepest unit of the path (region included) that has FGT rows
    select u.unit_level, u.unit_code, u.unit_name
    from {{ ref('nb_units') }} as u
    where u.role in ('path', 'region')
      and exists (select 1 from fgt where fgt.region_level = u.unit_level and fgt.region_code = u.unit_code)
    order by u.unit_order desc
    limit 1
),

final as (
    select
        f.period,
        f.data_source,
        f.line_name,
        l.sort_order as line_order,
        f.measure,
        n.unit_level,
        n.unit_code,
        n.unit_name,
        f.line_value,
        f.estimate,
        f.ci_low,
        f.ci_high
    from fgt as f
    inner join nearest as n on n.unit_level = f.region_level and n.unit_code = f.region_code
    inner join {{ ref('param_report_lines') }} as l on l.line_name = f.line_name
)

select * from final
