-- headline: page one — the director's questions for the quarter, one row per item, each number
-- with the same number of the previous quarter and the change. Every number is read from the row
-- it names: `measures` (city incidence, survey incidence), `risk` (poor households, households
-- below the guideline, persons), `problems` (open 两不愁三保障 / 饮水 problems and those past their
-- 清零 deadline), `transitions` (返贫, 新致贫), `assistance_coverage` (帮扶责任人 coverage).
-- `ok` = the answer the office hopes for; status: ok | open (not yet, deadline not passed) | late
-- (a deadline passed with problems open, or the answer is no) | na (nothing to compare with).
-- key: item
with

params as (
    select * from {{ ref('param_run') }}
),

ledger as (
    select status_cleared from {{ ref('param_ledger') }}
),

-- the two quarters compared: the report's (is_current) and the one before, when it has data
quarters as (
    select period, period_end, true as is_current from params
    union all
    select q.period, q.period_end, false
    from {{ ref('param_quarters') }} as q
    cross join params as p
    where q.period = p.previous_period
      and exists (select 1 from {{ ref('risk') }} as r where r.period = q.period)
),

poor_statuses as (
    select code from {{ ref('param_poor_statuses') }}
),

risk_rows as (
    select r.period, r.household_key, r.persons, r.poverty_status, r.below_guideline
    from {{ ref('risk') }} as r
    inner join quarters as q on q.period = r.period
),

city_measures as (
    select
        m.period,
        max(case when m.measure = 'incidence_administrative' then m.estimate end) as registry_rate,
        max(case when m.measure = 'poor_persons_administrative' then m.estimate end) as poor_persons,
        max(case when m.measure = 'incidence_survey' and m.line_name = l.national then m.estimate end) as survey_rate,
        max(case when m.measure = 'incidence_survey' and m.line_name = l.national then m.ci_low end) as survey_ci_low,
        max(case when m.measure = 'incidence_survey' and m.line_name = l.national then m.ci_high end) as survey_ci_high
    from {{ ref('measures') }} as m
    inner join quarters as q on q.period = m.period
    cross join (select min(line_name) as national from {{ ref('param_lines') }} where role = 'national') as l
    where m.region_level = 'city'
      and (m.measure in ('incidence_administrative', 'poor_persons_administrative')
           or (m.measure = 'incidence_survey' and m.population_group = 'all'))
    group by m.period
),

poor as (
    select
        q.period,
        'poor_remaining' as item,
        count(r.household_key) as households,
        max(cm.poor_persons) as persons,
        cast(null as double) as rate,
        count(r.household_key) = 0 as ok,
        false as late_now
    from quarters as q
    left join risk_rows as r on r.period = q.period and r.poverty_status in (select code from poor_statuses)
    left join city_measures as cm on cm.period = q.period
    group by q.period
),

incidence as (
    select
        q.period,
        'incidence' as item,
        cast(null as bigint) as households,
        cast(null as double) as persons,
        cm.registry_rate as rate,
        cm.registry_rate < rp.below_one_in_ten_thousand as ok,
        false as late_now
    from quarters as q
    left join city_measures as cm on cm.period = q.period
    cross join {{ ref('param_report') }} as rp
),

below as (
    select
        q.period,
        'below_guideline' as item,
        count(r.household_key) as households,
        coalesce(sum(r.persons), 0) as persons,
        cast(null as double) as rate,
        count(r.household_key) = 0 as ok,
        false as late_now
    from quarters as q
    left join risk_rows as r on r.period = q.period and r.below_guideline
    group by q.period
),

open_problems as (
    select
        pr.period,
        pr.criterion,
        pr.household_key,
        cast(pr.deadline as date) < q.period_end as overdue
    from {{ ref('problems') }} as pr
    inner join quarters as q on q.period = pr.period
    cross join ledger as lg
    where pr.status <> lg.status_cleared
),

dimensions as (
    select code, sort_order from {{ ref('param_labels') }} where domain = 'dimension'
),

gaps as (
    select
        q.period,
        'gap_' || d.code as item,
        count(o.household_key) as households,
        coalesce(sum(r.persons), 0) as persons,
        cast(null as double) as rate,
        count(o.household_key) = 0 as ok,
        coalesce(sum(case when o.overdue then 1 else 0 end), 0) > 0 as late_now
    from quarters as q
    cross join dimensions as d
    left join open_problems as o on o.period = q.period and o.criterion = d.code
    left join risk_rows as r on r.period = o.period and r.household_key = o.household_key
    group by q.period, d.code
),

