-- int_xc_persons: the registry's members of the period with what the rules compare (one row per
-- person_key: persons has one) and the household's housing and water answers.
-- key: person_key
-- materialized: view
with

final as (
    select
        p.person_key,
        p.household_key,
        p.county_code,
        p.township_code,
        p.village_code,
        p.relation,
        p.age,
        p.send_teaching,
        p.health_disabled,
        coalesce(p.resident_med_ins, false) or coalesce(p.employee_med_ins, false) as insured,
        coalesce(p.dibao, false) as dibao,
        coalesce(p.tekun, false) as tekun,
        h.housing_grade,
        h.water_safe
    from {{ ref('persons') }} as p
    left join {{ ref('households') }} as h on h.household_key = p.household_key
)

select * from final
