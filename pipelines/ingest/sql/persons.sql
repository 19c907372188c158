-- persons: one row per loaded registry member row. No name, ID, phone or 人编号.
-- key: period, person_key
with

members as (
    select * from {{ ref('int_persons_loaded') }}
),

final as (
    select
        -- keys
        period,
        person_key,
        household_key,
        -- where
        county_code,
        township_code,
        village_code,
        -- who
        relation,
        sex_final as sex,
        -- quasi-identifiers coarsened: the birth year, not the date (docs/data_contract.md §4);
        -- age in completed years at the period's end is computed here from the full date
        cast(extract(year from birth_date_final) as integer) as birth_year,
        cast(age as integer) as age,
        id_valid,
        -- comma-separated flags (leading comma dropped by substr)
        nullif(substr(
            case when id_length = 0 then ',missing' else '' end
            || case when id_length not in (0, 18) then ',nonstandard_length' else '' end
            || case when id_length = 18 and not id_check_ok then ',checksum_invalid' else '' end
            || case when id_length = 18 and id_birth_date is null then ',birth_date_invalid' else '' end
            || case when id_rank = 1 and id_count > 1 then ',duplicate_kept' else '' end,
        2), '') as id_flags,
        id_type,
        identification_standard,
        -- conditions
        education,
        school_status,
        dropout_reason,
        send_teaching,
        health_healthy,
        health_chronic,
        health_serious_illness,
        health_disabled,
        disability_type,
        labour_skill,
        migrant_status,
        work_location,
        work_months,
        -- insurance and assistance
        resident_med_ins,
        employee_med_ins,
        critical_illness_ins,
        medical_assistance,
        pension_ins,
        dibao,
        tekun,
        public_welfare_job,
        -- provenance
        source_file,
        source_row
    from members
)

select * from final
