-- projects_by_county_type: (项目账) the quarter's poverty projects by county and 项目类型 (each
-- county's all-types row and the city's included): projects, money in 万元 (计划投资, 到位资金, 已支付),
-- 资金拨付率 = 已支付 / 到位资金 (money paid out of the money that has arrived), projects completed by
-- the quarter's end, the 带贫户数 the lists state, the households they list, and 带贫 households:
-- distinct households of the registry this quarter benefiting from at least one project (a
-- household in two projects counts once), against the county's registered households.
-- Sources: `projects`, `project_beneficiaries` (project lists), `households` (registry).
-- key: is_total, county_code?, project_type
{% import '_macros.sql' as m %}
with

params as (
    select * from {{ ref('param_run') }}
),

projects as (
    select pr.*
    from {{ ref('projects') }} as pr
    cross join params as p
    where pr.period = p.period
),

beneficiaries as (
    select b.*
    from {{ ref('project_beneficiaries') }} as b
    cross join params as p
    where b.period = p.period
),

by_type as (
    -- each project once under its type and once under 'all'; each beneficiary likewise
    select project_type as type_code, county_code, 1 as project, planned, received, paid,
        case when completed_on <= (select period_end from params) then 1 else 0 end as completed,
        stated_households, cast(null as varchar) as listed_key, cast(null as varchar) as household_key
    from projects
    union all
    select pr.project_type, pr.county_code, 0, null, null, null, 0, null, b.beneficiary_key,
        case when b.in_registry then b.household_key end
    from beneficiaries as b
    inner join projects as pr on pr.project_key = b.project_key
),

units as (
    select coalesce(type_code, 'unknown') as project_type, county_code, project, planned, received, paid, completed,
        stated_households, listed_key, household_key
    from by_type
    union all
    select 'all' as project_type, county_code, project, planned, received, paid, completed,
        stated_households, listed_key, household_key
    from by_type
),

counted as (
    {{ m.by_region('units', ref('region_names'), ref('param_report'), group=['project_type'], aggregates={
        'projects': 'sum(s.project)',
        'planned': 'round(sum(s.planned), 4)',
        'received': 'round(sum(s.received), 4)',
        'paid': 'round(sum(s.paid), 4)',
        'completed': 'sum(s.completed)',
        'stated_households': 'sum(s.stated_households)',
        'listed_households': 'count(distinct s.listed_key)',
        'households': 'count(distinct s.household_key)'},
      derived={'disbursement_rate': 't.paid / nullif(t.received, 0)'}) }}
),

registry as (
    select h.county_code, count(*) as registry_households
    from {{ ref('households') }} as h
    cross join params as p
    where h.period = p.period
    group by h.county_code
),

final as (
    select
        c.is_total,
        c.county_code,
        c.county_name,
        c.project_type,
        case when c.project_type = 'all' then rt.label else coalesce(lb.label, rt_unknown.label) end as type_label,
        case when c.project_type = 'all' then 0 else coalesce(lb.sort_order, 99) end as sort_order,
        c.projects,
        c.planned,
        c.received,
        c.paid,
        c.disbursement_rate,
        c.completed,
        c.stated_households,
        c.listed_households,
        c.households,
        case when c.project_type = 'all' then
            case when c.is_total = 1 then (select sum(registry_households) from registry) else r.registry_households end
        end as registry_households,
        case when c.project_type = 'all' then c.households * 1.0 / nullif(
            case when c.is_total = 1 then (select sum(registry_households) from registry) else r.registry_households end, 0)
        end as households_share
    from counted as c
    left join registry as r on r.county_code = c.county_code and c.is_total = 0
    left join {{ ref('param_labels') }} as lb on lb.domain = 'project_type' and lb.code = c.project_type
    left join {{ ref('param_labels') }} as rt on rt.domain = 'report_text' and rt.code = 'all_types'
    left join {{ ref('param_labels') }} as rt_unknown on rt_unknown.domain = 'report_text' and rt_unknown.code = 'unknown_type'
)

select * from final
order by is_total, county_code, sort_order, project_type