overdue as (
    select o.period, 'gap_' || o.criterion as item, count(*) as overdue_households
    from open_problems as o
    where o.overdue
    group by o.period, o.criterion
),

-- quarters compared with the one before (every household of the later snapshot has a row)
compared as (
    select period, count(*) as households from {{ ref('transitions') }} group by period
),

flows as (
    select
        q.period,
        f.item,
        case when max(c.households) is not null then count(t.household_key) end as households,
        case when max(c.households) is not null
             then coalesce(sum(coalesce(t.persons_to, t.persons_from)), 0) end as persons,
        cast(null as double) as rate,
        case when max(c.households) is not null then count(t.household_key) = 0 end as ok,
        count(t.household_key) > 0 as late_now
    from quarters as q
    cross join (select 'returned' as item, 'returned_to_poverty' as flow
                union all select 'newly_poor', 'newly_poor') as f
    left join compared as c on c.period = q.period
    left join {{ ref('transitions') }} as t on t.period = q.period and t.status_flow = f.flow
    group by q.period, f.item
),

assistance as (
    select
        q.period,
        'assistance' as item,
        sum(a.households_needing_assistance) - sum(a.households_covered) as households,
        cast(null as double) as persons,
        sum(a.households_covered) * 1.0 / nullif(sum(a.households_needing_assistance), 0) as rate,
        sum(a.households_needing_assistance) = sum(a.households_covered) as ok,
        false as late_now
    from quarters as q
    left join {{ ref('assistance_coverage') }} as a on a.period = q.period
    group by q.period
),

items as (
    select * from poor
    union all select * from incidence
    union all select * from below
    union all select * from gaps
    union all select * from flows
    union all select * from assistance
),

current_items as (
    select i.* from items as i inner join quarters as q on q.period = i.period and q.is_current
),

previous_items as (
    select i.* from items as i inner join quarters as q on q.period = i.period and not q.is_current
),

final as (
    select
        c.item,
        lq.sort_order as item_order,
        lq.label as question,
        case when c.ok is null then lna.label when c.ok then ly.label else ln.label end as answer,
        c.ok,
        case when c.ok is null then 'na' when c.ok then 'ok'
             when c.late_now or c.item not like 'gap_%' then 'late' else 'open' end as status,
        p.period as period,
        p.previous_period,
        c.households,
        c.persons,
        c.rate,
        pv.households as previous_households,
        pv.persons as previous_persons,
        pv.rate as previous_rate,
        c.households - pv.households as change_households,
        c.persons - pv.persons as change_persons,
        c.rate - pv.rate as change_rate,
        case when c.item = 'incidence' then rp.below_one_in_ten_thousand end as target_rate,
        case when c.item like 'gap_%' then coalesce(od.overdue_households, 0) end as overdue_households,
        case when c.item like 'gap_%' then nd.next_deadline end as next_deadline,
        case when c.item = 'incidence' then cm.survey_rate end as survey_rate,
        case when c.item = 'incidence' then cm.survey_ci_low end as survey_ci_low,
        case when c.item = 'incidence' then cm.survey_ci_high end as survey_ci_high,
        case when c.item = 'incidence' then cm.survey_rate / nullif(cm.registry_rate, 0) end as survey_ratio
    from current_items as c
    cross join params as p
    cross join {{ ref('param_report') }} as rp
    left join previous_items as pv on pv.item = c.item
    left join overdue as od on od.item = c.item and od.period = c.period
    left join city_measures as cm on cm.period = c.period
    left join {{ ref('param_labels') }} as lq on lq.domain = 'headline' and lq.code = c.item
    left join {{ ref('param_labels') }} as ly on ly.domain = 'headline_yes' and ly.code = c.item
    left join {{ ref('param_labels') }} as ln on ln.domain = 'headline_no' and ln.code = c.item
    left join {{ ref('param_labels') }} as lna on lna.domain = 'report_text' and lna.code = 'no_previous'
    cross join (
        select min(dl.deadline) as next_deadline
        from {{ ref('param_deadlines') }} as dl
        cross join params as p2
        where dl.deadline >= p2.period_end
    ) as nd
)

select * from final
order by item_order, item
