-- int_household_deprivations: one row per household and period, the 两不愁三保障 + 饮水安全 flags
-- (domain.md §4). Built and stored by the validate stage; read by validate (problem ledger),
-- measures (Alkire–Foster, water levels), risk (gap signals) and the report.
-- key: period, household_key
--
-- inputs: households (one period), int_person_deprivations, param_criteria (one row:
--         thresholds.toml [education] [medical] [water]), param_housing_grades (grade, safe)
-- flags: true = deprived, false = not deprived, null = not determinable from the export
with

params as (
    select * from {{ ref('param_criteria') }}
),

-- ---- members (int_person_deprivations: one definition of each member-level rule) ------------
household_members as (
    select
        household_key,
        count(*) as member_rows,
        sum(case when education_deprived then 1 else 0 end) as education_deprived_members,
        sum(case when medical_deprived then 1 else 0 end) as medical_deprived_members,
        sum(case when disabled_or_ill then 1 else 0 end) as disabled_or_ill_members
    from {{ ref('int_person_deprivations') }}
    group by household_key
),

-- ---- water: each indicator graded meets / basic / fails (T/CHES 18-2018) ----------------------
water_grades as (
    select
        h.household_key,
        h.water_safe,
        case
            when h.water_quantity_lpd is null then null
            when h.water_quantity_lpd >= case when coalesce(h.water_scarce_area, false)
                    then params.quantity_lpd_meets_scarce else params.quantity_lpd_meets_rich end
                then 'meets'
            when h.water_quantity_lpd >= case when coalesce(h.water_scarce_area, false)
                    then params.quantity_lpd_basic_scarce else params.quantity_lpd_basic_rich end
                then 'basic'
            else 'fails'
        end as water_quantity_grade,
        h.water_quality as water_quality_grade,
        case
            when coalesce(h.water_piped, false)
                or h.water_fetch_minutes <= params.fetch_minutes_meets
                or h.water_horizontal_m <= params.horizontal_m_meets
                or h.water_vertical_m <= params.vertical_m_meets
                then 'meets'
            when h.water_fetch_minutes <= params.fetch_minutes_basic
                or h.water_horizontal_m <= params.horizontal_m_basic
                or h.water_vertical_m <= params.vertical_m_basic
                then 'basic'
            when h.water_fetch_minutes is null and h.water_horizontal_m is null
                and h.water_vertical_m is null
                then null
            else 'fails'
        end as water_convenience_grade,
        case
            when h.water_outage_days is null then null
            when h.water_outage_days <= params.outage_days_meets then 'meets'
            when h.water_outage_days <= params.outage_days_basic then 'basic'
            else 'fails'
        end as water_guarantee_grade
    from {{ ref('households') }} as h
    cross join params
),

water_counts as (
    select
        household_key,
        water_safe,
        water_quantity_grade,
        water_quality_grade,
        water_convenience_grade,
        water_guarantee_grade,
        (case when water_quantity_grade is null then 0 else 1 end
         + case when water_quality_grade is null then 0 else 1 end
         + case when water_convenience_grade is null then 0 else 1 end
         + case when water_guarantee_grade is null then 0 else 1 end) as grades_known,
        (case when water_quantity_grade = 'fails' then 1 else 0 end
         + case when water_quality_grade = 'fails' then 1 else 0 end
         + case when water_convenience_grade = 'fails' then 1 else 0 end
         + case when water_guarantee_grade = 'fails' then 1 else 0 end) as grades_failing,
        (case when water_quantity_grade = 'meets' then 1 else 0 end
         + case when water_quality_grade = 'meets' then 1 else 0 end
         + case when water_convenience_grade = 'meets' then 1 else 0 end
         + case when water_guarantee_grade = 'meets' then 1 else 0 end) as grades_meeting
    from water_grades
),

-- 安全 = all four meet; 基本安全 = all four at least basic; else unsafe. No graded indicator at
-- all: fall back to the recorded 饮水是否安全. Some graded, none failing, some missing: null.
water_levels as (
    select
        *,
        case
            when grades_known = 0 then
                case when water_safe then 'safe' when not water_safe then 'unsafe' end
            when grades_failing > 0 then 'unsafe'
            when grades_known < 4 then null
            when grades_meeting = 4 then 'safe'
            else 'basic'
        end as water_level
    from water_counts
),

-- ---- household level ---------------------------------------------------------------------------
final as (
    select
        -- ids
        h.period,
        h.household_key,
        h.county_code,
        h.township_code,
        h.village_code,
        -- size used to weight persons
        coalesce(h.household_size, h.member_count, m.member_rows) as household_size,
        -- 两不愁
        not h.food_secure as food_deprived,
        not h.clothing_secure as clothing_deprived,
        -- 三保障
        case when m.member_rows is null then null else m.education_deprived_members > 0 end
            as education_deprived,
        m.education_deprived_members,
        case when m.member_rows is null then null else m.medical_deprived_members > 0 end
            as medical_deprived,
        m.medical_deprived_members,
        -- 住房安全: grade C/D not yet secured; relocated and moved in counts as housed.
        -- no grade: the 危房户 flag decides.
        case
            when coalesce(h.relocated, false) and coalesce(h.relocation_settled, false) then false
            when hg.safe = false then h.housing_secured_by is null
            when hg.safe = true then false
            when h.dilapidated then h.housing_secured_by is null
            when not h.dilapidated then false
        end as housing_deprived,
        -- 饮水安全
        w.water_quantity_grade,
        w.water_quality_grade,
        w.water_convenience_grade,
        w.water_guarantee_grade,
        w.water_level,
        w.water_level = 'unsafe' as water_deprived,
        w.water_level = 'basic' as water_basic_only,
        -- context for profiles
        coalesce(m.disabled_or_ill_members, 0) > 0 as has_disabled_or_ill
    from {{ ref('households') }} as h
    left join household_members as m on h.household_key = m.household_key
    left join water_levels as w on h.household_key = w.household_key
    left join {{ ref('param_housing_grades') }} as hg on hg.grade = h.housing_grade
)

select * from final
