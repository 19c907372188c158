-- regions: counties and townships from config/regions, villages from the population reference.
-- key: level, code
with

counties as (
    select level, code, name, parent_code from {{ ref('param_regions') }} where level = 'county'
),

townships as (
    select level, code, name, parent_code from {{ ref('param_regions') }} where level = 'township'
),

villages_ranked as (
    -- a village's name as of its latest year in the reference
    select
        village_code,
        village_name,
        township_code,
        row_number() over (partition by village_code order by year desc, source_file, source_row) as pick
    from {{ ref('population') }}
),

villages as (
    select 'village' as level, village_code as code, village_name as name, township_code as parent_code
    from villages_ranked
    where pick = 1
),

final as (
    select * from counties
    union all
    select * from townships
    union all
    select * from villages
)

select * from final
