-- nb_gaps: households with a 两不愁三保障 / 饮水安全 gap (the risk stage's sig_gap_* from the stored
-- deprivations) per dimension for each unit of the drill path, in the period and the comparison
-- period; dimension labels from config/validate.toml [criteria].
-- key: period, unit_level, unit_code, dimension
--
-- inputs: nb_units, risk, param_criteria_labels (criterion, label, sort_order), param_notebook
with

nb as (
    select * from {{ ref('param_notebook') }}
),

periods as (
    select period from nb
    union
    select compare_period from nb where compare_period is not null
),

long as (
    select period, village_code, 'food' as dimension from {{ ref('risk') }} where sig_gap_food
    union all select period, village_code, 'clothing' from {{ ref('risk') }} where sig_gap_clothing
    union all select period, village_code, 'education' from {{ ref('risk') }} where sig_gap_education
    union all select period, village_code, 'medical' from {{ ref('risk') }} where sig_gap_medical
    union all select period, village_code, 'housing' from {{ ref('risk') }} where sig_gap_housing
    union all select period, village_code, 'water' from {{ ref('risk') }} where sig_gap_water
),

grid as (
    select p.period, u.unit_order, u.role, u.unit_level, u.unit_code, u.unit_name, d.criterion as dimension,
           d.label as dimension_label, d.sort_order
    from {{ ref('nb_units') }} as u
    cross join periods as p
    cross join {{ ref('param_criteria_labels') }} as d
),

final as (
    select
        g.period,
        g.unit_order,
        g.role,
        g.unit_level,
        g.unit_code,
        g.unit_name,
        g.dimension,
        g.dimension_label,
        g.sort_order,
        count(l.dimension) as households
    from grid as g
    left join long as l
        on l.period = g.period and l.dimension = g.dimension and starts_with(l.village_code, g.unit_code)
    group by all
)

select * from final
