-- gap_progress: progress toward 清零 — open gaps per dimension in every quarter up to the report
-- period, the change from the previous quarter and each quarter's own 清零 deadline (the first on
-- or after that quarter's end) with the days from the quarter's end to it.
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

-- each quarter's next 清零 deadline on or after its end
quarter_deadlines as (
    select q.period, q.period_end, min(dl.deadline) as next_deadline
    from {{ ref('param_quarters') }} as q
    inner join {{ ref('param_deadlines') }} as dl on dl.deadline >= q.period_end
    where q.period in (select distinct period from counted)
    group by q.period, q.period_end
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
        date_diff('day', d.period_end, d.next_deadline) as days_to_deadline
    from counted as c
    inner join quarter_deadlines as d on d.period = c.period
)

select * from final
order by period, sort_order
