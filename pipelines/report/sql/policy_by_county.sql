-- policy_by_county (政策账): registered persons covered by basic medical insurance (resident or
-- employee), 大病保险, 城乡居民养老保险 (aged 16+), 低保 and 特困供养; relocated households and those
-- moved in, by county with the city total. Sources: `persons`, `households` (registry).
-- requires: persons, households
with

params as (
    select * from report_params
),

person_counts as (
    select
        pe.county_code,
        count(*) as persons,
        count(*) filter (where pe.resident_med_ins or pe.employee_med_ins) as basic_medical,
        count(*) filter (where pe.critical_illness_ins) as critical_illness,
        count(*) filter (where pe.age >= 16) as adults,
        count(*) filter (where pe.age >= 16 and pe.pension_ins) as pension,
        count(*) filter (where pe.dibao) as dibao,
        count(*) filter (where pe.tekun) as tekun
    from persons as pe
    cross join params as p
    where pe.period = p.period
    group by pe.county_code
),

household_counts as (
    select
        h.county_code,
        count(*) filter (where h.relocated) as relocated,
        count(*) filter (where h.relocated and h.relocation_settled) as relocated_settled
    from households as h
    cross join params as p
    where h.period = p.period
    group by h.county_code
),

counted as (
    select
        0 as is_total, pc.county_code, pc.persons, pc.basic_medical, pc.critical_illness, pc.adults,
        pc.pension, pc.dibao, pc.tekun, coalesce(hc.relocated, 0) as relocated,
        coalesce(hc.relocated_settled, 0) as relocated_settled
    from person_counts as pc
    left join household_counts as hc on hc.county_code = pc.county_code
),

totals as (
    select 1, null, sum(persons), sum(basic_medical), sum(critical_illness), sum(adults), sum(pension),
           sum(dibao), sum(tekun), sum(relocated), sum(relocated_settled)
    from counted
),

final as (
    select
        u.is_total,
        u.county_code,
        case when u.is_total = 1 then '合计' else coalesce(rn.name, u.county_code) end as county_name,
        u.persons,
        u.basic_medical,
        u.basic_medical * 1.0 / nullif(u.persons, 0) as basic_medical_rate,
        u.critical_illness,
        u.critical_illness * 1.0 / nullif(u.persons, 0) as critical_illness_rate,
        u.pension,
        u.pension * 1.0 / nullif(u.adults, 0) as pension_rate,
        u.dibao,
        u.tekun,
        u.relocated,
        u.relocated_settled
    from (select * from counted union all select * from totals) as u
    left join region_names as rn on rn.level = 'county' and rn.code = u.county_code
)

select * from final
order by is_total, county_code
