-- xc_assistance_not_in_civil: the registry says a member receives 低保 or 特困供养 but 民政's
-- list of the quarter has no such case for them. Only when 民政 sent a list this quarter (the
-- list is read as the roll of current cases).
-- key: person_key
with

lists as (
    select * from {{ ref('int_xc_lists') }} where department = 'civil'
),

civil as (
    select
        person_key,
        bool_or(category = 'dibao') as dibao,
        bool_or(category = 'tekun') as tekun
    from {{ ref('department_records') }}
    where department = 'civil'
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
        '建档立卡' || concat_ws('、', case when p.dibao and not coalesce(c.dibao, false) then '享受低保' end,
                                  case when p.tekun and not coalesce(c.tekun, false) then '特困供养' end)
            || '，民政名单无此记录' as detail
    from {{ ref('int_xc_persons') }} as p
    cross join lists as l
    left join civil as c on c.person_key = p.person_key
    where (p.dibao and not coalesce(c.dibao, false)) or (p.tekun and not coalesce(c.tekun, false))
)

select * from final
