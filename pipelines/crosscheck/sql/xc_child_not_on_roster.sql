-- xc_child_not_on_roster: a member of compulsory-school age (thresholds.toml [education], age at
-- the quarter's end from the registry) on no school roster of 教育's lists and not 送教上门
-- (neither on 教育's 送教上门 list nor so recorded in the registry). Only when 教育 sent lists.
-- key: person_key
with

params as (
    select * from {{ ref('param_crosscheck') }}
),

lists as (
    select * from {{ ref('int_xc_lists') }} where department = 'education'
),

listed as (
    select distinct person_key
    from {{ ref('department_records') }}
    where department = 'education'
),

final as (
    select
        p.household_key,
        p.person_key,
        p.county_code,
        p.township_code,
        p.village_code,
        l.record_date,
        cast(p.age as varchar) || '岁，不在任何学籍名册，非送教上门' as detail
    from {{ ref('int_xc_persons') }} as p
    cross join params
    cross join lists as l
    left join listed as e on e.person_key = p.person_key
    where p.age between params.compulsory_age_min and params.compulsory_age_max
      and e.person_key is null
      and not coalesce(p.send_teaching, false)
)

select * from final
