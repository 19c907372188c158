-- xc_new_disability: 残联 issued a disability certificate dated within the quarter to a member
-- the registry does not record as disabled (健康状况 without 残疾).
-- key: person_key
with

run as (
    select * from {{ ref('param_run') }}
),

certificates as (
    select
        d.person_key,
        max(d.record_date) as record_date,
        string_agg(coalesce(c.label, d.category) || coalesce(g.label, ''), '、' order by d.category) as what
    from {{ ref('department_records') }} as d
    cross join run
    left join {{ ref('param_labels') }} as c on c.domain = 'dept_disability_category' and c.code = d.category
    left join {{ ref('param_labels') }} as g on g.domain = 'dept_disability_grade' and g.code = d.subcategory
    where d.department = 'disability'
      and cast(extract(year from d.record_date) * 4 + extract(quarter from d.record_date) as integer) = run.quarter_index
    group by d.person_key
),

final as (
    select
        p.household_key,
        p.person_key,
        p.county_code,
        p.township_code,
        p.village_code,
        c.record_date,
        '残联本季度新发残疾证（' || c.what || '），建档立卡健康状况未含残疾' as detail
    from certificates as c
    inner join {{ ref('int_xc_persons') }} as p on p.person_key = c.person_key
    where not coalesce(p.health_disabled, false)
)

select * from final
