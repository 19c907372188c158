-- problem_sheet: the rows of a 问题清单 township sheet, as printed: where the household lives, its
-- 户主 and 户编号, the members concerned by name, the cadre, status, deadline, days left and the
-- report of a returned sheet it cites. Run at print time only (never stored): names, 户编号 and
-- the returned sheets' free text come from data/raw through the print-time tables.
-- key: township_code, row_no
--
-- inputs: problems (the period's stored ledger), roster_households (household_key, household_id,
--         head_name, village_group), roster_persons (person_key, name), rectification_text
--         (source_file, sheet, source_row, measure, responsible_unit), param_ledger (one row)
-- order: open problems first, by deadline (the most overdue first), then village, 户编号 and
--        criterion; rectified ones after them.
with

params as (
    select * from {{ ref('param_ledger') }}
),

problems as (
    select * from {{ ref('problems') }}
),

-- "<person_key>：<problem>；…" -> one row per member, named from data/raw
member_parts as (
    select
        p.household_key,
        p.criterion,
        m.part,
        m.pos
    from problems as p
    cross join unnest(string_split(p.members, '；')) with ordinality as m(part, pos)
    where p.members is not null
),

member_names as (
    select
        mp.household_key,
        mp.criterion,
        string_agg(
            coalesce(rp.name, '(姓名未找到)') || '：' || split_part(mp.part, '：', 2), '；' order by mp.pos
        ) as members
    from member_parts as mp
    left join {{ ref('roster_persons') }} as rp on rp.person_key = split_part(mp.part, '：', 1)
    group by mp.household_key, mp.criterion
),

cited as (
    select
        p.household_key,
        p.criterion,
        p.rectification_period || '清单反馈：'
            || case when p.rectification_completed_on is not null
                    then strftime(p.rectification_completed_on, '%Y-%m-%d') || '完成'
                    else '未填完成时间' end
            || case when t.source_row is null
                    then '(反馈表 ' || p.rectification_source_file || ' 第' || cast(p.rectification_source_row as varchar)
                         || '行未找到)'
                    else coalesce('；措施：' || t.measure, '') || coalesce('；责任单位：' || t.responsible_unit, '') end
            as previous_rectification
    from problems as p
    left join {{ ref('rectification_text') }} as t
        on t.source_file = p.rectification_source_file
       and t.sheet is not distinct from p.rectification_sheet
       and t.source_row = p.rectification_source_row
    where p.rectification_period is not null
),

joined as (
    select
        p.county_code,
        p.township_code,
        p.village_code,
        p.household_key,
        p.is_open,
        p.overdue,
        p.criterion_order,
        p.township_name,
        p.village_name,
        h.village_group,
        coalesce(h.head_name, '(未找到户主)') as head_name,
        coalesce(h.household_id, '(原始数据中未找到)') as household_id,
        p.criterion_label,
        p.source_label,
        coalesce(mn.members, '') as members,
        p.problem,
        p.cadre_name,
        p.cadre_unit,
        p.cadre_phone,
        p.first_found_period,
        p.status,
        p.deadline,
        p.days_to_deadline as days_left,
        c.previous_rectification
    from problems as p
    left join {{ ref('roster_households') }} as h on h.household_key = p.household_key
    left join member_names as mn on mn.household_key = p.household_key and mn.criterion = p.criterion
    left join cited as c on c.household_key = p.household_key and c.criterion = p.criterion
),

final as (
    select
        county_code,
        township_code,
        is_open,
        overdue,
        cast(row_number() over (
            partition by township_code
            order by case when is_open then 0 else 1 end, deadline, village_code, household_id, household_key,
                criterion_order
        ) as integer) as row_no,
        township_name,
        village_name,
        village_group,
        head_name,
        household_id,
        criterion_label,
        source_label,
        members,
        problem,
        cadre_name,
        cadre_unit,
        cadre_phone,
        first_found_period,
        status,
        deadline,
        days_left,
        previous_rectification,
        cast(null as varchar) as measure,
        cast(null as varchar) as responsible_unit,
        cast(null as varchar) as completed_on
    from joined
)

select * from final
