-- xc_high_out_of_pocket: a registry member whose yearly out-of-pocket medical cost on the 医保
-- list is above the warning line (config/departments.toml [thresholds]; strictly above).
-- Persons not in the registry are not reported (the list names no village to place them).
-- key: person_key
with

params as (
    select * from {{ ref('param_crosscheck') }}
),

costs as (
    select person_key, max(amount) as amount, max(record_date) as record_date
    from {{ ref('department_records') }}
    where department = 'medical' and amount is not null
    group by person_key
),

final as (
    select
        p.household_key,
        p.person_key,
        p.county_code,
        p.township_code,
        p.village_code,
        c.record_date,
        '年度个人自付医疗费用' || cast(cast(round(c.amount) as bigint) as varchar) || '元，超过预警线'
            || cast(cast(params.out_of_pocket_warning_yuan as bigint) as varchar) || '元' as detail
    from costs as c
    cross join params
    inner join {{ ref('int_xc_persons') }} as p on p.person_key = c.person_key
    where c.amount > params.out_of_pocket_warning_yuan
)

select * from final
