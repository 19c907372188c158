-- svy_arpr_point: the at-risk-of-poverty rate of each domain at the relative line, and for the
-- whole-sample domain the line itself and the weighted median it is a share of.
-- inputs: svy_arpr_domains, domain_params(total_level, total_code, by_level)
-- key: domain_level, domain_code, measure, line_name?
with

domains as (
    select * from {{ ref('svy_arpr_domains') }}
),

final as (
    select domain_level, domain_code, 'arpr' as measure, line_name, line_value, rate as estimate,
           n_unweighted, w_domain as n_weighted
    from domains
    union all
    select d.domain_level, d.domain_code, 'relative_line' as measure, d.line_name, d.line_value,
           d.line_value as estimate, d.n_unweighted, d.w_domain as n_weighted
    from domains as d
    inner join {{ ref('domain_params') }} as p
        on d.domain_level = p.total_level and d.domain_code = p.total_code
    union all
    select d.domain_level, d.domain_code, 'median_income' as measure, cast(null as varchar) as line_name,
           cast(null as double) as line_value, d.median as estimate, d.n_unweighted, d.w_domain as n_weighted
    from domains as d
    inner join {{ ref('domain_params') }} as p
        on d.domain_level = p.total_level and d.domain_code = p.total_code
)

select * from final
