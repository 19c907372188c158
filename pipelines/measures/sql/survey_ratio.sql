-- survey_ratio: weighted ratio means R = sum(w y) / sum(w) over a domain, with Taylor-linearised
-- standard errors for a stratified cluster design, with-replacement approximation (as R's
-- survey::svymean / svyratio on svydesign(ids = ~psu, strata = ~stratum, weights = ~w)).
--
--   z_i   = w_i d_i (y_i - R) / sum(w d)           d_i = 1 in the domain with y observed, else 0
--   z_hi  = sum of z over PSU i of stratum h       every PSU of the sample, zero when outside
--   var   = sum_h n_h / (n_h - 1) sum_i (z_hi - zbar_h)^2
--
-- Domain estimation: units outside the domain are zeroed, never dropped, so n_h is the design's
-- PSU count. A stratum with a single PSU (survey_params.lonely_psu):
--   'adjust'    - its PSU total is centred at the grand mean of all PSU totals (sum z / all PSUs),
--                 scale 1 (R survey.lonely.psu = "adjust");
--   'certainty' - it contributes no variance (R "certainty").
-- inputs: survey_values(stratum, psu, weight, domain_code, measure, line_name, line_value, y)
--         domain_params(total_level, total_code, by_level), survey_params(lonely_psu)
-- key: domain_level, domain_code, measure, line_name?
with

params as (
    select d.total_level, d.total_code, d.by_level, s.lonely_psu
    from {{ ref('domain_params') }} as d
    cross join {{ ref('survey_params') }} as s
),

sample_psus as (
    select distinct stratum, psu from {{ ref('survey_values') }}
),

strata as (
    select stratum, count(*) as n_h from sample_psus group by stratum
),

total_psus as (
    select count(*) as n_psu from sample_psus
),

unit_domains as (
    select p.total_level as domain_level, p.total_code as domain_code,
           v.stratum, v.psu, v.measure, v.line_name, v.line_value, v.weight, v.y
    from {{ ref('survey_values') }} as v
    cross join params as p
    where p.total_level is not null and v.y is not null and v.weight is not null
    union all
    select p.by_level as domain_level, v.domain_code,
           v.stratum, v.psu, v.measure, v.line_name, v.line_value, v.weight, v.y
    from {{ ref('survey_values') }} as v
    cross join params as p
    where p.by_level is not null and v.domain_code is not null and v.y is not null
        and v.weight is not null
),

estimates as (
    select
        domain_level,
        domain_code,
        measure,
        line_name,
        line_value,
        count(*) as n_units,
        sum(weight) as w_total,
        sum(weight * y) / nullif(sum(weight), 0) as estimate
    from unit_domains
    group by domain_level, domain_code, measure, line_name, line_value
),

psu_totals as (
    select
        u.domain_level,
        u.domain_code,
        u.measure,
        u.line_name,
        u.stratum,
        u.psu,
        sum(u.weight * (u.y - e.estimate) / e.w_total) as z
    from unit_domains as u
    inner join estimates as e
        on u.domain_level = e.domain_level
        and u.domain_code = e.domain_code
        and u.measure = e.measure
        and coalesce(u.line_name, '') = coalesce(e.line_name, '')
    group by u.domain_level, u.domain_code, u.measure, u.line_name, u.stratum, u.psu
),

-- every PSU of the sample for every estimate: zero where the domain has no unit
psu_grid as (
    select
        e.domain_level,
        e.domain_code,
        e.measure,
        e.line_name,
        s.stratum,
        s.psu,
        coalesce(t.z, 0.0) as z
    from estimates as e
    cross join sample_psus as s
    left join psu_totals as t
        on e.domain_level = t.domain_level
        and e.domain_code = t.domain_code
        and e.measure = t.measure
        and coalesce(e.line_name, '') = coalesce(t.line_name, '')
        and s.stratum = t.stratum
        and s.psu = t.psu
),

grand_means as (
    select g.domain_level, g.domain_code, g.measure, g.line_name, sum(g.z) / max(tp.n_psu) as z_grand
    from psu_grid as g
    cross join total_psus as tp
    group by g.domain_level, g.domain_code, g.measure, g.line_name
),

stratum_means as (
    select domain_level, domain_code, measure, line_name, stratum, avg(z) as z_mean
    from psu_grid
    group by domain_level, domain_code, measure, line_name, stratum
),

stratum_variances as (
    select
        g.domain_level,
        g.domain_code,
        g.measure,
        g.line_name,
        g.stratum,
        case
            when s.n_h > 1
                then s.n_h / (s.n_h - 1.0) * sum((g.z - m.z_mean) * (g.z - m.z_mean))
            when max(p.lonely_psu) = 'adjust'
                then sum((g.z - gm.z_grand) * (g.z - gm.z_grand))
            when max(p.lonely_psu) = 'certainty' then 0.0
        end as v_h
    from psu_grid as g
    inner join strata as s on g.stratum = s.stratum
    inner join stratum_means as m
        on g.domain_level = m.domain_level
        and g.domain_code = m.domain_code
        and g.measure = m.measure
        and coalesce(g.line_name, '') = coalesce(m.line_name, '')
        and g.stratum = m.stratum
    inner join grand_means as gm
        on g.domain_level = gm.domain_level
        and g.domain_code = gm.domain_code
        and g.measure = gm.measure
        and coalesce(g.line_name, '') = coalesce(gm.line_name, '')
    cross join params as p
    group by g.domain_level, g.domain_code, g.measure, g.line_name, g.stratum, s.n_h
),

variances as (
    -- sum() ignores nulls: count them so an unknown lonely-PSU rule gives a null SE
    select domain_level, domain_code, measure, line_name,
           case when count(*) = count(v_h) then sum(v_h) end as variance
    from stratum_variances
    group by domain_level, domain_code, measure, line_name
),

final as (
    select
        e.domain_level,
        e.domain_code,
        e.measure,
        e.line_name,
        e.line_value,
        e.estimate,
        sqrt(v.variance) as std_error,
        e.n_units as n_unweighted,
        e.w_total as n_weighted
    from estimates as e
    inner join variances as v
        on e.domain_level = v.domain_level
        and e.domain_code = v.domain_code
        and e.measure = v.measure
        and coalesce(e.line_name, '') = coalesce(v.line_name, '')
)

select * from final
