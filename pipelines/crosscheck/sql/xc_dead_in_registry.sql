-- xc_dead_in_registry: 公安 deregistered a person as dead (config/departments.toml death_codes)
-- who is still a member of a registry household this quarter.
-- key: person_key
with

deaths as (
    select person_key, max(record_date) as record_date
    from {{ ref('department_records') }}
    where department = 'police'
      and category in (select code from {{ ref('param_crosscheck_codes') }} where list_name = 'death')
    group by person_key
),

final as (
    select
        p.household_key,
        p.person_key,
        p.county_code,
        p.township_code,
        p.village_code,
        d.record_date,
        '公安已死亡注销，建档立卡仍为家庭成员' as detail
    from deaths as d
    inner join {{ ref('int_xc_persons') }} as p on p.person_key = d.person_key
)

select * from final
