-- project_beneficiaries: the households each project of `period` benefits, as its list names
-- them: household_key (the registry's keyed hash of the 户编号; NULL for a person the registry
-- does not hold and the list gives by ID only), person_key (the registry's HMAC of the 户主's ID,
-- when the list gives the ID), in_registry (the household is registered this quarter). No name
-- or ID number: they stay in data/raw.
-- key: period, project_key, beneficiary_key
with

loaded as (
    select * from {{ ref('int_project_beneficiary_rows') }}
    where reason is null
),

final as (
    select
        -- keys
        period,
        project_key,
        beneficiary_key,
        -- the household
        household_key,
        person_key,
        in_registry,
        benefit,
        -- provenance
        source_file,
        sheet,
        source_row
    from loaded
)

select * from final
