-- Registry member rows, typed: labels mapped to codes, yes/no resolved, ID number checked.
-- Every raw row stays here (quarantine decisions come in int_registry_dispositions).
{% import '_macros.sql' as m with context %}
with

raw as (
    select * from raw_registry
),

tick_columns as (
    {{ m.tick_columns(cols, 'raw') }}
),

typed as (
    select
        -- ids and provenance
        {{ m.provenance('r') }}
        r.period_end,
        nullif(trim(r.household_id), '') as household_key_source,
        nullif(trim(r.person_id), '') as person_id_present,
        upper({{ m.norm('r.id_number') }}) as id_norm,
        -- typed columns
        {{ m.typed_columns(cols, 'r') }}
        r.file_id as _file_id
    from raw as r
    {{ m.label_joins(cols, 'r') }}
),

id_checked as (
    -- GB 11643: S = sum(d_i * w_i) over the first 17 digits, check = '10X98765432'[S mod 11]
    select
        *,
        substr(id_norm, 1, 18) as id18,
        coalesce(length(id_norm), 0) as id_length,
        case
            when length(id_norm) = 18 and translate(substr(id_norm, 1, 17), '0123456789', '') = ''
                then substr('10X98765432', 1 + (
                    {%- for w in weights %}
                    {{ w }} * cast(substr(id_norm, {{ loop.index }}, 1) as integer){% if not loop.last %} +{% endif %}
                    {%- endfor %}
                ) % 11, 1) = substr(id_norm, 18, 1)
            else false
        end as id_check_ok,
        case
            when length(id_norm) = 18
                then try_cast(substr(id_norm, 7, 4) || '-' || substr(id_norm, 11, 2) || '-' || substr(id_norm, 13, 2) as date)
            when length(id_norm) = 15
                then try_cast('19' || substr(id_norm, 7, 2) || '-' || substr(id_norm, 9, 2) || '-' || substr(id_norm, 11, 2) as date)
        end as id_birth_date,
        case
            when length(id_norm) = 18 and substr(id_norm, 17, 1) in ('1', '3', '5', '7', '9') then 'male'
            when length(id_norm) = 18 and substr(id_norm, 17, 1) in ('0', '2', '4', '6', '8') then 'female'
            when length(id_norm) = 15 and substr(id_norm, 15, 1) in ('1', '3', '5', '7', '9') then 'male'
            when length(id_norm) = 15 and substr(id_norm, 15, 1) in ('0', '2', '4', '6', '8') then 'female'
        end as id_sex
    from typed
),

final as (
    select
        *,
        substr(village_code, 1, 6) as county_code,
        substr(village_code, 1, 9) as township_code,
        (id_length = 18 and id_check_ok and id_birth_date is not null) as id_valid,
        {{ m.pseudonym('household:', 'household_key_source') }} as household_key,
        case
            when id18 is not null then {{ m.pseudonym('person:', 'id18') }}
            -- no ID number at all: keyed on 户编号 + 人编号 (documented fallback)
            else {{ m.pseudonym('person_id:', "household_key_source || '/' || person_id_present") }}
        end as person_key
    from id_checked
)

select * from final
