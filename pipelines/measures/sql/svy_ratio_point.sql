-- svy_ratio_point: design-weighted ratios R = sum(w y) / sum(w x) over each domain (a mean when
-- x = 1: FGT indices, mean income, Alkire–Foster H and M0; a true ratio for A = M0 / H).
-- A unit with y or x unknown counts as outside the domain (R keeps the design on na.rm).
-- inputs: svy_ratio_values(stratum, psu, weight, domain_code, measure, line_name, line_value, y, x)
--         domain_params(total_level, total_code, by_level)
-- key: domain_level, domain_code, measure, line_name?
with

params as (
    select total_level, total_code, by_level from {{ ref('domain_params') }}
),

unit_domains as (
    select p.total_level as domain_level, p.total_code as domain_code, v.measure, v.line_name, v.line_value,
           cast(v.weight as double) as weight, cast(v.y as double) as y, cast(v.x as double) as x
    from {{ ref('svy_ratio_values') }} as v
    cross join params as p
    where p.total_level is not null and v.y is not null and v.x is not null and v.weight is not null
    union all
    select p.by_level as domain_level, v.domain_code, v.measure, v.line_name, v.line_value,
           cast(v.weight as double), cast(v.y as double), cast(v.x as double)
    from {{ ref('svy_ratio_values') }} as v
    cross join params as p
    where p.by_level is not null and v.domain_code is not null and v.y is not null and v.x is not null
        and v.weight is not null
),

final as (
    select
        domain_level,
        domain_code,
        measure,
        line_name,
        max(line_value) as line_value,
        sum(weight * y) / nullif(sum(weight * x), 0) as estimate,
        sum(weight * x) as wx_total,
        count(*) as n_unweighted,
        sum(weight) as n_weighted
    from unit_domains
    group by domain_level, domain_code, measure, line_name
)

select * from final
