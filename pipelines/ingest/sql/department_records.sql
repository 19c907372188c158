-- department_records: the loaded rows of every department list of `period`
-- (data/raw/departments/<department>/<period>/), keyed: person_key is the registry's keyed hash of
-- the ID number (住建: of the household head's), never the number; the category code of the
-- department's list, an amount in yuan (医保 自付费用, 民政 月保障金额) and the record date.
-- key: period, department, source_file, sheet?, source_row
with

loaded as (
    select * from {{ ref('int_department_rows') }}
    where reason is null
),

final as (
    select
        period,
        department,
        person_key,
        village_code,
        substr(village_code, 1, 6) as county_code,
        category,
        subcategory,
        amount,
        record_date,
        source_file,
        sheet,
        source_row
    from loaded
)

select * from final
