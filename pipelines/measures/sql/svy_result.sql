-- svy_result: point estimates with their linearised standard errors and the design's degrees of
-- freedom (the df of a t interval; measures.sql draws the normal interval).
-- inputs: svy_point(domain_level, domain_code, measure, line_name, line_value, estimate,
--                   n_unweighted, n_weighted), svy_variance (svy_variance.sql)
-- key: domain_level, domain_code, measure, line_name?
with

final as (
    select
        p.domain_level,
        p.domain_code,
        p.measure,
        p.line_name,
        cast(p.line_value as double) as line_value,
        cast(p.estimate as double) as estimate,
        sqrt(v.variance) as std_error,
        v.design_df,
        p.n_unweighted,
        p.n_weighted
    from {{ ref('svy_point') }} as p
    left join {{ ref('svy_variance') }} as v
        on p.domain_level = v.domain_level
        and p.domain_code = v.domain_code
        and p.measure = v.measure
        and coalesce(p.line_name, '') = coalesce(v.line_name, '')
)

select * from final
