-- policy_by_county: (政策账) registered persons covered by basic medical insurance (resident or
-- employee), 大病保险, 城乡居民养老保险 (aged 16+), 低保 and 特困供养; relocated households and those
-- moved in, by county with the city total; 低保/特困 reconciled with 民政's list of the quarter
-- (members it lists as 低保/特困, and of them those the registry marks too; NULL when 民政 sent no
-- list). Sources: `persons`, `households` (registry), `department_records` (民政, ingest).
-- key: is_total, county_code?
{% import '_macros.sql' as m %}
with

params as (
    select * from {{ ref('param_run') }}
),

-- 民政's list of the quarter: the persons it has as 低保 / 特困 (config/departments.toml assistance_codes)
civil as (
    select distinct d.person_key
    from {{ ref('department_records') }} as d
    cross join params as p
    where d.period = p.period
      and d.department = 'civil'
      and d.category in (select code from {{ ref('param_crosscheck_codes') }} where list_name = 'assistance')
),

civil_list as (
    select count(*) > 0 as has_list
    from {{ ref('department_records') }} as d
    cross join params as p
    where d.period = p.period and d.department = 'civil'
),

-- one row per person and one per household, each counting what it carries
units as (
    select
        pe.county_code,
        1 as person,
        case when pe.resident_med_ins or pe.employee_med_ins then 1 else 0 end as basic_medical,
        case when pe.critical_illness_ins then 1 else 0 end as critical_illness,
        case when pe.age >= 16 then 1 else 0 end as adult,
        case when pe.age >= 16 and pe.pension_ins then 1 else 0 end as pension,
        case when pe.dibao then 1 else 0 end as dibao,
        case when pe.tekun then 1 else 0 end as tekun,
        0 as relocated,
        0 as relocated_settled,
        case when cl.has_list then case when c.person_key is not null then 1 else 0 end end as civil_assisted,
        case when cl.has_list then case when c.person_key is not null and (pe.dibao or pe.tekun) then 1 else 0 end
        end as assisted_both
    from {{ ref('persons') }} as pe
    cross join params as p
    cross join civil_list as cl
    left join civil as c on c.person_key = pe.person_key
    where pe.period = p.period
    union all
    select
        h.county_code, 0, 0, 0, 0, 0, 0, 0,
        case when h.relocated then 1 else 0 end,
        case when h.relocated and h.relocation_settled then 1 else 0 end,
        cast(null as integer),
        cast(null as integer)
    from {{ ref('households') }} as h
    cross join params as p
    where h.period = p.period
      and h.county_code in (select pe.county_code from {{ ref('persons') }} as pe
                            cross join params as p2 where pe.period = p2.period)
),

final as (
    {{ m.by_region('units', ref('region_names'), ref('param_report'), aggregates={
        'persons': 'sum(s.person)',
        'basic_medical': 'sum(s.basic_medical)',
        'critical_illness': 'sum(s.critical_illness)',
        'adults': 'sum(s.adult)',
        'pension': 'sum(s.pension)',
        'dibao': 'sum(s.dibao)',
        'tekun': 'sum(s.tekun)',
        'relocated': 'sum(s.relocated)',
        'relocated_settled': 'sum(s.relocated_settled)',
        'civil_assisted': 'sum(s.civil_assisted)',
        'assisted_both': 'sum(s.assisted_both)'},
      derived={
        'basic_medical_rate': 't.basic_medical * 1.0 / nullif(t.persons, 0)',
        'critical_illness_rate': 't.critical_illness * 1.0 / nullif(t.persons, 0)',
        'pension_rate': 't.pension * 1.0 / nullif(t.adults, 0)'}) }}
)

select * from final
order by is_total, county_code
