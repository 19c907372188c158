-- projects_policy_by_policy: (政策账, by policy) who received which policy, one row per policy
-- (config/report.toml [labels.policy], in its order) and county with the city total: the persons
-- or households receiving it by the registry and, for the policies a project type delivers
-- ([labels.policy_project_type]: 产业项目带贫, 公益岗位, 易地搬迁配套), the registered households the
-- project lists name, reconciled: in both, only in the registry, only in the project lists. A
-- household is placed in its registry county. More sources (a department's list) join as more
-- `received` rows: the reconciliation reads which sources name each unit.
-- Sources: `persons`, `households` (registry), `projects`, `project_beneficiaries` (project lists).
-- key: is_total, county_code?, policy
{% import '_macros.sql' as m %}
with

params as (
    select * from {{ ref('param_run') }}
),

persons as (
    select pe.*
    from {{ ref('persons') }} as pe
    cross join params as p
    where pe.period = p.period
),

households as (
    select h.*
    from {{ ref('households') }} as h
    cross join params as p
    where h.period = p.period
),

policies as (
    select code as policy, label as policy_label, sort_order
    from {{ ref('param_labels') }}
    where domain = 'policy'
),

policy_project_types as (
    -- policy -> the project type (code) whose beneficiaries receive it
    select code as policy, label as project_type
    from {{ ref('param_labels') }}
    where domain = 'policy_project_type'
),

registry_received as (
    select 'basic_medical' as policy, county_code, person_key as unit_key from persons
    where resident_med_ins or employee_med_ins
    union all
    select 'critical_illness', county_code, person_key from persons where critical_illness_ins
    union all
    select 'pension', county_code, person_key from persons where age >= 16 and pension_ins
    union all
    select 'dibao', county_code, person_key from persons where dibao
    union all
    select 'tekun', county_code, person_key from persons where tekun
    union all
    select 'public_jobs', county_code, household_key from persons where public_welfare_job
    union all
    select 'relocation', county_code, household_key from households where relocated
),

project_received as (
    select t.policy, h.county_code, h.household_key as unit_key
    from {{ ref('project_beneficiaries') }} as b
    inner join {{ ref('projects') }} as pr
        on pr.period = b.period and pr.project_key = b.project_key
    inner join policy_project_types as t on t.project_type = pr.project_type
    inner join households as h on h.household_key = b.household_key
    cross join params as p
    where b.period = p.period
      and b.in_registry
),

received as (
    select policy, county_code, unit_key, 'registry' as source from registry_received
    union all
    select policy, county_code, unit_key, 'projects' as source from project_received
),

units as (
    -- one row per policy and person (or household): which sources name it
    select
        r.policy,
        r.county_code,
        r.unit_key,
        max(case when r.source = 'registry' then 1 else 0 end) as in_registry,
        max(case when r.source = 'projects' then 1 else 0 end) as in_projects
    from received as r
    inner join policies as po on po.policy = r.policy
    group by r.policy, r.county_code, r.unit_key
),

counted as (
    {{ m.by_region('units', ref('region_names'), ref('param_report'), group=['policy'], aggregates={
        'registry_units': 'sum(s.in_registry)',
        'project_units': 'sum(s.in_projects)',
        'both_units': 'sum(s.in_registry * s.in_projects)',
        'registry_only': 'sum(s.in_registry * (1 - s.in_projects))',
        'projects_only': 'sum((1 - s.in_registry) * s.in_projects)'}) }}
),

final as (
    select
        c.is_total,
        c.county_code,
        c.county_name,
        c.policy,
        po.policy_label,
        po.sort_order,
        u.label as unit_label,
        c.registry_units,
        case when t.policy is not null then c.project_units end as project_units,
        case when t.policy is not null then c.both_units end as both_units,
        case when t.policy is not null then c.registry_only end as registry_only,
        case when t.policy is not null then c.projects_only end as projects_only
    from counted as c
    inner join policies as po on po.policy = c.policy
    left join policy_project_types as t on t.policy = c.policy
    left join {{ ref('param_labels') }} as u on u.domain = 'policy_unit' and u.code = c.policy
)

select * from final
order by sort_order, is_total, county_code
