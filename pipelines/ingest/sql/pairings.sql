-- pairings: 帮扶责任人 per household and period. Cadre contact details are public-duty data and
-- kept; the household head's name and ID are not.
-- key: period, household_key, cadre_id
with

loaded as (
    select * from {{ ref('int_pairing_rows') }}
    where reason is null
),

final as (
    select
        -- keys
        period,
        household_key,
        cadre_id,
        -- cadre
        cadre_name,
        cadre_sex,
        cadre_phone,
        cadre_unit,
        cadre_affiliation,
        cadre_rank,
        cadre_political,
        -- pairing
        start_date,
        end_date,
        resident_team,
        -- provenance
        source_file,
        source_row
    from loaded
)

select * from final
