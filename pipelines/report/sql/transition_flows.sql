-- transition_flows: households and persons per named flow between the previous quarter and the
-- report period: status flows (返贫, 新致贫, 脱贫, ...) and monitoring flows (风险消除, 新纳入监测, ...).
-- Persons are counted in the later snapshot (earlier one for households no longer on the register).
-- Source: `transitions` (risk stage).
-- key: flow_kind, flow
with

params as (
    select * from {{ ref('param_run') }}
),

current_transitions as (
    select t.*
    from {{ ref('transitions') }} as t
    cross join params as p
    where t.period = p.period
),

status_flows as (
    select
        'status' as flow_kind,
        1 as kind_order,
        status_flow as flow,
        any_value(previous_period) as previous_period,
        count(*) as households,
        coalesce(sum(coalesce(persons_to, persons_from)), 0) as persons
    from current_transitions
    where status_flow is not null
    group by status_flow
),

monitoring_flows as (
    select
        'monitoring',
        2,
        monitoring_flow,
        any_value(previous_period),
        count(*),
        coalesce(sum(coalesce(persons_to, persons_from)), 0)
    from current_transitions
    where monitoring_flow is not null
    group by monitoring_flow
),

final as (
    select
        f.flow_kind,
        coalesce(lk.label, f.flow_kind) as flow_kind_label,
        f.kind_order,
        f.flow,
        coalesce(ls.label, lm.label, f.flow) as flow_label,
        coalesce(ls.sort_order, lm.sort_order, 99) as sort_order,
        f.previous_period,
        f.households,
        f.persons
    from (select * from status_flows union all select * from monitoring_flows) as f
    left join {{ ref('param_labels') }} as ls on ls.domain = 'status_flow' and ls.code = f.flow and f.kind_order = 1
    left join {{ ref('param_labels') }} as lm on lm.domain = 'monitoring_flow' and lm.code = f.flow and f.kind_order = 2
    left join {{ ref('param_labels') }} as lk on lk.domain = 'flow_kind' and lk.code = f.flow_kind
)

select * from final
order by kind_order, sort_order, flow
