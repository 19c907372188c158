-- xc_water_not_covered: 水利 says a village is not covered by centralised water supply while a
-- registry household there records 饮水安全 = 是. One finding per household (no person).
-- key: household_key
with

villages as (
    select village_code, max(record_date) as record_date
    from {{ ref('department_records') }}
    where department = 'water' and category = 'not_covered'
    group by village_code
),

households as (
    select distinct household_key, county_code, township_code, village_code, water_safe
    from {{ ref('int_xc_persons') }}
),

final as (
    select
        h.household_key,
        cast(null as varchar) as person_key,
        h.county_code,
        h.township_code,
        h.village_code,
        v.record_date,
        '水利显示本村未覆盖集中供水，建档立卡饮水安全' as detail
    from villages as v
    inner join households as h on h.village_code = v.village_code
    where h.water_safe
)

select * from final
