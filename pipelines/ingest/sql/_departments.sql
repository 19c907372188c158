{#- The staged model of a department's person list (stg_dept_<dept>.sql, every department whose
    list is keyed by an ID number; 水利's by-village list has its own): typed by the department's
    columns (config/header_aliases.toml [dept_<dept>]), labels mapped to codes, dates parsed, the ID
    number checked and keyed with the registry's person_key hash, never kept. Every raw row stays
    (decisions in int_department_rows). Inputs come as arguments: the model names them in ref()
    (pipelines/graph.py reads a model's inputs from its own text). -#}
{% import '_macros.sql' as m with context %}

{% macro staged_id_list(cols, raw, code_labels_table, key_table, tick_marks, label_lists, gb11643) -%}
with

code_labels as (
    select * from {{ code_labels_table }}
),

pseudonym_key as (
    select * from {{ key_table }}
),

tick_columns as (
    {{ m.tick_columns(cols, raw, tick_marks) }}
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
    -- the raw rows read where used (a CTE read twice would be materialised whole: every text column)
    from {{ raw }} as r
    cross join {{ label_lists }} as ll
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
    cross join {{ gb11643 }} as gb
),

final as (
    select
        *,
        -- the registry's person_key (stg_registry.sql): the same keyed hash of the first 18 characters
        case when id18 is not null then {{ m.pseudonym('person:', 'id18') }} end as person_key
    from id_checked
)

select * from final
{%- endmacro %}
