-- measures: the long table of the measures stage for one period, with region names and
-- normal-approximation confidence intervals (registry rows: std_error and ci null).
-- inputs: measure_parts(region_level, region_code, population_group, measure, line_name,
--                       line_value, estimate, std_error, n_unweighted, n_weighted, data_source)
--         regions(level, code, name, parent_code), param_measures(period, city_code, city_name, ci_z)
-- key: period, data_source, region_level, region_code, population_group, measure, line_name?
with

params as (
    select period, city_code, city_name, ci_z from {{ ref('param_measures') }}
),

named as (
    select
        m.*,
        case when m.region_level = 'city' then params.city_name else r.name end as region_name
    from {{ ref('measure_parts') }} as m
    cross join params
    left join {{ ref('regions') }} as r on m.region_level = r.level and m.region_code = r.code
),

final as (
    select
        -- ids
        params.period,
        n.region_level,
        n.region_code,
        n.region_name,
        n.population_group,
        n.measure,
        n.line_name,
        cast(n.line_value as double) as line_value,
        -- numerics
        cast(n.estimate as double) as estimate,
        cast(n.std_error as double) as std_error,
        -- normal-approximation CI, truncated to the measure's range: every measure is >= 0, and
        -- every one but mean income is a share or index <= 1 (a CI of "-0.5 %" helps nobody).
        -- No standard error (registry figures: no sampling error), no interval: greatest / least
        -- skip a NULL argument, so the case keeps them from turning NULL into [0, 1].
        cast(case when n.std_error is not null
                  then greatest(0, n.estimate - params.ci_z * n.std_error) end as double) as ci_low,
        cast(case when n.std_error is null then null
                  when n.measure = 'mean_income' then n.estimate + params.ci_z * n.std_error
                  else least(1, n.estimate + params.ci_z * n.std_error) end as double) as ci_high,
        cast(n.n_unweighted as bigint) as n_unweighted,
        cast(n.n_weighted as double) as n_weighted,
        n.data_source
    from named as n
    cross join params
)

select * from final
