-- nb_risk_levels: households by risk level (高/中/低/无) for each unit of the drill path, in the
-- period and the comparison period.
-- key: period, unit_level, unit_code, risk_level
--
-- inputs: nb_units, risk, param_levels (level_order, code, label), param_notebook
with

nb as (
    select * from {{ ref('param_notebook') }}
),

periods as (
    select period from nb
    union
    select compare_period from nb where compare_period is not null
),

grid as (
    select p.period, u.unit_order, u.role, u.unit_level, u.unit_code, u.unit_name, l.code as risk_level,
           l.label as risk_level_label, l.level_order
    from {{ ref('nb_units') }} as u
    cross join periods as p
    cross join {{ ref('param_levels') }} as l
),

final as (
    select
        g.period,
        g.unit_order,
        g.role,
        g.unit_level,
        g.unit_code,
        g.unit_name,
        g.risk_level,
        g.risk_level_label,
        g.level_order,
        count(r.household_key) as households
    from grid as g
    left join {{ ref('risk') }} as r
        on r.period = g.period and r.risk_level = g.risk_level and starts_with(r.village_code, g.unit_code)
    group by all
)

select * from final
