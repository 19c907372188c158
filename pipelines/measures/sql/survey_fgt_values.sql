-- survey_fgt_values: per sample unit, the FGT indicator values at each line (and income itself
-- for the mean), in the long shape survey_ratio.sql estimates.
-- inputs: survey_input(stratum, psu, weight, income, domain_code)   weight = design weight x persons
--         fgt_lines(line_name, line_value)
with

units as (
    select stratum, psu, cast(weight as double) as weight, cast(income as double) as income, domain_code
    from {{ ref('survey_input') }}
),

fgt_values as (
    select
        u.stratum,
        u.psu,
        u.weight,
        u.domain_code,
        l.line_name,
        cast(l.line_value as double) as line_value,
        case when u.income is null then null when u.income < l.line_value then 1.0 else 0.0 end as fgt0,
        case when u.income is null then null
             when u.income < l.line_value then (l.line_value - u.income) / l.line_value
             else 0.0 end as gap
    from units as u
    cross join {{ ref('fgt_lines') }} as l
),

final as (
    select stratum, psu, weight, domain_code, 'fgt0' as measure, line_name, line_value, fgt0 as y
    from fgt_values
    union all
    select stratum, psu, weight, domain_code, 'fgt1' as measure, line_name, line_value, gap as y
    from fgt_values
    union all
    select stratum, psu, weight, domain_code, 'fgt2' as measure, line_name, line_value, gap * gap as y
    from fgt_values
    union all
    select stratum, psu, weight, domain_code, 'mean_income' as measure,
           cast(null as varchar) as line_name, cast(null as double) as line_value, income as y
    from units
)

select * from final
