-- svy_gini_point: design-weighted Gini coefficient of income per domain (the formula of gini.sql:
-- Gini = 1 - sum_i w_i (2 C_{i-1} + w_i y_i) / (W T), units sorted by income), with the totals its
-- linearisation (svy_gini_z.sql) needs: W = sum w, T = sum w y.
-- inputs: svy_units (svy_units.sql)
-- key: domain_level, domain_code
with

units as (
    select domain_level, domain_code, weight, income from {{ ref('svy_units') }} where income is not null
),

cumulated as (
    select
        domain_level,
        domain_code,
        weight,
        income,
        coalesce(sum(weight * income) over (
            partition by domain_level, domain_code
            order by income
            rows between unbounded preceding and 1 preceding
        ), 0.0) as cum_before
    from units
),

final as (
    select
        domain_level,
        domain_code,
        count(*) as n_unweighted,
        sum(weight) as w_total,
        sum(weight * income) as wy_total,
        1.0 - sum(weight * (2.0 * cum_before + weight * income)) / nullif(sum(weight) * sum(weight * income), 0)
            as gini
    from cumulated
    group by domain_level, domain_code
)

select * from final
