-- gap_progress: progress toward 清零 — open gaps per dimension in every quarter up to the report
-- period, the change from the previous quarter and the next 清零 deadline on or after the period end.
-- Source: `risk` of each quarter (a quarter without a risk partition is absent, not zero).
-- key: period, dimension
with

params as (
    select * from {{ ref('param_run') }}
),

long as (
    select period, 'food' as dimension from {{ ref('risk') }} where sig_gap_food
    union all select period, 'clothing' from {{ ref('risk') }} where sig_gap_clothing
    union all select period, 'education' from {{ ref('risk') }} where sig_gap_education
    union all select period, 'medical' from {{ ref('risk') }} where sig_gap_medical
    union all select period, 'housing' from {{ ref('risk') }} where sig_gap_housing
    union all select period, 'water' from {{ ref('risk') }} where sig_gap_water
),

grid as (
    select q.period, d.code as dimension, d.label as dimension_label, d.sort_order
    from (select distinct r.period from {{ ref('risk') }} as r cross join params as p where r.period <= p.period) as q
    cross join (select code, label, sort_order from {{ ref('param_labels') }} where domain = 'dimension') as d
),

counted as (
    select
        g.period,
        g.dimension,
        g.dimension_label,
        g.sort_order,
        count(l.period) as households
    from grid as g
    left join long as l on l.period = g.period and l.dimension = g.dimension
    group by g.period, g.dimension, g.dimension_label, g.sort_order
),

next_deadline as (
    select min(dl.deadline) as next_deadline
    from {{ ref('param_deadlines') }} as dl
    cross join params as p
    where dl.deadline >= p.period_end
),

final as (
    select
        c.period,
        c.dimension,
        c.dimension_label,
        c.sort_order,
        c.households,
        c.households - lag(c.households) over (partition by c.dimension order by c.period) as change,
        d.next_deadline,
        date_diff('day', p.period_end, d.next_deadline) as days_to_deadline
    from counted as c
    cross join params as p
    cross join next_deadline as d
)

select * from final
order by period, sort_order
