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

-- per stratum, from the PSUs where the domain has units: a PSU without any adds z = 0, so
--   sum_i (z_hi - zbar_h)^2 = sum over those PSUs of (z_hi - zbar_h)^2 + (n_h - k_h) zbar_h^2
-- (k_h: those PSUs of the stratum), the same sum as over every PSU of the sample, without the
-- estimates x PSUs grid (its order of additions differs: last digits)
stratum_sums as (
    select domain_level, domain_code, measure, line_name, stratum, count(*) as k_h, sum(z) as z_sum
    from psu_totals
    group by domain_level, domain_code, measure, line_name, stratum
),

grand_means as (
    select t.domain_level, t.domain_code, t.measure, t.line_name, sum(t.z) / max(tp.n_psu) as z_grand
    from psu_totals as t
    cross join total_psus as tp
    group by t.domain_level, t.domain_code, t.measure, t.line_name
),

-- every stratum for every estimate (a stratum without the domain's units: all its z are 0)
stratum_means as (
    select
        e.domain_level,
        e.domain_code,
        e.measure,
        e.line_name,
        s.stratum,
        s.n_h,
        coalesce(ss.k_h, 0) as k_h,
        coalesce(ss.z_sum, 0.0) / s.n_h as z_mean,
        coalesce(gm.z_grand, 0.0) as z_grand
    from estimates as e
    cross join strata as s
    left join stratum_sums as ss
        on e.domain_level = ss.domain_level
        and e.domain_code = ss.domain_code
        and e.measure = ss.measure
        and coalesce(e.line_name, '') = coalesce(ss.line_name, '')
        and s.stratum = ss.stratum
    left join grand_means as gm
        on e.domain_level = gm.domain_level
        and e.domain_code = gm.domain_code
        and e.measure = gm.measure
        and coalesce(e.line_name, '') = coalesce(gm.line_name, '')
),

deviations as (
    select
        t.domain_level,
        t.domain_code,
        t.measure,
        t.line_name,
        t.stratum,
        sum((t.z - m.z_mean) * (t.z - m.z_mean)) as ss_mean,
        sum((t.z - m.z_grand) * (t.z - m.z_grand)) as ss_grand
    from psu_totals as t
    inner join stratum_means as m
        on t.domain_level = m.domain_level
        and t.domain_code = m.domain_code
        and t.measure = m.measure
        and coalesce(t.line_name, '') = coalesce(m.line_name, '')
        and t.stratum = m.stratum
    group by t.domain_level, t.domain_code, t.measure, t.line_name, t.stratum
),

stratum_variances as (
    select
        m.domain_level,
        m.domain_code,
        m.measure,
        m.line_name,
        m.stratum,
        case
            when m.n_h > 1
                then m.n_h / (m.n_h - 1.0) * (coalesce(d.ss_mean, 0.0) + (m.n_h - m.k_h) * m.z_mean * m.z_mean)
            when p.lonely_psu = 'adjust'
                then coalesce(d.ss_grand, 0.0) + (m.n_h - m.k_h) * m.z_grand * m.z_grand
            when p.lonely_psu = 'certainty' then 0.0
        end as v_h
    from stratum_means as m
    left join deviations as d
        on m.domain_level = d.domain_level
        and m.domain_code = d.domain_code
        and m.measure = d.measure
        and coalesce(m.line_name, '') = coalesce(d.line_name, '')
        and m.stratum = d.stratum
    cross join params as p
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
