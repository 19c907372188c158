-- gini: weighted Gini coefficient and weighted mean of income, point estimates (no SE).
-- Gini = 1 - sum_i w_i (2 C_{i-1} + w_i y_i) / (W T), units sorted by income, C_{i-1} the
-- cumulative sum of w y before unit i, W = sum w, T = sum w y (ties do not change the result).
-- key: domain_level, domain_code, measure
-- inputs: int_unit_domains (int_unit_domains.sql: units in their total and by-domains)
with

unit_domains as (
    select * from {{ ref('int_unit_domains') }}
),

cumulated as (
    select
        domain_level,
        domain_code,
        income,
        weight,
        coalesce(sum(weight * income) over (
            partition by domain_level, domain_code
            order by income
            rows between unbounded preceding and 1 preceding
        ), 0.0) as cum_before
    from unit_domains
),

by_domain as (
    select
        domain_level,
        domain_code,
        count(*) as n_units,
        sum(weight) as w_total,
        sum(weight * income) as wy_total,
        sum(weight * (2.0 * cum_before + weight * income)) as lorenz_sum
    from cumulated
    group by domain_level, domain_code
),

final as (
    select domain_level, domain_code, 'gini' as measure,
           1.0 - lorenz_sum / nullif(w_total * wy_total, 0) as estimate,
           n_units as n_unweighted, w_total as n_weighted
    from by_domain
    union all
    select domain_level, domain_code, 'mean_income' as measure,
           wy_total / nullif(w_total, 0) as estimate,
           n_units as n_unweighted, w_total as n_weighted
    from by_domain
)

select * from final
