-- svy_arpr_domains: at-risk-of-poverty rate with a relative line (Eurostat): line t = share x the
-- weighted median m of the whole sample; per domain the weighted share of persons with income
-- strictly below t (the same "poor" as FGT), and the kernel densities its linearisation needs.
--   median, quartiles: smallest income whose cumulative weight reaches 1/2 (1/4, 3/4) of the total
--   f(x) = sum w phi((x - y) / h) / (W h), Gaussian phi, h = bandwidth_factor x IQR x n^(-1/5)
-- inputs: svy_input(stratum, psu, weight, domain_code, income), svy_units (svy_units.sql),
--         arpr_params(line_name, share, bandwidth_factor)
-- key: domain_level, domain_code
with

params as (
    select line_name, cast(share as double) as share, cast(bandwidth_factor as double) as bandwidth_factor
    from {{ ref('arpr_params') }}
),

sample as (
    select cast(weight as double) as weight, cast(income as double) as income
    from {{ ref('svy_input') }}
    where weight is not null and income is not null
),

totals as (
    select sum(weight) as w_all, count(*) as n_all from sample
),

cumulated as (
    select income, sum(weight) over (order by income rows between unbounded preceding and current row) as cum_w
    from sample
),

quantiles as (
    select
        min(case when c.cum_w >= 0.25 * t.w_all then c.income end) as q25,
        min(case when c.cum_w >= 0.50 * t.w_all then c.income end) as median,
        min(case when c.cum_w >= 0.75 * t.w_all then c.income end) as q75
    from cumulated as c
    cross join totals as t
),

line as (
    select
        p.line_name,
        p.share,
        q.median,
        p.share * q.median as line_value,
        -- no spread between the quartiles: no density, so no standard error (svy_variance: null)
        nullif(p.bandwidth_factor * (q.q75 - q.q25) * power(cast(t.n_all as double), -0.2), 0) as h,
        t.w_all
    from quantiles as q
    cross join totals as t
    cross join params as p
),

density_at_median as (
    select sum(s.weight * exp(-0.5 * ((l.median - s.income) / l.h) * ((l.median - s.income) / l.h)))
           / (max(l.w_all) * max(l.h) * sqrt(2.0 * pi())) as f_median
    from sample as s
    cross join line as l
),

by_domain as (
    select
        u.domain_level,
        u.domain_code,
        count(*) as n_unweighted,
        sum(u.weight) as w_domain,
        sum(case when u.income < l.line_value then u.weight else 0.0 end) / sum(u.weight) as rate,
        sum(u.weight * exp(-0.5 * ((l.line_value - u.income) / l.h) * ((l.line_value - u.income) / l.h)))
            / (sum(u.weight) * max(l.h) * sqrt(2.0 * pi())) as f_line
    from {{ ref('svy_units') }} as u
    cross join line as l
    where u.income is not null
    group by u.domain_level, u.domain_code
),

final as (
    select
        d.domain_level,
        d.domain_code,
        l.line_name,
        l.share,
        l.line_value,
        l.median,
        l.h,
        l.w_all,
        m.f_median,
        d.n_unweighted,
        d.w_domain,
        d.rate,
        d.f_line
    from by_domain as d
    cross join line as l
    cross join density_at_median as m
)

select * from final
