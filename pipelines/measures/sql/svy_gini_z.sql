-- svy_gini_z: linearised values of the Gini coefficient (Langel & Tillé 2013, eq. for the
-- weighted estimator; as convey::svygini), one row per unit of each domain:
--   z_k = w_k [2 (N_k y_k - Y_k) + T - W y_k - G (T + W y_k)] / (W T)
-- N_k, Y_k: sum of w and of w y over the domain's units with income <= y_k. Without ties z_k is
-- exactly the derivative of the estimator with respect to w_k (tests/measures/test_survey_design.py).
-- inputs: svy_units, svy_gini_point
with

units as (
    select domain_level, domain_code, stratum, psu, ssu, weight, income
    from {{ ref('svy_units') }}
    where income is not null
),

cumulated as (
    select
        u.*,
        sum(u.weight) over (partition by u.domain_level, u.domain_code order by u.income
                            range between unbounded preceding and current row) as n_le,
        sum(u.weight * u.income) over (partition by u.domain_level, u.domain_code order by u.income
                                       range between unbounded preceding and current row) as y_le
    from units as u
),

final as (
    select
        c.domain_level,
        c.domain_code,
        'gini' as measure,
        cast(null as varchar) as line_name,
        c.stratum,
        c.psu,
        c.ssu,
        c.income,
        c.weight * (2.0 * (c.n_le * c.income - c.y_le) + g.wy_total - g.w_total * c.income
                    - g.gini * (g.wy_total + g.w_total * c.income)) / (g.w_total * g.wy_total) as z
    from cumulated as c
    inner join {{ ref('svy_gini_point') }} as g
        on c.domain_level = g.domain_level and c.domain_code = g.domain_code
)

select * from final
