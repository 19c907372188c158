-- monitoring_groups: households and persons per monitoring category (recorded in the registry and
-- proposed by the risk rules), per watch group (五类人, config/risk.toml [[watch_groups]]) and per
-- 风险消除 status, city level. Every configured category, group and status has a row (0 when no
-- household is in it); a code the data holds but no label names keeps its code.
-- Sources: `risk`, `watch_group_counts`.
-- key: grouping, group_code
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

-- (grouping, code) of the household: recorded and proposed category, 风险消除 status
tagged as (
    select 'recorded' as grouping, monitoring_category as code, persons from current_risk
    where monitoring_category is not null
    union all
    select 'proposed', proposed_category, persons from current_risk where proposed_category is not null
    union all
    select 'elimination', elimination_status, persons from current_risk where elimination_status is not null
),

domains as (
    select 'recorded' as grouping, 'monitoring_category' as domain, 1 as grouping_order
    union all select 'proposed', 'proposed_category', 2
    union all select 'elimination', 'elimination_status', 4
),

codes as (
    select d.grouping, d.grouping_order, lb.code, lb.label, lb.sort_order
    from domains as d
    inner join {{ ref('param_labels') }} as lb on lb.domain = d.domain
    union all
    select distinct d.grouping, d.grouping_order, t.code, t.code, 50
    from tagged as t
    inner join domains as d on d.grouping = t.grouping
    where not exists (select 1 from {{ ref('param_labels') }} as lb2
                      where lb2.domain = d.domain and lb2.code = t.code)
),

counted as (
    select
        c.grouping,
        c.grouping_order,
        c.code as group_code,
        c.label as group_label,
        c.sort_order,
        count(t.code) as households,
        coalesce(sum(t.persons), 0) as persons
    from codes as c
    left join tagged as t on t.grouping = c.grouping and t.code = c.code
    group by c.grouping, c.grouping_order, c.code, c.label, c.sort_order
),

watch as (
    select
        'watch' as grouping,
        3 as grouping_order,
        g.code as group_code,
        g.label as group_label,
        g.watch_group_order as sort_order,
        coalesce(w.households, 0) as households,
        coalesce(w.persons, 0) as persons
    from {{ ref('param_watch_groups') }} as g
    cross join params as p
    left join {{ ref('watch_group_counts') }} as w
        on w.period = p.period and w.region_level = 'city' and w.watch_group = g.code
),

final as (
    select
        u.grouping,
        coalesce(lg.label, u.grouping) as grouping_label,
        u.grouping_order,
        u.group_code,
        u.group_label,
        u.sort_order,
        u.households,
        u.persons
    from (select * from counted union all select * from watch) as u
    left join {{ ref('param_labels') }} as lg on lg.domain = 'monitoring_grouping' and lg.code = u.grouping
)

select * from final
order by grouping_order, sort_order, group_label
