-- svy_ratio_z: linearised values of the ratios of svy_ratio_point, one row per unit and estimate:
--   z_i = w_i (y_i - R x_i) / sum(w x)      (Woodruff; R survey::svyratio)
-- inputs: svy_ratio_values (as svy_ratio_point), svy_ratio_point, domain_params
with

params as (
    select total_level, total_code, by_level from {{ ref('domain_params') }}
),

unit_domains as (
    select p.total_level as domain_level, p.total_code as domain_code, v.stratum, v.psu, v.ssu, v.measure,
           v.line_name, cast(v.weight as double) as weight, cast(v.y as double) as y, cast(v.x as double) as x
    from {{ ref('svy_ratio_values') }} as v
    cross join params as p
    where p.total_level is not null and v.y is not null and v.x is not null and v.weight is not null
    union all
    select p.by_level as domain_level, v.domain_code, v.stratum, v.psu, v.ssu, v.measure, v.line_name,
           cast(v.weight as double), cast(v.y as double), cast(v.x as double)
    from {{ ref('svy_ratio_values') }} as v
    cross join params as p
    where p.by_level is not null and v.domain_code is not null and v.y is not null and v.x is not null
        and v.weight is not null
),

final as (
    select
        u.domain_level,
        u.domain_code,
        u.measure,
        u.line_name,
        cast(u.stratum as varchar) as stratum,
        cast(u.psu as varchar) as psu,
        cast(u.ssu as varchar) as ssu,
        u.weight * (u.y - e.estimate * u.x) / e.wx_total as z
    from unit_domains as u
    inner join {{ ref('svy_ratio_point') }} as e
        on u.domain_level = e.domain_level
        and u.domain_code = e.domain_code
        and u.measure = e.measure
        and coalesce(u.line_name, '') = coalesce(e.line_name, '')
)

select * from final
