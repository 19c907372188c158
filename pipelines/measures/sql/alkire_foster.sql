-- alkire_foster: Alkire–Foster (2011) adjusted headcount M0 = H x A at each cutoff k, with the
-- uncensored and censored headcount of each indicator and its contribution to M0.
-- poor at k = a/b  <=>  score_num * b >= a * score_den   (integers: no float rounding)
--   H = weighted poor / weighted units; A = mean score among the poor; M0 = H A
--   censored headcount_j = weighted units poor and deprived in j / weighted units
--   contribution_j = (w_j / sum w) censored_j / M0   (shares, summing to 1)
-- key: domain_level, domain_code, measure, line_name?
-- inputs: af_scores (af_scores.sql), af_cutoffs(k_name, k_num, k_den), af_weights (one row:
--         w_<indicator>, total_weight), domain_params(total_level, total_code, by_level)
with

params as (
    select total_level, total_code, by_level from {{ ref('domain_params') }}
),

unit_domains as (
    select p.total_level as domain_level, p.total_code as domain_code, s.weight, s.score_num,
           s.score_den{% for ind in indicators %}, s.d_{{ ind.name }}{% endfor %}
    from {{ ref('af_scores') }} as s
    cross join params as p
    where p.total_level is not null
    union all
    select p.by_level as domain_level, s.domain_code, s.weight, s.score_num,
           s.score_den{% for ind in indicators %}, s.d_{{ ind.name }}{% endfor %}
    from {{ ref('af_scores') }} as s
    cross join params as p
    where p.by_level is not null and s.domain_code is not null
),

uncensored as (
    select
        domain_level,
        domain_code,
        count(*) as n_units,
        sum(weight) as w_total,
        {%- for ind in indicators %}
        sum(weight * d_{{ ind.name }}) as w_{{ ind.name }}{{ "," if not loop.last }}
        {%- endfor %}
    from unit_domains
    group by domain_level, domain_code
),

unit_cutoffs as (
    select
        u.*,
        c.k_name,
        cast(c.k_num as double) / c.k_den as k_value,
        case when u.score_num * c.k_den >= c.k_num * u.score_den then 1 else 0 end as poor
    from unit_domains as u
    cross join {{ ref('af_cutoffs') }} as c
),

censored as (
    select
        domain_level,
        domain_code,
        k_name,
        k_value,
        count(*) as n_units,
        sum(weight) as w_total,
        sum(weight * poor) as w_poor,
        sum(weight * poor * score_num) / max(w.total_weight) as w_poor_score,
        {%- for ind in indicators %}
        sum(weight * poor * d_{{ ind.name }}) as c_{{ ind.name }}{{ "," if not loop.last }}
        {%- endfor %}
    from unit_cutoffs
    cross join {{ ref('af_weights') }} as w
    group by domain_level, domain_code, k_name, k_value
),

final as (
    select domain_level, domain_code, 'af_H' as measure, k_name as line_name, k_value as line_value,
           w_poor / nullif(w_total, 0) as estimate, n_units as n_unweighted, w_total as n_weighted
    from censored
    union all
    select domain_level, domain_code, 'af_A' as measure, k_name, k_value,
           w_poor_score / nullif(w_poor, 0), n_units, w_total
    from censored
    union all
    select domain_level, domain_code, 'af_M0' as measure, k_name, k_value,
           w_poor_score / nullif(w_total, 0), n_units, w_total
    from censored
    {%- for ind in indicators %}
    union all
    select domain_level, domain_code, 'af_censored_headcount.{{ ind.name }}' as measure, k_name, k_value,
           c_{{ ind.name }} / nullif(w_total, 0), n_units, w_total
    from censored
    union all
    select domain_level, domain_code, 'af_contribution.{{ ind.name }}' as measure, k_name, k_value,
           w.w_{{ ind.name }} * c_{{ ind.name }} / nullif(w_poor_score * w.total_weight, 0), n_units, w_total
    from censored
    cross join {{ ref('af_weights') }} as w
    union all
    select domain_level, domain_code, 'af_uncensored_headcount.{{ ind.name }}' as measure,
           cast(null as varchar), cast(null as double),
           w_{{ ind.name }} / nullif(w_total, 0), n_units, w_total
    from uncensored
    {%- endfor %}
)

select * from final
