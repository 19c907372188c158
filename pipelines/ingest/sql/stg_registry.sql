-- stg_registry: registry member rows, typed: labels mapped to codes, yes/no resolved, ID number
-- checked. Every raw row stays here (quarantine decisions come in int_registry_dispositions).
{% import '_macros.sql' as m with context %}
{%- set cols = columns.registry %}
with

code_labels as (
    select * from {{ ref('param_code_labels') }}
),

pseudonym_key as (
    select * from {{ ref('ingest_params') }}
),

places as (
    select * from {{ ref('int_place_names') }}
),

coded_files as (
    -- files with a village-code column: a blank code there is missing_village_code, not looked up by name
    select distinct file_id from {{ ref('raw_headers') }} where column_key = 'village_code'
),

tick_columns as (
    {{ m.tick_columns(cols, ref('raw_registry'), ref('param_tick_marks')) }}
),

typed as (
    select
        -- ids and provenance
        {{ m.provenance('r') }}
        r.period_end,
        nullif(trim(r.household_id), '') as household_key_source,
        nullif(trim(r.person_id), '') as person_id_present,
        upper({{ m.norm('r.id_number') }}) as id_norm,
        -- where: a village code as written, or resolved from the names (int_place_names)
        pl.place_reason,
        pl.place_column,
        pl.place_detail,
        -- typed columns
        {{ m.typed_columns(cols, 'r', ['hv.code', 'pl.village_code']) }}
        r.file_id as _file_id
    -- the raw rows read where used (a CTE read twice would be materialised whole: every text column)
    from {{ ref('raw_registry') }} as r
    cross join {{ ref('param_label_lists') }} as ll
    {{ m.label_joins(cols, 'r') }}
    left join coded_files as cf on cf.file_id = r.file_id
    -- [ingest.places] household_id_village_digits: the 户编号's leading digits are its village's
    -- code (0: no such rule), taken when config/regions has that village
    cross join {{ ref('param_places') }} as pp
    left join {{ ref('param_villages') }} as hv
        on cf.file_id is null
        and pp.household_id_village_digits > 0
        and hv.code = substr(trim(r.household_id), 1, pp.household_id_village_digits)
    left join places as pl
        on cf.file_id is null
        and hv.code is null
        and pl.county_name is not distinct from r.county_name
        and pl.township_name is not distinct from r.township_name
        and pl.village_name is not distinct from r.village_name
),

id_checked as (
    select
        t.*,
        substr(id_norm, 1, 18) as id18,
        coalesce(length(id_norm), 0) as id_length,
        {{ m.gb11643_ok('id_norm') }} as id_check_ok,
        {{ m.id_birth_date('id_norm') }} as id_birth_date,
        {{ m.id_sex('id_norm') }} as id_sex
    from typed as t
    cross join {{ ref('param_gb11643') }} as gb
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
