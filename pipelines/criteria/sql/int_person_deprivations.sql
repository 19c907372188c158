-- int_person_deprivations: one row per person and period, the member-level 两不愁三保障 conditions
-- (义务教育, 基本医疗) with what is wrong in words for the problem ledger ("9岁，未在校"), and
-- whether the member is seriously ill or disabled (domain.md §4). The household model aggregates it.
-- key: period, person_key
--
-- inputs: persons (one period), param_criteria (one row: config/thresholds.toml [education]
--         [medical]), param_not_in_school (school_status codes that count as not in school)
with

params as (
    select * from {{ ref('param_criteria') }}
),

members as (
    select
        p.period,
        p.household_key,
        p.person_key,
        p.age,
        -- 义务教育: of compulsory age (completed years at period end) and not in school, unless
        -- taught at home (送教上门). a blank school status counts as not in school.
        coalesce(
            p.age between params.compulsory_age_min and params.compulsory_age_max
            and (p.school_status is null
                 or p.school_status in (select code from {{ ref('param_not_in_school') }}))
            and not coalesce(p.send_teaching, false),
            false
        ) as education_deprived,
        -- 基本医疗: exactly one of resident / employee basic insurance, and 大病保险; newborns
        -- exempt. a blank cell counts as not enrolled.
        case
            when p.age is not null and p.age < params.newborn_exempt_below_age then false
            when coalesce(p.resident_med_ins, false) = coalesce(p.employee_med_ins, false) then true
            when not coalesce(p.critical_illness_ins, false) then true
            else false
        end as medical_deprived,
        coalesce(p.health_disabled, false) or coalesce(p.health_serious_illness, false) as disabled_or_ill,
        coalesce(p.resident_med_ins, false) as resident_med_ins,
        coalesce(p.employee_med_ins, false) as employee_med_ins,
        coalesce(p.critical_illness_ins, false) as critical_illness_ins
    from {{ ref('persons') }} as p
    cross join params
),

final as (
    select
        -- ids
        period,
        household_key,
        person_key,
        age,
        -- conditions
        education_deprived,
        medical_deprived,
        disabled_or_ill,
        -- what is wrong, in words (problem ledger)
        case when education_deprived then cast(age as varchar) || '岁，未在校' end as education_problem,
        case when medical_deprived then concat_ws('，',
            case when not resident_med_ins and not employee_med_ins then '未参加基本医疗保险' end,
            case when resident_med_ins and employee_med_ins then '城乡居民与城镇职工医保重复参保' end,
            case when not critical_illness_ins then '未参加大病保险' end
        ) end as medical_problem
    from members
)

select * from final
