-- water_levels: person-weighted shares at each 饮水安全 level (安全 safe / 基本安全 basic /
-- unsafe / not determinable), so that the basic level stays visible next to the AF water flag.
-- inputs: af_input-like water_input(domain_code, weight, water_level),
--         domain_params(total_level, total_code, by_level)
-- key: domain_level, domain_code, measure
with

params as (
    select total_level, total_code, by_level from {{ ref('domain_params') }}
),

unit_domains as (
    select p.total_level as domain_level, p.total_code as domain_code,
           cast(w.weight as double) as weight, coalesce(w.water_level, 'unknown') as water_level
    from {{ ref('water_input') }} as w
    cross join params as p
    where p.total_level is not null
    union all
    select p.by_level as domain_level, w.domain_code,
           cast(w.weight as double) as weight, coalesce(w.water_level, 'unknown') as water_level
    from {{ ref('water_input') }} as w
    cross join params as p
    where p.by_level is not null and w.domain_code is not null
),

by_domain as (
    select
        domain_level,
        domain_code,
        count(*) as n_units,
        sum(weight) as w_total,
        sum(case when water_level = 'safe' then weight else 0.0 end) as w_safe,
        sum(case when water_level = 'basic' then weight else 0.0 end) as w_basic,
        sum(case when water_level = 'unsafe' then weight else 0.0 end) as w_unsafe,
        sum(case when water_level = 'unknown' then weight else 0.0 end) as w_unknown
    from unit_domains
    group by domain_level, domain_code
),

final as (
    select domain_level, domain_code, 'water_level_share.safe' as measure,
           w_safe / nullif(w_total, 0) as estimate, n_units as n_unweighted, w_total as n_weighted
    from by_domain
    union all
    select domain_level, domain_code, 'water_level_share.basic', w_basic / nullif(w_total, 0), n_units, w_total
    from by_domain
    union all
    select domain_level, domain_code, 'water_level_share.unsafe', w_unsafe / nullif(w_total, 0), n_units, w_total
    from by_domain
    union all
    select domain_level, domain_code, 'water_level_share.unknown', w_unknown / nullif(w_total, 0), n_units, w_total
    from by_domain
)

select * from final
