-- problems: the problem ledger (问题清单), one row per household x failed 两不愁三保障 / 饮水安全
-- criterion of the period, plus the previous period's open problems that are now cleared.
--
-- key: period, household_key, criterion
--
-- inputs: int_household_deprivations, int_person_deprivations (the shared criteria models),
--         households, regions, pairings, previous_problems (the previous period's ledger, maybe
--         empty), rectification (rows of returned 问题清单 sheets of earlier quarters, maybe empty),
--         param_criteria_labels (criterion, label, sort_order), param_ledger (one row),
--         crosscheck_findings (maybe empty), param_crosscheck_rules, param_sources
-- status: 新发现 new this period; 持续 open last period and still failing; 已报整改仍未达标 open last
--         period, reported rectified (整改完成时间) in a returned sheet, and still failing; 已整改 open
--         last period and no longer failing (carried with this period's date).
-- deadline: fixed when the problem is first found: the first 清零 date strictly after the end of
--         the quarter it was found in (param_ledger.deadline for a new one); days_to_deadline is
--         counted from this period's end (negative: overdue) for open problems only.
-- Members are named by person_key (pseudonymous); the 问题清单 prints their names from data/raw.
-- Department cross-checks (crosscheck_findings, pipelines/crosscheck) are problems too: criterion =
-- the rule (config/departments.toml [[rule]]), source = the department (来源), members = the
-- persons found with the finding's detail; findings about no registry household are not here.
with

params as (
    select * from {{ ref('param_ledger') }}
),

flags as (
    select
        d.household_key,
        d.food_deprived,
        d.clothing_deprived,
        d.education_deprived,
        d.medical_deprived,
        d.housing_deprived,
        d.water_deprived,
        d.water_quantity_grade,
        d.water_quality_grade,
        d.water_convenience_grade,
        d.water_guarantee_grade,
        h.housing_grade,
        h.water_quantity_lpd,
        h.water_outage_days
    from {{ ref('int_household_deprivations') }} as d
    inner join {{ ref('households') }} as h on h.household_key = d.household_key
),

-- department findings of the period on registry households (one problem per household and rule)
department_findings as (
    select
        x.household_key,
        x.person_key,
        x.rule as criterion,
        x.rule_label,
        x.detail,
        x.record_date
    from {{ ref('crosscheck_findings') }} as x
    where x.household_key is not null
),

-- ---- one row per household and failed criterion -----------------------------------------------
failed as (
    select household_key, 'food' as criterion, '是否不愁吃：否' as problem from flags where food_deprived
    union all
    select household_key, 'clothing', '是否不愁穿：否' from flags where clothing_deprived
    union all
    select household_key, 'education', null from flags where education_deprived
    union all
    select household_key, 'medical', null from flags where medical_deprived
    union all
    select
        household_key,
        'housing',
        '住房安全等级' || coalesce(housing_grade, '未评定') || '，未鉴定/改造/保障安全'
    from flags
    where housing_deprived
    union all
    select
        household_key,
        'water',
        concat_ws('，',
            case when water_quantity_grade = 'fails'
                then '水量不达标（' || cast(water_quantity_lpd as varchar) || '升/人·日）' end,
            case when water_quality_grade = 'fails' then '水质不达标' end,
            case when water_convenience_grade = 'fails' then '用水方便程度不达标' end,
            case when water_guarantee_grade = 'fails'
                then '供水保证率不达标（年断水缺水' || cast(water_outage_days as varchar) || '天）' end
        ) || '：饮水不安全'
    from flags
    where water_deprived
    union all
    -- a department's finding: its rule and the department list's record date; a household-level
    -- finding (水利) carries its detail here, person-level ones under the members
    select
        household_key,
        criterion,
        max(rule_label) || '（' || cast(max(record_date) as varchar) || '）'
            || coalesce('：' || max(case when person_key is null then detail end), '')
    from department_findings
    group by household_key, criterion
),

-- offending members, pseudonymous: "<person_key>：9岁，未在校", in key order
member_problems as (
    select household_key, person_key, 'education' as criterion, education_problem as problem
    from {{ ref('int_person_deprivations') }}
    where education_deprived
    union all
    select household_key, person_key, 'medical', medical_problem
    from {{ ref('int_person_deprivations') }}
    where medical_deprived
    union all
    select household_key, person_key, criterion, detail
    from department_findings
    where person_key is not null
),

members as (
    select
        household_key,
        criterion,
        string_agg(person_key || '：' || problem, '；' order by person_key) as members,
        count(*) as member_count
    from member_problems
    group by household_key, criterion
),

-- the household's assistance-responsible person: a pairing active at the period end first
cadre as (
    select household_key, cadre_name, cadre_phone, cadre_unit
    from (
        select
            p.*,
            row_number() over (
                partition by p.household_key
                order by case when p.end_date is null or p.end_date >= params.period_end then 0 else 1 end,
                    p.cadre_id
            ) as pick
        from {{ ref('pairings') }} as p
        cross join params
    )
    where pick = 1
),

region_names as (
    select level, code, name from {{ ref('regions') }}
),

current_rows as (
    select
        params.period,
        h.county_code,
        cn.name as county_name,
        h.township_code,
        tn.name as township_name,
        h.village_code,
        vn.name as village_name,
        f.household_key,
        f.criterion,
        m.members,
        coalesce(f.problem, case f.criterion
            when 'education' then cast(m.member_count as varchar) || '名义务教育阶段适龄儿童未在校'
            when 'medical' then cast(m.member_count as varchar) || '人未参加基本医疗保险或大病保险'
        end) as problem,
        c.cadre_name,
        c.cadre_phone,
        c.cadre_unit
    from failed as f
    cross join params
    inner join {{ ref('households') }} as h on h.household_key = f.household_key
    left join members as m on m.household_key = f.household_key and m.criterion = f.criterion
    left join cadre as c on c.household_key = f.household_key
    left join region_names as cn on cn.level = 'county' and cn.code = h.county_code
    left join region_names as tn on tn.level = 'township' and tn.code = h.township_code
    left join region_names as vn on vn.level = 'village' and vn.code = h.village_code
),

previous_open as (
    select p.*
    from {{ ref('previous_problems') }} as p
    cross join params
    where p.status in (params.status_new, params.status_open, params.status_disputed)
),

-- the latest report of a returned sheet on each previous open problem (since it was found)
reports as (
    select
        r.household_key,
        r.criterion,
        r.period,
        r.completed_on,
        r.measure_given,
        r.source_file,
        r.sheet,
        r.source_row,
        row_number() over (
            partition by r.household_key, r.criterion
            order by r.period desc, r.source_file desc, r.sheet desc, r.source_row desc
        ) as pick
    from {{ ref('rectification') }} as r
    inner join previous_open as p
        on p.household_key = r.household_key and p.criterion = r.criterion
    cross join params
    where r.period < params.period
      and r.period >= p.first_found_period
      -- a returned row with nothing filled in reports nothing
      and (r.completed_on is not null or r.measure_given or r.unit_given)
),

latest_report as (
    select * from reports where pick = 1
),

-- ---- status across quarters ---------------------------------------------------------------------
still_or_new as (
    select
        c.*,
        case
            when p.household_key is null then params.status_new
            when r.completed_on is not null then params.status_disputed
            else params.status_open
        end as status,
        coalesce(p.first_found_period, c.period) as first_found_period,
        coalesce(p.deadline, params.deadline) as deadline,
        r.period as rectification_period,
        r.completed_on as rectification_completed_on,
        r.measure_given as rectification_measure_given,
        r.source_file as rectification_source_file,
        r.sheet as rectification_sheet,
        r.source_row as rectification_source_row
    from current_rows as c
    cross join params
    left join previous_open as p
        on p.household_key = c.household_key and p.criterion = c.criterion
    left join latest_report as r
        on r.household_key = c.household_key and r.criterion = c.criterion
),

cleared as (
    select
        params.period,
        p.county_code,
        p.county_name,
        p.township_code,
        p.township_name,
        p.village_code,
        p.village_name,
        p.household_key,
        p.criterion,
        p.members,
        p.problem,
        p.cadre_name,
        p.cadre_phone,
        p.cadre_unit,
        params.status_cleared as status,
        p.first_found_period,
        p.deadline,
        r.period as rectification_period,
        r.completed_on as rectification_completed_on,
        r.measure_given as rectification_measure_given,
        r.source_file as rectification_source_file,
        r.sheet as rectification_sheet,
        r.source_row as rectification_source_row
    from previous_open as p
    cross join params
    left join latest_report as r
        on r.household_key = p.household_key and r.criterion = p.criterion
    where not exists (
        select 1 from current_rows as c
        where c.household_key = p.household_key and c.criterion = p.criterion
    )
),

unioned as (
    select * from still_or_new
    union all
    select * from cleared
),

final as (
    select
        -- ids and where
        u.period,
        u.county_code,
        u.county_name,
        u.township_code,
        u.township_name,
        u.village_code,
        u.village_name,
        u.household_key,
        -- what
        u.criterion,
        coalesce(l.label, xr.rule_label) as criterion_label,
        coalesce(l.sort_order, 100 + xr.rule_order) as criterion_order,
        u.members,
        u.problem,
        -- who helps
        u.cadre_name,
        u.cadre_phone,
        u.cadre_unit,
        -- progress
        u.status,
        u.status <> params.status_cleared as is_open,
        u.first_found_period,
        u.deadline,
        case when u.status <> params.status_cleared
            then cast(datediff('day', params.period_end, u.deadline) as integer) end as days_to_deadline,
        u.status <> params.status_cleared and u.deadline < params.period_end as overdue,
        -- the returned sheet's report it cites (its measure and unit are read from data/raw at print time)
        u.rectification_period,
        u.rectification_completed_on,
        u.rectification_measure_given,
        u.rectification_source_file,
        u.rectification_sheet,
        u.rectification_source_row,
        -- 来源: the registry, or the department whose list the cross-check compared
        coalesce(xr.department, 'registry') as source,
        src.label as source_label
    from unioned as u
    cross join params
    left join {{ ref('param_criteria_labels') }} as l on l.criterion = u.criterion
    left join {{ ref('param_crosscheck_rules') }} as xr on xr.rule = u.criterion
    left join {{ ref('param_sources') }} as src on src.source = coalesce(xr.department, 'registry')
)

select * from final
