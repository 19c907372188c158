-- stg_dept_medical: 医保 insured-person list, typed: labels mapped to codes, dates parsed, the ID number
-- checked and keyed (never kept). Every raw row stays here (decisions in int_department_rows).
{% import '_macros.sql' as m with context %}
{%- set cols = columns.dept_medical %}
with

raw as (
    select * from {{ ref('raw_dept_medical') }}
),

code_labels as (
    select * from {{ ref('param_code_labels') }}
),

pseudonym_key as (
    select * from {{ ref('ingest_params') }}
),

tick_columns as (
    {{ m.tick_columns(cols, 'raw', ref('param_tick_marks')) }}
),

typed as (
    select
        -- provenance
        {{ m.provenance('r') }}
        upper({{ m.norm('r.id_number') }}) as id_norm,
        r.record_date as record_date__raw,
        -- typed columns
        {{ m.typed_columns(cols, 'r') }}
        r.file_id as _file_id
    from raw as r
    cross join {{ ref('param_label_lists') }} as ll
    {{ m.label_joins(cols, 'r') }}
),

id_checked as (
    select
        t.*,
        substr(id_norm, 1, 18) as id18,
        coalesce(length(id_norm), 0) as id_length,
        {{ m.gb11643_ok('id_norm') }} as id_check_ok,
        {{ m.id_birth_date('id_norm') }} as id_birth_date
    from typed as t
    cross join {{ ref('param_gb11643') }} as gb
),

final as (
    select
        *,
        -- the registry's person_key (stg_registry.sql): the same keyed hash of the first 18 characters
        case when id18 is not null then {{ m.pseudonym('person:', 'id18') }} end as person_key
    from id_checked
)

select * from final
