-- svy_units: each sample unit once per domain it belongs to (the whole sample, and its value of
-- the by-column), with its design coordinates; the input of every design-based estimator.
-- inputs: svy_input(stratum, psu, ssu, weight, domain_code, income)   one row per sample unit
--         domain_params(total_level, total_code, by_level)
with

params as (
    select total_level, total_code, by_level from {{ ref('domain_params') }}
),

units as (
    select
        cast(stratum as varchar) as stratum,
        cast(psu as varchar) as psu,
        cast(ssu as varchar) as ssu,
        cast(weight as double) as weight,
        cast(domain_code as varchar) as domain_code,
        cast(income as double) as income
    from {{ ref('svy_input') }}
    where weight is not null
),

final as (
    select p.total_level as domain_level, p.total_code as domain_code, u.stratum, u.psu, u.ssu, u.weight, u.income
    from units as u
    cross join params as p
    where p.total_level is not null
    union all
    select p.by_level as domain_level, u.domain_code, u.stratum, u.psu, u.ssu, u.weight, u.income
    from units as u
    cross join params as p
    where p.by_level is not null and u.domain_code is not null
)

select * from final
