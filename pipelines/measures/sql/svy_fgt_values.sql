-- svy_fgt_values: per sample unit, the FGT indicator at each line and the income itself, as
-- ratio values (x = 1) for svy_ratio_point: poor = income strictly below the line, gap =
-- (line - income) / line for the poor. An unknown income leaves y unknown (outside the domain).
-- inputs: svy_input(stratum, psu, weight, domain_code, income), fgt_lines(line_name, line_value)
with

units as (
    select stratum, psu, ssu, cast(weight as double) as weight, domain_code, cast(income as double) as income
    from {{ ref('svy_input') }}
),

unit_lines as (
    select
        u.stratum,
        u.psu,
        u.ssu,
        u.weight,
        u.domain_code,
        l.line_name,
        cast(l.line_value as double) as line_value,
        case when u.income is null then null when u.income < l.line_value then 1.0 else 0.0 end as poor,
        case when u.income is null then null
             when u.income < l.line_value then (l.line_value - u.income) / l.line_value
             else 0.0 end as gap
    from units as u
    cross join {{ ref('fgt_lines') }} as l
),

final as (
    select stratum, psu, ssu, weight, domain_code, 'fgt0' as measure, line_name, line_value, poor as y, 1.0 as x
    from unit_lines
    union all
    select stratum, psu, ssu, weight, domain_code, 'fgt1' as measure, line_name, line_value, gap as y, 1.0 as x
    from unit_lines
    union all
    select stratum, psu, ssu, weight, domain_code, 'fgt2' as measure, line_name, line_value, gap * gap as y, 1.0 as x
    from unit_lines
    union all
    select stratum, psu, ssu, weight, domain_code, 'mean_income' as measure, cast(null as varchar) as line_name,
           cast(null as double) as line_value, income as y, 1.0 as x
    from units
)

select * from final
