-- findings: loaded rows with issues (docs/data_contract.md §3). column_name is the header as
-- written in the file; raw_value is never given for a PII column, nor when it holds more digits than
-- [ingest.quarantine] max_digits (an ID or phone a displaced row put under another column).
-- key: source_file, sheet?, source_row, reason, column_name
{% import '_macros.sql' as m with context %}
with

settings as (
    select * from {{ ref('param_ingest') }}
),

registry as (
    select * from {{ ref('int_registry_findings') }}
),

pairing_loaded as (
    select * from {{ ref('int_pairing_rows') }} where reason is null
),

pairing as (
    {{ m.unknown_label_findings(columns.pairing, 'pairing_loaded', 'cast(null as varchar)') }}
),

pairing_merged as (
    select
        p.period, p.source_kind, p.source_file, p.file_id, p.sheet, p.source_row,
        'merged_cell_filled' as reason,
        f.first_header as column_key,
        'filled from merged cells: ' || f.headers as detail,
        cast(null as varchar) as raw_value,
        p.household_key,
        cast(null as varchar) as person_key
    from {{ ref('int_pairing_rows') }} as p
    inner join {{ ref('raw_merged_fills') }} as f
        on f.file_id = p.file_id and f.source_row = p.source_row
    where p.reason is null
),

survey_loaded as (
    select * from {{ ref('int_survey_rows') }} where reason is null
),

survey as (
    {{ m.unknown_label_findings(columns.survey, 'survey_loaded', 'cast(null as varchar)') }}
),

projects_loaded as (
    select *, cast(null as varchar) as household_key, cast(null as varchar) as person_key
    from {{ ref('int_project_rows') }} where reason is null
),

project_labels as (
    {{ m.unknown_label_findings(columns.projects, 'projects_loaded') }}
),

project_listed as (
    -- a project's stated 带贫户数 against the households its beneficiary list names (only in a
    -- quarter that has a beneficiary list at all)
    select
        p.*,
        t.listed_households
    from projects_loaded as p
    inner join {{ ref('projects') }} as t
        on t.period = p.period and t.project_key = p.project_key
    where p.period in (select period from {{ ref('int_project_beneficiary_rows') }} where reason is null)
),

project_households as (
    {{ m.finding('households_count_mismatch', 'stated_households',
                 "'带贫户数 ' || cast(stated_households as varchar) || ', beneficiary list names ' || cast(listed_households as varchar)",
                 'stated_households', 'project_listed', 'stated_households is not null and stated_households <> listed_households') }}
),

beneficiaries_loaded as (
    select * from {{ ref('int_project_beneficiary_rows') }} where reason is null
),

beneficiaries_unregistered as (
    {{ m.finding('beneficiary_not_in_registry', 'household_id',
                 "'household not in the registry of this quarter (by ' || case when household_id is not null then '户编号' else '户主身份证号' end || '); not counted as 带贫'",
                 'null', 'beneficiaries_loaded', 'not in_registry') }}
),

unmapped_headers as (
    -- a header that matches no alias: its cells are not loaded (one finding per file, sheet and header)
    select
        f.period, f.source_kind, f.source_file, f.file_id, f.sheet, cast(f.header_row as bigint) as source_row,
        'unmapped_header' as reason,
        u.header as column_key,
        'header matches no alias in config/header_aliases.toml (column ' || u.column_letters
            || '); its cells are not loaded' as detail,
        cast(null as varchar) as raw_value,
        cast(null as varchar) as household_key,
        cast(null as varchar) as person_key
    from {{ ref('raw_unmapped_headers') }} as u
    inner join {{ ref('raw_files') }} as f on f.file_id = u.file_id
),

unioned as (
    select * from registry
    union all
    select * from pairing
    union all
    select * from pairing_merged
    union all
    select * from survey
    union all
    select * from project_labels
    union all
    select * from project_households
    union all
    select * from beneficiaries_unregistered
    union all
    select * from unmapped_headers
),

final as (
    select
        u.period,
        u.source_kind,
        u.source_file,
        u.sheet,
        u.source_row,
        u.reason,
        coalesce(h.header, u.column_key) as column_name,
        u.detail,
        u.raw_value,
        u.household_key,
        u.person_key
    from unioned as u
    left join {{ ref('raw_headers') }} as h
        on h.file_id = u.file_id and h.column_key = u.column_key
)

select * from final
