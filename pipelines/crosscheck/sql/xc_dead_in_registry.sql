-- xc_dead_in_registry: 公安 deregistered a person as dead (config/departments.toml death_codes)
-- who is still a member of a registry household this quarter: deaths up to the quarter's end (a
-- death after it, in a list sent late, is next quarter's finding: the person was alive at this
-- quarter's end, when the registry's membership is taken).
-- key: person_key
with

deaths as (
    select person_key, max(record_date) as record_date
    from {{ ref('department_records') }}
    where department = 'police'
      and category in (select code from {{ ref('param_crosscheck_codes') }} where list_name = 'death')
      and record_date <= (select period_end from {{ ref('param_run') }})
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
