-- poor_by_cause: remaining poor households and persons (risk) by 主要致贫原因, and how many of them
-- are 兜底 households (贫困户属性 in config/report.toml [page_one].safety_net: 低保, 特困供养), with
-- the city total. Sources: `risk`, `households` (贫困户属性).
-- key: is_total, main_cause?
with

params as (
    select * from {{ ref('param_run') }}
),

poor_statuses as (
    select code from {{ ref('param_poor_statuses') }}
),

safety_net as (
    select code from {{ ref('param_report_codes') }} where list_name = 'safety_net'
),

poor as (
    select
        coalesce(r.main_cause, 'unknown') as main_cause,
        r.persons,
        case when h.household_attribute in (select code from safety_net) then 1 else 0 end as safety_net
    from {{ ref('risk') }} as r
    cross join params as p
    left join {{ ref('households') }} as h on h.period = r.period and h.household_key = r.household_key
    where r.period = p.period
      and r.poverty_status in (select code from poor_statuses)
),

counted as (
    select
        case when grouping(main_cause) = 1 then 1 else 0 end as is_total,
        main_cause,
        count(*) as households,
        coalesce(sum(persons), 0) as persons,
        sum(safety_net) as safety_net_households,
        count(*) - sum(safety_net) as other_households
    from poor
    group by grouping sets ((main_cause), ())
),

final as (
    select
        c.is_total,
        c.main_cause,
        case when c.is_total = 1 then st.total_label else coalesce(lb.label, c.main_cause) end as cause_label,
        coalesce(lb.sort_order, 99) as sort_order,
        c.households,
        c.persons,
        coalesce(c.safety_net_households, 0) as safety_net_households,
        coalesce(c.other_households, 0) as other_households
    from counted as c
    cross join {{ ref('param_report') }} as st
    left join {{ ref('param_labels') }} as lb on lb.domain = 'cause' and lb.code = c.main_cause
)

select * from final
order by is_total, households desc, sort_order, main_cause
