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
