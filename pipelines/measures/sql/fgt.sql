-- fgt: Foster–Greer–Thorbecke P0, P1, P2 of a census (registry) population, no sampling error.
-- poor = income strictly below the line; gap = (line - income) / line for the poor, else 0.
-- inputs: fgt_input(domain_code, income, weight)    one row per unit (household), weight = persons
--         int_unit_domains (int_unit_domains.sql: those units in their total and by-domains)
--         fgt_lines(line_name, line_value)
-- key: domain_level, domain_code, measure, line_name?
-- share_of_poor: the domain's weighted poor / all units' weighted poor, per line.
--
-- Only the poor enter the sums: units join the lines they are strictly below (an inequality join,
-- not every unit x every line; the non-poor added 0 to every sum), and each domain and line gets
-- its zeros from the domain's totals (a line nobody is below).
with

units as (
    select cast(income as double) as income, cast(weight as double) as weight
    from {{ ref('fgt_input') }}
    where income is not null and weight is not null
),

unit_domains as (
    select * from {{ ref('int_unit_domains') }}
),

lines as (
    select line_name, cast(line_value as double) as line_value
    from {{ ref('fgt_lines') }}
),

domains as (
    select domain_level, domain_code, count(*) as n_units, sum(weight) as w_total
    from unit_domains
    group by domain_level, domain_code
),

poor_units as (
    select
        ud.domain_level,
        ud.domain_code,
        l.line_name,
        ud.weight,
        (l.line_value - ud.income) / l.line_value as gap
    from unit_domains as ud
    inner join lines as l on ud.income < l.line_value
),

poor_sums as (
    select
        domain_level,
        domain_code,
        line_name,
        sum(weight) as w_poor,
        sum(weight * gap) as w_gap,
        sum(weight * gap * gap) as w_gap2
    from poor_units
    group by domain_level, domain_code, line_name
),

by_domain as (
    select
        d.domain_level,
        d.domain_code,
        l.line_name,
        l.line_value,
        d.n_units,
        d.w_total,
        coalesce(p.w_poor, 0.0) as w_poor,
        coalesce(p.w_gap, 0.0) as w_gap,
        coalesce(p.w_gap2, 0.0) as w_gap2
    from domains as d
    cross join lines as l
    left join poor_sums as p
        on p.domain_level = d.domain_level and p.domain_code = d.domain_code and p.line_name = l.line_name
),

all_poor as (
    select l.line_name, coalesce(sum(u.weight), 0.0) as w_poor_all
    from lines as l
    left join units as u on u.income < l.line_value
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
