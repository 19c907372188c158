-- crosscheck_by_rule: the quarter's department cross-check findings by rule (config/departments.toml
-- [[rule]] order): findings, households concerned, the department and its list's latest record
-- date. Every rule has a row (0 when nothing was found). Source: `crosscheck_findings`.
-- key: rule
with

params as (
    select * from {{ ref('param_run') }}
),

findings as (
    select f.*
    from {{ ref('crosscheck_findings') }} as f
    cross join params as p
    where f.period = p.period
),

final as (
    select
        r.rule,
        r.rule_order,
        r.rule_label,
        r.department,
        r.department_label,
        count(f.rule) as findings,
        count(distinct f.household_key) as households,
        max(f.record_date) as record_date
    from {{ ref('param_crosscheck_rules') }} as r
    left join findings as f on f.rule = r.rule
    group by r.rule, r.rule_order, r.rule_label, r.department, r.department_label
)

select * from final
order by rule_order
