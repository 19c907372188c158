-- int_person_deprivations: the members behind a household's education / medical deprivation, with
-- what is wrong in words for the problem ledger ("9岁，未在校").
--
-- The conditions are those of person_flags in pipelines/criteria/sql/int_household_deprivations.sql
-- (same inputs: persons, criteria_params). That model does not expose person keys; until it reads
-- this model instead of its own CTE (proposed to the criteria owner), the validate stage checks that
-- both agree: every household it flags has at least one member here and vice versa.
with

params as (
    select * from criteria_params
),

members as (
    select
        p.period,
        p.household_key,
        p.person_key,
        p.age,
        -- 义务教育
        p.age between params.compulsory_age_min and params.compulsory_age_max
            and (p.school_status is null
                 or p.school_status in ('not_in_school', 'preschool_age', 'preschool_education'))
            and not coalesce(p.send_teaching, false) as education_deprived,
        -- 基本医疗
        case
            when p.age is not null and p.age < params.newborn_exempt_below_age then false
            when coalesce(p.resident_med_ins, false) = coalesce(p.employee_med_ins, false) then true
            when not coalesce(p.critical_illness_ins, false) then true
            else false
        end as medical_deprived,
        coalesce(p.resident_med_ins, false) as resident_med_ins,
        coalesce(p.employee_med_ins, false) as employee_med_ins,
        coalesce(p.critical_illness_ins, false) as critical_illness_ins
    from persons as p
    cross join params
),

education as (
    select
        period,
        household_key,
        person_key,
        'education' as criterion,
        cast(age as varchar) || '岁，未在校' as problem
    from members
    where education_deprived
),

medical as (
    select
        period,
        household_key,
        person_key,
        'medical' as criterion,
        concat_ws('，',
            case when not resident_med_ins and not employee_med_ins then '未参加基本医疗保险' end,
            case when resident_med_ins and employee_med_ins then '城乡居民与城镇职工医保重复参保' end,
            case when not critical_illness_ins then '未参加大病保险' end
        ) as problem
    from members
    where medical_deprived
),

final as (
    select * from education
    union all
    select * from medical
)

select * from final
