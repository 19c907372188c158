-- monitoring_groups: households and persons per monitoring category (recorded in the registry and
-- proposed by the risk rules), per watch group (五类人, config/risk.toml [[watch_groups]]) and per
-- 风险消除 status, city level. Sources: `risk`, `watch_group_counts`.
-- key: grouping, group_label
with

params as (
    select * from {{ ref('param_run') }}
),

current_risk as (
    select r.*
    from {{ ref('risk') }} as r
    cross join params as p
    where r.period = p.period
),

recorded as (
    select
        '已登记监测类别' as grouping,
        coalesce(lb.label, r.monitoring_category) as group_label,
        1 as grouping_order,
        min(coalesce(lb.sort_order, 50)) as sort_order,
        count(*) as households,
        coalesce(sum(r.persons), 0) as persons
    from current_risk as r
    left join {{ ref('param_labels') }} as lb on lb.domain = 'monitoring_category' and lb.code = r.monitoring_category
    where r.monitoring_category is not null
    group by 1, 2
),

proposed as (
    select
        '规则建议监测类别' as grouping,
        r.proposed_category_label as group_label,
        2 as grouping_order,
        min(coalesce(lb.sort_order, 50)) as sort_order,
        count(*) as households,
        coalesce(sum(r.persons), 0) as persons
    from current_risk as r
    left join {{ ref('param_labels') }} as lb on lb.domain = 'monitoring_category' and lb.code = r.proposed_category
    where r.proposed_category is not null
    group by 1, 2
),

watch as (
    select
        '重点人群(五类人)' as grouping,
        w.watch_group_label as group_label,
        3 as grouping_order,
        w.watch_group_order as sort_order,
        w.households,
        w.persons
    from {{ ref('watch_group_counts') }} as w
    cross join params as p
    where w.period = p.period
      and w.region_level = 'city'
),

elimination as (
    select
        '风险消除核查(已登记监测户)' as grouping,
        coalesce(lb.label, r.elimination_status) as group_label,
        4 as grouping_order,
        min(coalesce(lb.sort_order, 50)) as sort_order,
        count(*) as households,
        coalesce(sum(r.persons), 0) as persons
    from current_risk as r
    left join {{ ref('param_labels') }} as lb on lb.domain = 'elimination_status' and lb.code = r.elimination_status
    where r.elimination_status is not null
    group by 1, 2
),

final as (
    select * from recorded
    union all select * from proposed
    union all select * from watch
    union all select * from elimination
)

select * from final
order by grouping_order, sort_order, group_label
