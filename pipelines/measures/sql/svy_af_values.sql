-- svy_af_values: per sample unit and cutoff k, the Alkire–Foster quantities as ratio values for
-- svy_ratio_point (exact integer scores as af_scores.sql; a null indicator is not deprived):
--   af_H  = sum(w poor) / sum(w)                 y = poor,          x = 1
--   af_M0 = sum(w poor score) / sum(w)           y = poor x score,  x = 1
--   af_A  = sum(w poor score) / sum(w poor)      y = poor x score,  x = poor   (a ratio: M0 / H)
-- inputs: svy_af_input(stratum, psu, weight, domain_code, ind_<indicator> booleans),
--         af_weights (w_<indicator>, total_weight), af_cutoffs(k_name, k_num, k_den)
with

scores as (
    select
        i.stratum,
        i.psu,
        i.ssu,
        cast(i.weight as double) as weight,
        i.domain_code,
        (
            {%- for ind in indicators %}
            w.w_{{ ind.name }} * (case when i.{{ ind.column }} then 1 else 0 end){{ " +" if not loop.last }}
            {%- endfor %}
        ) as score_num,
        w.total_weight as score_den
    from {{ ref('svy_af_input') }} as i
    cross join {{ ref('af_weights') }} as w
),

unit_cutoffs as (
    select
        s.*,
        c.k_name,
        cast(c.k_num as double) / c.k_den as k_value,
        case when s.score_num * c.k_den >= c.k_num * s.score_den then 1.0 else 0.0 end as poor
    from scores as s
    cross join {{ ref('af_cutoffs') }} as c
),

final as (
    select stratum, psu, ssu, weight, domain_code, 'af_H' as measure, k_name as line_name, k_value as line_value,
           poor as y, 1.0 as x
    from unit_cutoffs
    union all
    select stratum, psu, ssu, weight, domain_code, 'af_M0' as measure, k_name, k_value,
           poor * score_num / score_den, 1.0
    from unit_cutoffs
    union all
    select stratum, psu, ssu, weight, domain_code, 'af_A' as measure, k_name, k_value,
           poor * score_num / score_den, poor
    from unit_cutoffs
)

select * from final
