-- incidence_trend: 贫困发生率 of the city, every quarter up to the report period, both variants.
-- registry rows: remaining 未脱贫/返贫 persons / 农村户籍人口 (no CI, census);
-- survey rows: weighted share below each named line, with the normal CI of the measures stage.
-- key: period, data_source, line_name
with

params as (
    select * from {{ ref('param_run') }}
),

incidence as (
    select
        m.period,
        m.data_source,
        m.line_name,
        m.estimate,
        m.ci_low,
        m.ci_high,
        m.n_unweighted,
        m.n_weighted
    from {{ ref('measures') }} as m
    cross join params as p
    where m.region_level = 'city'
      and m.period <= p.period
      and (m.measure = 'incidence_administrative'
           or (m.measure = 'incidence_survey' and m.line_name in (select line_name from {{ ref('param_report_lines') }})))
),

final as (
    select
        u.period,
        u.data_source,
        u.line_name,
        coalesce(ls.label, u.data_source) as data_source_label,
        coalesce(ll.label, u.line_name) as line_label,
        u.estimate,
        u.ci_low,
        u.ci_high,
        u.n_unweighted,
        u.n_weighted
    from incidence as u
    left join {{ ref('param_labels') }} as ls on ls.domain = 'data_source' and ls.code = u.data_source
    left join {{ ref('param_labels') }} as ll on ll.domain in ('line', 'line_basis') and ll.code = u.line_name
)

select * from final
order by period, data_source, line_name
