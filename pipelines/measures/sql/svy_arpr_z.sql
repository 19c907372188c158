-- svy_arpr_z: linearised values of the at-risk-of-poverty rate with an estimated line (Deville
-- 1999; Osier 2009, as Eurostat and convey::svyarpr), the sum of two parts for a domain d:
--   rate at a fixed line:  d_i w_i (I(y_i < t) - R_d) / W_d                 (units of the domain)
--   the line moving:       share f_d(t) u_i,  u_i = -w_i (I(y_i <= m) - 1/2) / (W f(m))
--                          (every unit of the sample: u is the median's linearised value)
-- The median's own row uses u, the line's share x u.
-- inputs: svy_input, svy_units, svy_arpr_domains, domain_params
with

domains as (
    select * from {{ ref('svy_arpr_domains') }}
),

sample as (
    select cast(stratum as varchar) as stratum, cast(psu as varchar) as psu, cast(ssu as varchar) as ssu,
           cast(weight as double) as weight,
           cast(income as double) as income
    from {{ ref('svy_input') }}
    where weight is not null and income is not null
),

median_z as (
    select s.stratum, s.psu, s.ssu,
           -s.weight * ((case when s.income <= l.median then 1.0 else 0.0 end) - 0.5) / (l.w_all * l.f_median) as u
    from sample as s
    cross join (select max(median) as median, max(w_all) as w_all, max(f_median) as f_median from domains) as l
),

final as (
    select u.domain_level, u.domain_code, 'arpr' as measure, d.line_name, u.stratum, u.psu, u.ssu,
           u.weight * ((case when u.income < d.line_value then 1.0 else 0.0 end) - d.rate) / d.w_domain as z
    from {{ ref('svy_units') }} as u
    inner join domains as d on u.domain_level = d.domain_level and u.domain_code = d.domain_code
    where u.income is not null
    union all
    select d.domain_level, d.domain_code, 'arpr' as measure, d.line_name, m.stratum, m.psu, m.ssu,
           d.share * d.f_line * m.u as z
    from domains as d
    cross join median_z as m
    union all
    select d.domain_level, d.domain_code, 'relative_line' as measure, d.line_name, m.stratum, m.psu, m.ssu,
           d.share * m.u as z
    from domains as d
    inner join {{ ref('domain_params') }} as p
        on d.domain_level = p.total_level and d.domain_code = p.total_code
    cross join median_z as m
    union all
    select d.domain_level, d.domain_code, 'median_income' as measure, cast(null as varchar) as line_name,
           m.stratum, m.psu, m.ssu, m.u as z
    from domains as d
    inner join {{ ref('domain_params') }} as p
        on d.domain_level = p.total_level and d.domain_code = p.total_code
    cross join median_z as m
)

select * from final
