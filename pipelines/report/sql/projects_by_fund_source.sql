-- projects_by_fund_source: (资金账) the money of the quarter's poverty projects by 资金来源 and
-- county (each county's all-sources row and the city's included), in 万元: 计划投资, 到位资金, 已支付,
-- 资金拨付率 = 已支付 / 到位资金, and the money arrived but not yet paid out (到位资金 − 已支付); sums
-- rounded to 4 decimals (0.0001 万元 = 1 元) so that float noise never shows.
-- Source: `projects` (project lists; one 资金来源 per project row).
-- key: is_total, county_code?, fund_source
{% import '_macros.sql' as m %}
with

params as (
    select * from {{ ref('param_run') }}
),

projects as (
    select pr.county_code, coalesce(pr.fund_source, 'unknown') as fund_source, pr.planned, pr.received, pr.paid
    from {{ ref('projects') }} as pr
    cross join params as p
    where pr.period = p.period
),

units as (
    select * from projects
    union all
    select county_code, 'all' as fund_source, planned, received, paid from projects
),

counted as (
    {{ m.by_region('units', ref('region_names'), ref('param_report'), group=['fund_source'], aggregates={
        'projects': 'count(*)',
        'planned': 'round(sum(s.planned), 4)',
        'received': 'round(sum(s.received), 4)',
        'paid': 'round(sum(s.paid), 4)'},
      derived={'disbursement_rate': 't.paid / nullif(t.received, 0)',
               'unpaid': 'round(t.received - t.paid, 4)'}) }}
),

final as (
    select
        c.is_total,
        c.county_code,
        c.county_name,
        c.fund_source,
        case when c.fund_source = 'all' then rt.label else coalesce(lb.label, rt_unknown.label) end as source_label,
        case when c.fund_source = 'all' then 0 else coalesce(lb.sort_order, 99) end as sort_order,
        c.projects,
        c.planned,
        c.received,
        c.paid,
        c.disbursement_rate,
        c.unpaid
    from counted as c
    left join {{ ref('param_labels') }} as lb on lb.domain = 'fund_source' and lb.code = c.fund_source
    left join {{ ref('param_labels') }} as rt on rt.domain = 'report_text' and rt.code = 'all_sources'
    left join {{ ref('param_labels') }} as rt_unknown on rt_unknown.domain = 'report_text' and rt_unknown.code = 'unknown_source'
)

select * from final
order by is_total, county_code, sort_order, fund_source
