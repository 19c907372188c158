-- survey_designs: each configured survey design's estimates for the quarter (`povmon survey --design
-- NAME`: measures rows of data_source 'survey:<name>'), for the design's whole sample at every line:
-- incidence with its CI and design degrees of freedom, FGT1 and FGT2, and the change from the
-- earlier quarter when the run estimated one. No rows when no design was run (the table is then
-- left out of the report).
-- key: data_source, line_name
with

params as (
    select * from {{ ref('param_run') }}
),

designs as (
    select * from {{ ref('param_survey_designs') }}
),

survey_rows as (
    select m.data_source, m.region_level, m.region_code, m.measure, m.line_name, m.line_value,
           m.estimate, m.std_error, m.ci_low, m.ci_high, m.design_df, m.n_unweighted, m.n_weighted
    from {{ ref('measures') }} as m
    cross join params as p
    where m.period = p.period
      and m.data_source in (select data_source from designs)
),

totals as (
    select
        s.data_source,
        s.line_name,
        max(s.line_value) as line_value,
        max(case when s.measure = 'incidence_survey' then s.estimate end) as incidence,
        max(case when s.measure = 'incidence_survey' then s.std_error end) as std_error,
        max(case when s.measure = 'incidence_survey' then s.ci_low end) as ci_low,
        max(case when s.measure = 'incidence_survey' then s.ci_high end) as ci_high,
        max(case when s.measure = 'incidence_survey' then s.design_df end) as design_df,
        max(case when s.measure = 'fgt1' then s.estimate end) as fgt1,
        max(case when s.measure = 'fgt2' then s.estimate end) as fgt2,
        max(case when s.measure = 'incidence_survey' then s.n_unweighted end) as n_unweighted,
        max(case when s.measure = 'incidence_survey' then s.n_weighted end) as n_weighted
    from survey_rows as s
    inner join designs as d
        on d.data_source = s.data_source and d.total_level = s.region_level and d.total_code = s.region_code
    where s.line_name is not null
    group by s.data_source, s.line_name
),

changes as (
    select s.data_source, s.line_name, s.region_code as compared, s.estimate as change, s.std_error as change_se
    from survey_rows as s
    where s.region_level = 'difference' and s.measure = 'fgt0'
),

final as (
    select
        t.data_source,
        t.line_name,
        d.label as design_label,
        coalesce(ll.label, t.line_name) as line_label,
        t.line_value,
        t.incidence,
        t.std_error,
        t.ci_low,
        t.ci_high,
        t.design_df,
        t.fgt1,
        t.fgt2,
        c.compared,
        c.change,
        c.change_se,
        t.n_unweighted,
        t.n_weighted
    from totals as t
    inner join designs as d on d.data_source = t.data_source
    left join changes as c on c.data_source = t.data_source and c.line_name = t.line_name
    left join {{ ref('param_labels') }} as ll on ll.domain = 'line' and ll.code = t.line_name
    where t.incidence is not null
)

select * from final
order by data_source, line_value, line_name
