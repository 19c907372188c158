-- xc_assistance_not_in_registry: 民政 lists a person as 低保 or 特困 (config/departments.toml
-- assistance_codes) but the registry does not: the person is a member whose 是否享受低保 /
-- 是否特困供养人员 is not 是, or is not in the registry at all (then placed by the 民政 list's
-- village code, household_key NULL).
-- key: person_key
with

assistance as (
    select
        d.person_key,
        d.category,
        d.record_date,
        d.village_code
    from {{ ref('department_records') }} as d
    where d.department = 'civil'
      and d.category in (select code from {{ ref('param_crosscheck_codes') }} where list_name = 'assistance')
),

unmatched as (
    select
        a.*,
        p.person_key is not null as in_registry,
        p.household_key,
        p.county_code,
        p.township_code,
        p.village_code as registry_village_code
    from assistance as a
    left join {{ ref('int_xc_persons') }} as p on p.person_key = a.person_key
    where p.person_key is null
       or (a.category = 'dibao' and not p.dibao)
       or (a.category = 'tekun' and not p.tekun)
       or a.category not in ('dibao', 'tekun')
),

final as (
    select
        max(household_key) as household_key,
        u.person_key,
        coalesce(max(county_code), substr(max(u.village_code), 1, 6)) as county_code,
        coalesce(max(township_code), substr(max(u.village_code), 1, 9)) as township_code,
        coalesce(max(registry_village_code), max(u.village_code)) as village_code,
        max(u.record_date) as record_date,
        '民政' || string_agg(coalesce(l.label, u.category), '、' order by u.category)
            || case when bool_or(in_registry) then '，建档立卡未标注' else '，建档立卡无此人' end as detail
    from unmatched as u
    left join {{ ref('param_labels') }} as l on l.domain = 'dept_assistance' and l.code = u.category
    group by u.person_key
)

select * from final
