-- card_members: the members of each carded household as the card lists them: relation, sex, age,
-- health, schooling and work, in labels. Names are printed from data/raw by person_key.
-- key: person_key
--
-- inputs: card_households, persons (the period), param_labels (domain, code, label, sort_order)
with

labels as (
    select domain, code, label, sort_order from {{ ref('param_labels') }}
),

members as (
    select p.*
    from {{ ref('persons') }} as p
    inner join {{ ref('card_households') }} as h on h.household_key = p.household_key
),

health as (
    -- 健康状况 is multi-valued: the labels of the flags set, in code-list order
    select
        m.person_key,
        string_agg(l.label, '、' order by l.sort_order) as health_label
    from members as m
    inner join labels as l
        on l.domain = 'health'
       and (l.code = 'healthy' and m.health_healthy
            or l.code = 'chronic' and m.health_chronic
            or l.code = 'serious_illness' and m.health_serious_illness
            or l.code = 'disabled' and m.health_disabled)
    group by m.person_key
),

final as (
    select
        m.person_key,
        m.household_key,
        lr.sort_order as relation_order,
        lr.label as relation_label,
        lx.label as sex_label,
        m.age,
        h.health_label,
        coalesce(lsc.label, le.label) as schooling_label,
        m.school_status is not null as in_school,
        case when lw.label is not null
            then lw.label || coalesce('(' || m.work_location || ')', '') end as work_label
    from members as m
    left join health as h on h.person_key = m.person_key
    left join labels as lr on lr.domain = 'relation' and lr.code = m.relation
    left join labels as lx on lx.domain = 'sex' and lx.code = m.sex
    left join labels as lsc on lsc.domain = 'school_status' and lsc.code = m.school_status
    left join labels as le on le.domain = 'education' and le.code = m.education
    left join labels as lw on lw.domain = 'migrant_status' and lw.code = m.migrant_status
)

select * from final
