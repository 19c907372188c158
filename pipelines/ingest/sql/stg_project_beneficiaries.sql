-- stg_project_beneficiaries: beneficiary-household rows of the project lists (data/raw/projects), typed; the
-- 户主 name and ID number (pii) stay raw here and are keyed or dropped downstream. Every raw row stays here.
{% import '_macros.sql' as m with context %}
{%- set cols = columns.project_beneficiaries %}
with

code_labels as (
    select * from {{ ref('param_code_labels') }}
),

tick_columns as (
    {{ m.tick_columns(cols, ref('raw_project_beneficiaries'), ref('param_tick_marks')) }}
),

final as (
    select
        -- provenance
        {{ m.provenance('r') }}
        -- typed columns
        {{ m.typed_columns(cols, 'r') }}
        upper({{ m.norm('r.head_id_number') }}) as id_norm,
        r.file_id as _file_id
    from {{ ref('raw_project_beneficiaries') }} as r  -- read where used (a CTE read twice is materialised whole)
    cross join {{ ref('param_label_lists') }} as ll
    {{ m.label_joins(cols, 'r') }}
)

select * from final
