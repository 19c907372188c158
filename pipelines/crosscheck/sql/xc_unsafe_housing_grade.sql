-- xc_unsafe_housing_grade: 住建 assessed the house of a household head as C or D (thresholds.toml
-- [housing] unsafe_grades) while the registry records the household's grade as safe (A/B). One
-- finding per household, under the head's person_key.
-- key: person_key
with

unsafe as (
    select
        d.person_key,
        max(d.category) as grade,
        max(d.record_date) as record_date
    from {{ ref('department_records') }} as d
    where d.department = 'housing'
      and d.category in (select code from {{ ref('param_crosscheck_codes') }} where list_name = 'unsafe_housing')
    group by d.person_key
),

safe_grades as (
    select grade from {{ ref('param_housing_grades') }} where safe
),

final as (
    select
        p.household_key,
        p.person_key,
        p.county_code,
        p.township_code,
        p.village_code,
        u.record_date,
        '住建鉴定' || u.grade || '级，建档立卡住房安全等级' || p.housing_grade as detail
    from unsafe as u
    inner join {{ ref('int_xc_persons') }} as p on p.person_key = u.person_key
    where p.housing_grade in (select grade from safe_grades)
)

select * from final
