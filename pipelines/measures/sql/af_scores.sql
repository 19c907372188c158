-- af_scores: per unit, the weighted deprivation score of the Alkire–Foster method in exact
-- integer arithmetic: score = score_num / score_den, with the indicator weights scaled to
-- integers over their common denominator (six weights of 1/6 become 1 each over 6, so a unit
-- deprived in all six scores exactly 1). A null indicator counts as not deprived.
-- inputs: af_input(domain_code, weight, <one boolean column per indicator>)
--         af_weights (one row: w_<indicator> integer weights, total_weight), from
--         config/measures.toml [multidimensional]; jinja only loops over the indicator names
with

flags as (
    select
        domain_code,
        cast(weight as double) as weight,
        {%- for ind in indicators %}
        case when {{ ind.column }} then 1 else 0 end as d_{{ ind.name }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ ref('af_input') }}
),

final as (
    select
        f.*,
        (
            {%- for ind in indicators %}
            w.w_{{ ind.name }} * f.d_{{ ind.name }}{{ " +" if not loop.last }}
            {%- endfor %}
        ) as score_num,
        w.total_weight as score_den
    from flags as f
    cross join {{ ref('af_weights') }} as w
)

select * from final
