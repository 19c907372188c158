-- svy_variance: design-based variance of any estimate from its linearised values, for a
-- stratified multistage design (as R survey::svyrecvar):
--   z_hi = sum of z over PSU i of stratum h   (every PSU of the sample; zero where the estimate's
--          domain has no unit, so domains are estimated on the full design)
--   V1   = sum_h (1 - f_h) n_h / (n_h - 1) sum_i (z_hi - zbar_h)^2
-- f_h: sampling fraction of PSUs (fpc >= 1: n_h / fpc, the stratum's population PSU count;
-- fpc < 1: fpc itself; null: 0, with replacement). A stratum with one PSU (svy_params.lonely_psu):
-- 'adjust' centres its total at the grand mean of all PSU totals (R survey.lonely.psu = "adjust"),
-- 'certainty' gives it no variance. With a second stage (ssu) and its fpc2 (SSUs in the PSU, or
-- a fraction), R adds each PSU's within variance times the first stage's sampling fraction:
--   V2   = sum_h f_h sum_i (1 - f2_hi) m_hi / (m_hi - 1) sum_j (z_hij - zbar_hi)^2   (m_hi > 1)
-- so without a first-stage fpc (f_h = 0) the second stage adds nothing (ultimate clusters), and a
-- PSU with one sampled SSU adds nothing. design_df = PSUs - strata (R degf()).
-- inputs: svy_z(domain_level, domain_code, measure, line_name, stratum, psu, ssu, z)
--         svy_design(stratum, psu, fpc, ssu, fpc2)    one row per sample unit (all of them)
--         svy_params(lonely_psu)
-- key: domain_level, domain_code, measure, line_name?
with

sample_psus as (
    select stratum, psu, max(fpc) as fpc
    from {{ ref('svy_design') }}
    group by stratum, psu
),

strata as (
    select
        stratum,
        count(*) as n_h,
        case
            when max(fpc) is null then 0.0
            when max(fpc) < 1 then cast(max(fpc) as double)
            else count(*) / cast(max(fpc) as double)
        end as f_h
    from sample_psus
    group by stratum
),

design as (
    select count(*) as n_psu, count(distinct stratum) as n_strata from sample_psus
),

estimates as (
    select distinct domain_level, domain_code, measure, line_name from {{ ref('svy_z') }}
),

-- an estimate with an undefined linearised value (e.g. a kernel bandwidth of 0) gets no variance
undefined as (
    select distinct domain_level, domain_code, measure, line_name from {{ ref('svy_z') }} where z is null
),

psu_totals as (
    select domain_level, domain_code, measure, line_name, stratum, psu, sum(z) as z
    from {{ ref('svy_z') }}
    group by domain_level, domain_code, measure, line_name, stratum, psu
),

psu_grid as (
    select e.domain_level, e.domain_code, e.measure, e.line_name, s.stratum, s.psu, coalesce(t.z, 0.0) as z
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
    select g.domain_level, g.domain_code, g.measure, g.line_name, sum(g.z) / max(d.n_psu) as z_grand
    from psu_grid as g
    cross join design as d
    group by g.domain_level, g.domain_code, g.measure, g.line_name
),

stratum_sums as (
    select domain_level, domain_code, measure, line_name, stratum,
           avg(z) as z_mean
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
        (1.0 - s.f_h) * case
            when s.n_h > 1 then s.n_h / (s.n_h - 1.0) * sum((g.z - m.z_mean) * (g.z - m.z_mean))
            when max(p.lonely_psu) = 'adjust' then sum((g.z - gm.z_grand) * (g.z - gm.z_grand))
            when max(p.lonely_psu) = 'certainty' then 0.0
        end as v_h
    from psu_grid as g
    inner join strata as s on g.stratum = s.stratum
    inner join stratum_sums as m
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
    cross join {{ ref('svy_params') }} as p
    group by g.domain_level, g.domain_code, g.measure, g.line_name, g.stratum, s.n_h, s.f_h
),

sample_ssus as (
    select stratum, psu, ssu, max(fpc2) as fpc2
    from {{ ref('svy_design') }}
    where ssu is not null and fpc2 is not null
    group by stratum, psu, ssu
),

psu_sizes as (
    select
        stratum,
        psu,
        count(*) as m_i,
        case when max(fpc2) < 1 then cast(max(fpc2) as double) else count(*) / cast(max(fpc2) as double) end as f2_i
    from sample_ssus
    group by stratum, psu
),

ssu_totals as (
    select domain_level, domain_code, measure, line_name, stratum, psu, ssu, sum(z) as z
    from {{ ref('svy_z') }}
    where ssu is not null
    group by domain_level, domain_code, measure, line_name, stratum, psu, ssu
),

ssu_grid as (
    select e.domain_level, e.domain_code, e.measure, e.line_name, s.stratum, s.psu, s.ssu,
           coalesce(t.z, 0.0) as z
    from estimates as e
    cross join sample_ssus as s
    left join ssu_totals as t
        on e.domain_level = t.domain_level
        and e.domain_code = t.domain_code
        and e.measure = t.measure
        and coalesce(e.line_name, '') = coalesce(t.line_name, '')
        and s.stratum = t.stratum
        and s.psu = t.psu
        and s.ssu = t.ssu
),

ssu_means as (
    select domain_level, domain_code, measure, line_name, stratum, psu, avg(z) as z_mean
    from ssu_grid
    group by domain_level, domain_code, measure, line_name, stratum, psu
),

second_stage as (
    select
        g.domain_level,
        g.domain_code,
        g.measure,
        g.line_name,
        sum(st.f_h * (1.0 - ps.f2_i) * ps.m_i / (ps.m_i - 1.0) * (g.z - m.z_mean) * (g.z - m.z_mean)) as v2
    from ssu_grid as g
    inner join psu_sizes as ps on g.stratum = ps.stratum and g.psu = ps.psu
    inner join strata as st on g.stratum = st.stratum
    inner join ssu_means as m
        on g.domain_level = m.domain_level
        and g.domain_code = m.domain_code
        and g.measure = m.measure
        and coalesce(g.line_name, '') = coalesce(m.line_name, '')
        and g.stratum = m.stratum
        and g.psu = m.psu
    where ps.m_i > 1
    group by g.domain_level, g.domain_code, g.measure, g.line_name
),

first_stage as (
    select
        v.domain_level,
        v.domain_code,
        v.measure,
        v.line_name,
        case when count(*) = count(v.v_h) and max(u.measure) is null then sum(v.v_h) end as variance,
        max(d.n_psu) - max(d.n_strata) as design_df
    from stratum_variances as v
    cross join design as d
    left join undefined as u
        on v.domain_level = u.domain_level
        and v.domain_code = u.domain_code
        and v.measure = u.measure
        and coalesce(v.line_name, '') = coalesce(u.line_name, '')
    group by v.domain_level, v.domain_code, v.measure, v.line_name
),

final as (
    select
        f.domain_level,
        f.domain_code,
        f.measure,
        f.line_name,
        f.variance + coalesce(s.v2, 0.0) as variance,
        f.design_df
    from first_stage as f
    left join second_stage as s
        on f.domain_level = s.domain_level
        and f.domain_code = s.domain_code
        and f.measure = s.measure
        and coalesce(f.line_name, '') = coalesce(s.line_name, '')
)

select * from final
