-- crosscheck_findings: every finding of the period's department cross-checks, one row per rule and
-- subject (a person; a household for 水利): the rule (config/departments.toml [[rule]]) and its
-- department, the department list's record date, a detail without personal data, and where.
-- key: period, rule, household_key?, person_key?
{%- set rule_sql = {'insured_not_enrolled': ref('xc_insured_not_enrolled'),
                   'high_out_of_pocket': ref('xc_high_out_of_pocket'),
                   'assistance_not_in_registry': ref('xc_assistance_not_in_registry'),
                   'assistance_not_in_civil': ref('xc_assistance_not_in_civil'),
                   'new_disability': ref('xc_new_disability'),
                   'child_not_on_roster': ref('xc_child_not_on_roster'),
                   'unsafe_housing_grade': ref('xc_unsafe_housing_grade'),
                   'water_not_covered': ref('xc_water_not_covered'),
                   'dead_in_registry': ref('xc_dead_in_registry')} %}
with

run as (
    select * from {{ ref('param_run') }}
),

rules as (
    select * from {{ ref('param_crosscheck_rules') }}
),

{#- one model per rule (xc_<rule>.sql), in config order; pipeline.py refuses a rule without its model #}
unioned as (
    {%- for rule in rule_models %}
    select '{{ rule }}' as rule, * from {{ rule_sql[rule] }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

final as (
    select
        run.period,
        u.rule,
        r.department,
        u.household_key,
        u.person_key,
        u.county_code,
        u.township_code,
        u.village_code,
        u.record_date,
        r.rule_label,
        r.department_label,
        u.detail
    from unioned as u
    cross join run
    inner join rules as r on r.rule = u.rule
)

select * from final
