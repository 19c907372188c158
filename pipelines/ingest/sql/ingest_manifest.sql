-- ingest_manifest: one row per raw file (and sheet); rows_read = rows_loaded + rows_quarantined,
-- and the fingerprint of the key the file's rows were keyed with.
-- key: source_file, sheet?
{%- set rows_of = {'registry': ref('int_registry_rows'), 'pairing': ref('int_pairing_rows'),
                   'survey': ref('int_survey_rows'), 'population': ref('int_population_rows'),
                   'rectification': ref('int_rectification_rows'),
                   'projects': ref('int_project_rows'), 'project_beneficiaries': ref('int_project_beneficiary_rows'),
                   'tasks': ref('int_task_rows'), 'instructions': ref('int_instruction_rows'),
                   'dept_medical': ref('int_department_rows'), 'dept_civil': ref('int_department_rows'),
                   'dept_disability': ref('int_department_rows'), 'dept_education': ref('int_department_rows'),
                   'dept_housing': ref('int_department_rows'), 'dept_water': ref('int_department_rows'),
                   'dept_police': ref('int_department_rows')} %}
{%- set raw_of = {'registry': ref('raw_registry'), 'pairing': ref('raw_pairing'), 'survey': ref('raw_survey'),
                  'population': ref('raw_population'), 'rectification': ref('raw_rectification'),
                  'projects': ref('raw_projects'), 'project_beneficiaries': ref('raw_project_beneficiaries'),
                  'tasks': ref('raw_tasks'), 'instructions': ref('raw_instructions'),
                  'dept_medical': ref('raw_dept_medical'), 'dept_civil': ref('raw_dept_civil'),
                  'dept_disability': ref('raw_dept_disability'), 'dept_education': ref('raw_dept_education'),
                  'dept_housing': ref('raw_dept_housing'), 'dept_water': ref('raw_dept_water'),
                  'dept_police': ref('raw_dept_police')} %}
with

files as (
    select * from {{ ref('raw_files') }}
),

quarantined as (
    {%- for src in sources %}
    select file_id, count(*) as n from {{ rows_of[src.name] }} where reason is not null
    {%- if src.department %} and source_kind = '{{ src.kind }}'{% endif %} group by file_id
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

rows_read_by_file as (
    {%- for src in sources %}
    select file_id, count(*) as n from {{ raw_of[src.name] }} group by file_id
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

final as (
    select
        f.source_file,
        f.source_kind,
        f.period,
        f.sha256,
        f.bytes,
        f.encoding,
        f.sheet,
        f.header_row,
        cast(coalesce(r.n, 0) as bigint) as rows_read,
        cast(coalesce(r.n, 0) - coalesce(q.n, 0) as bigint) as rows_loaded,
        cast(coalesce(q.n, 0) as bigint) as rows_quarantined,
        f.missing_columns,
        f.unmapped_headers,
        -- fingerprint of the pseudonymisation key (never the key): a run with another key is refused
        k.key_fingerprint
    from files as f
    left join rows_read_by_file as r on r.file_id = f.file_id
    left join quarantined as q on q.file_id = f.file_id
    cross join {{ ref('ingest_params') }} as k
)

select * from final
