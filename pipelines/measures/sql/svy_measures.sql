-- svy_measures: a survey's estimates (povmon survey) as rows of the long `measures` table:
-- domain names from the design (labels, else the region list, else the value itself), normal
-- confidence intervals as measures.sql (shares truncated to [0, 1], incomes and lines to >= 0;
-- differences between quarters not truncated),
-- the design's degrees of freedom, data_source = 'survey:<design>'.
-- inputs: svy_parts(region_level, region_code, measure, line_name, line_value, estimate, std_error,
--                   design_df, n_unweighted, n_weighted), svy_labels(level, code, name),
--         svy_out_params(period, data_source, ci_z)
-- key: region_level, region_code, measure, line_name?
with

params as (
    select period, data_source, ci_z from {{ ref('svy_out_params') }}
),

final as (
    select
        params.period,
        p.region_level,
        p.region_code,
        coalesce(l.name, p.region_code) as region_name,
        'all' as population_group,
        p.measure,
        p.line_name,
        cast(p.line_value as double) as line_value,
        cast(p.estimate as double) as estimate,
        cast(p.std_error as double) as std_error,
        -- a difference between quarters may be negative: its interval is not truncated
        cast(case when p.std_error is null then null
                  when p.region_level = 'difference' then p.estimate - params.ci_z * p.std_error
                  else greatest(0, p.estimate - params.ci_z * p.std_error) end as double) as ci_low,
        cast(case when p.std_error is null then null
                  when p.region_level = 'difference'
                      or p.measure in ('mean_income', 'median_income', 'relative_line')
                      then p.estimate + params.ci_z * p.std_error
                  else least(1, p.estimate + params.ci_z * p.std_error) end as double) as ci_high,
        cast(p.n_unweighted as bigint) as n_unweighted,
        cast(p.n_weighted as double) as n_weighted,
        params.data_source,
        cast(p.design_df as bigint) as design_df
    from {{ ref('svy_parts') }} as p
    cross join params
    left join {{ ref('svy_labels') }} as l on p.region_level = l.level and p.region_code = l.code
)

select * from final
