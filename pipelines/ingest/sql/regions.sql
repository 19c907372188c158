-- regions: counties and townships from config/regions, villages from the population reference.
with

counties as (
    select 'county' as level, code, name, city_code as parent_code from ref_counties
),

townships as (
    select 'township' as level, code, name, county_code as parent_code from ref_townships
),

villages_ranked as (
    -- a village's name as of its latest year in the reference
    select
        village_code,
        village_name,
        township_code,
        row_number() over (partition by village_code order by year desc, source_file, source_row) as pick
    from population
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
