-- population: 农村户籍人口 by village and year (incidence denominators).
-- key: year, village_code
with

loaded as (
    select * from {{ ref('int_population_rows') }}
    where reason is null
),

final as (
    select
        -- keys
        year,
        village_code,
        -- where
        substr(village_code, 1, 6) as county_code,
        substr(village_code, 1, 9) as township_code,
        village_name,
        urban_rural_code,
        -- measure
        rural_population,
        -- provenance
        source_file,
        source_row
    from loaded
)

select * from final
