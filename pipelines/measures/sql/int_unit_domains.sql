-- int_unit_domains: each unit (household) once per domain it belongs to — the total domain
-- (e.g. the city) and its by-domain (e.g. its county) — with its income and weight. Shared by
-- fgt.sql and gini.sql.
-- inputs: fgt_input(domain_code, income, weight)    one row per unit, weight = persons
--         domain_params(total_level, total_code, by_level)
with

params as (
    select total_level, total_code, by_level from {{ ref('domain_params') }}
),

units as (
    select domain_code, cast(income as double) as income, cast(weight as double) as weight
    from {{ ref('fgt_input') }}
    where income is not null and weight is not null
),

final as (
    select p.total_level as domain_level, p.total_code as domain_code, u.income, u.weight
    from units as u
    cross join params as p
    where p.total_level is not null
    union all
    select p.by_level as domain_level, u.domain_code, u.income, u.weight
    from units as u
    cross join params as p
    where p.by_level is not null and u.domain_code is not null
)

select * from final
