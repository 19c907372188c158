-- int_persons_loaded: registry rows that are loaded (no quarantine reason), with the age at the
-- period's end.
-- materialized: view
with

loaded as (
    select * from {{ ref('int_registry_rows') }}
    where reason is null
),

dated as (
    select
        *,
        -- the ID is the reference when it is valid; the recorded values otherwise
        case when id_valid then id_birth_date else coalesce(birth_date, id_birth_date) end as birth_date_final,
        case when id_valid then coalesce(id_sex, sex) else coalesce(sex, id_sex) end as sex_final
    from loaded
),

final as (
    select
        *,
        extract(year from period_end) - extract(year from birth_date_final)
            - case
                when extract(month from period_end) < extract(month from birth_date_final)
                    or (extract(month from period_end) = extract(month from birth_date_final)
                        and extract(day from period_end) < extract(day from birth_date_final))
                then 1 else 0
            end as age
    from dated
)

select * from final
