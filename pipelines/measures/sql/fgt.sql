-- fgt: Foster–Greer–Thorbecke P0, P1, P2 of a census (registry) population, no sampling error.
-- poor = income strictly below the line; gap = (line - income) / line for the poor, else 0.
-- inputs: fgt_input(domain_code, income, weight)    one row per unit (household), weight = persons
--         int_unit_domains (int_unit_domains.sql: those units in their total and by-domains)
--         fgt_lines(line_name, line_value)
-- key: domain_level, domain_code, measure, line_name?
-- share_of_poor: the domain's weighted poor / all units' weighted poor, per line.
with

units as (
    select cast(income as double) as income, cast(weight as double) as weight
    from {{ ref('fgt_input') }}
    where income is not null and weight is not null
),

unit_domains as (
    select * from {{ ref('int_unit_domains') }}
),

unit_lines as (
    select
        ud.domain_level,
        ud.domain_code,
        l.line_name,
        cast(l.line_value as double) as line_value,
        ud.weight,
        case when ud.income < l.line_value then 1.0 else 0.0 end as poor,
        case when ud.income < l.line_value then (l.line_value - ud.income) / l.line_value
             else 0.0 end as gap
    from unit_domains as ud
    cross join {{ ref('fgt_lines') }} as l
),

by_domain as (
    select
        domain_level,
        domain_code,
        line_name,
        line_value,
        count(*) as n_units,
        sum(weight) as w_total,
        sum(weight * poor) as w_poor,
        sum(weight * gap) as w_gap,
        sum(weight * gap * gap) as w_gap2
    from unit_lines
    group by domain_level, domain_code, line_name, line_value
),

all_poor as (
    select l.line_name, sum(case when u.income < l.line_value then u.weight else 0.0 end) as w_poor_all
    from units as u
    cross join {{ ref('fgt_lines') }} as l
    group by l.line_name
),

final as (
    select domain_level, domain_code, 'fgt0' as measure, line_name, line_value,
           w_poor / nullif(w_total, 0) as estimate, n_units as n_unweighted, w_total as n_weighted
    from by_domain
    union all
    select domain_level, domain_code, 'fgt1' as measure, line_name, line_value,
           w_gap / nullif(w_total, 0) as estimate, n_units as n_unweighted, w_total as n_weighted
    from by_domain
    union all
    select domain_level, domain_code, 'fgt2' as measure, line_name, line_value,
           w_gap2 / nullif(w_total, 0) as estimate, n_units as n_unweighted, w_total as n_weighted
    from by_domain
    union all
    select d.domain_level, d.domain_code, 'share_of_poor' as measure, d.line_name, d.line_value,
           d.w_poor / nullif(a.w_poor_all, 0) as estimate, d.n_units as n_unweighted,
           d.w_poor as n_weighted
    from by_domain as d
    inner join all_poor as a on d.line_name = a.line_name
)

select * from final
