-- xc_insured_not_enrolled: the registry says a member is insured (城乡居民 or 城镇职工 basic
-- medical insurance) but the 医保 list of the quarter has no enrolled record of them (absent, or
-- 暂停 / 终止参保). Only when 医保 sent a list this quarter.
-- key: person_key
with

lists as (
    select * from {{ ref('int_xc_lists') }} where department = 'medical'
),

enrolled_codes as (
    select code from {{ ref('param_crosscheck_codes') }} where list_name = 'enrolled'
),

medical as (
    select
        person_key,
        max(case when category in (select code from enrolled_codes) then 1 else 0 end) = 1 as enrolled,
        min(category) as category
    from {{ ref('department_records') }}
    where department = 'medical'
    group by person_key
),

final as (
    select
        p.household_key,
        p.person_key,
        p.county_code,
        p.township_code,
        p.village_code,
        l.record_date,
        case when m.person_key is null then '建档立卡已参保，医保名单无此人'
            else '建档立卡已参保，医保参保状态为' || coalesce(cl.label, m.category) end as detail
    from {{ ref('int_xc_persons') }} as p
    cross join lists as l
    left join medical as m on m.person_key = p.person_key
    left join {{ ref('param_labels') }} as cl on cl.domain = 'dept_enrolment' and cl.code = m.category
    where p.insured and coalesce(not m.enrolled, true)
)

select * from final
