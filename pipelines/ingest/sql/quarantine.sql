-- quarantine: every raw row that is not loaded, with the reason, the raw header of the offending
-- column, and `fields`: the cells of the row that cannot be personal data, as JSON text.
-- A quarantined row may be displaced (column_shift) or simply odd, so cells are not trusted by
-- their header: (1) a shifted row is read back one cell over (shift_fixed_right / _left from
-- raw_file.sql), and a cell standing under a personal column's header (姓名, 证件号码, 联系电话,
-- 户编号, 人编号, …) is never read; (2) a cell is kept only when its content has its column's shape
-- (_macros.sql quarantine_cell: code labels, short numbers, years, 12-digit region codes, known
-- place names). Everything else stays in data/raw, found by source_file, sheet and source_row.
-- key: source_file, sheet?, source_row
-- duckdb: `fields` is JSON text built with to_json of a text value and string_agg(… order by …);
-- on Spark (pipelines/engines.py) SQLGlot transpiles string_agg, and to_json of a plain value is
-- rewritten there (Spark's to_json takes only a struct, array or map)
{% import '_macros.sql' as m with context %}
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

settings as (
    select * from {{ ref('param_ingest') }}
),

headers as (
    select * from {{ ref('raw_headers') }}
),

known_places as (
    -- free-text cells a quarantined row may keep: county and township names of config/regions
    select 'county_name' as column_key, name from {{ ref('param_regions') }} where level = 'county'
    union all
    select 'township_name' as column_key, name from {{ ref('param_regions') }} where level = 'township'
),

place_suffixes as (
    select * from {{ ref('param_place_suffixes') }}
),

{% for src in sources %}
{{ src.name }}_quarantined as (
    select
        period,
        source_kind,
        source_file,
        file_id,
        sheet,
        source_row,
        reason,
        reason_column,
        reason_detail as detail{% if src.household_key %},
        household_key{% endif %}
    from {{ rows_of[src.name] }}
    where reason is not null{% if src.department %}
      and source_kind = '{{ src.kind }}'  -- the department lists share one model{% endif %}
),

{{ src.name }}_cells as (
    -- the quarantined rows' cells as written, one row per mapped column, with its position
    select
        q.file_id,
        q.source_row,
        case when not r.is_shifted then 0 when r.shift_fixed_right >= r.shift_fixed_left then 1 else -1 end as shift,
        u.cell.column_key as column_key,
        h.pos,
        u.cell.value as value
    from {{ src.name }}_quarantined as q
    inner join {{ raw_of[src.name] }} as r
        on r.file_id = q.file_id and r.source_row = q.source_row
    cross join unnest([
        {%- for c in src.all_columns %}
        {'column_key': '{{ c }}', 'value': r.{{ c }}}{% if not loop.last %},{% endif %}
        {%- endfor %}
    ]) as u(cell)
    inner join headers as h
        on h.file_id = q.file_id and h.column_key = u.cell.column_key
),

{{ src.name }}_paired as (
    -- each non-personal column's cell in place and, in a shifted row, one cell over (never a
    -- cell standing under a personal column's header)
    select
        t.file_id,
        t.source_row,
        t.column_key,
        t.pos,
        t.shift,
        t.value as in_place,
        case when s.column_key not in ({% for c in src.personal_columns %}'{{ c }}'{% if not loop.last %}, {% endif %}{% endfor %})
            then s.value end as shifted
    from {{ src.name }}_cells as t
    left join {{ src.name }}_cells as s
        on t.shift <> 0 and s.file_id = t.file_id and s.source_row = t.source_row and s.pos = t.pos + t.shift
    where t.column_key in ({% for c in src.kept_columns %}'{{ c.name }}'{% if not loop.last %}, {% endif %}{% endfor %})
),

{{ src.name }}_shift_start as (
    -- where a shifted row's displacement begins: the first typed column whose cell fails in place
    -- and parses one cell over (cells before it are where their headers say)
    select
        file_id,
        source_row,
        min(pos) as start_pos
    from {{ src.name }}_paired
    cross join {{ ref('param_label_lists') }} as ll
    where shift <> 0
      and case column_key
          when '' then false  {#- a source without typed columns (project_beneficiaries) #}
          {%- for c in src.kept_columns if m.is_typed(c.kind) == 'True' %}
          when '{{ c.name }}' then in_place is not null and not {{ m.parses(c.kind, 'in_place') }}
              and shifted is not null and {{ m.parses(c.kind, 'shifted') }}
          {%- endfor %}
          else false
      end
    group by file_id, source_row
),

{{ src.name }}_read as (
    select
        p.file_id,
        p.source_row,
        p.column_key,
        case when p.shift <> 0 and p.pos >= coalesce(st.start_pos, 0) then p.shifted else p.in_place end as value
    from {{ src.name }}_paired as p
    left join {{ src.name }}_shift_start as st
        on st.file_id = p.file_id and st.source_row = p.source_row
),

{{ src.name }}_places as (
    -- free-text cells naming a place: a county / township of config/regions (county_name,
    -- township_name), elsewhere a name ending in a configured suffix (村委会 …)
    select r.file_id, r.source_row, r.column_key
    from {{ src.name }}_read as r
    inner join known_places as k
        on k.column_key = r.column_key and k.name = r.value
    union
    select r.file_id, r.source_row, r.column_key
    from {{ src.name }}_read as r
    inner join place_suffixes as s
        on r.value like '%' || s.suffix and length(r.value) > length(s.suffix)
    {%- set place_columns = src.kept_columns | selectattr('kind', 'equalto', 'text') | map(attribute='name')
                            | reject('in', ['county_name', 'township_name']) | list %}
    where {% if place_columns %}r.column_key in ('{{ place_columns | join("', '") }}'){% else %}false{% endif %}
),

{{ src.name }}_marked as (
    select
        r.*,
        pl.file_id is not null as is_place
    from {{ src.name }}_read as r
    left join {{ src.name }}_places as pl
        on pl.file_id = r.file_id and pl.source_row = r.source_row and pl.column_key = r.column_key
),

{{ src.name }}_kept as (
    -- a cell is kept only when its content has its column's shape (_macros.sql quarantine_cell)
    select
        file_id,
        source_row,
        column_key,
        case column_key
            {%- for c in src.kept_columns %}
            when '{{ c.name }}' then {{ loop.index }}
            {%- endfor %}
        end as column_order,
        case column_key
            {%- for c in src.kept_columns %}
            when '{{ c.name }}' then {{ m.quarantine_cell(c.name, c.kind, 'value') }}
            {%- endfor %}
        end as value
    from {{ src.name }}_marked
    cross join {{ ref('param_label_lists') }} as ll
    where value is not null
),

{{ src.name }}_fields as (
    -- JSON object text, keys in config order (string_agg orders; json_group_object cannot)
    select
        file_id,
        source_row,
        '{' || string_agg(to_json(column_key) || ':' || to_json(value), ',' order by column_order) || '}' as fields
    from {{ src.name }}_kept
    where value is not null
    group by file_id, source_row
),

{{ src.name }}_rows as (
    select
        q.period,
        q.source_kind,
        q.source_file,
        q.file_id,
        q.sheet,
        q.source_row,
        q.reason,
        q.reason_column,
        q.detail,
        {%- if src.household_key %}
        -- the row's pseudonymous household key (a keyed hash, never the 户编号) as the last field
        case
            when q.household_key is null then coalesce(f.fields, '{}')
            when f.fields is null then '{"household_key":' || to_json(q.household_key) || '}'
            else substr(f.fields, 1, length(f.fields) - 1) || ',"household_key":' || to_json(q.household_key) || '}'
        end as fields
        {%- else %}
        coalesce(f.fields, '{}') as fields
        {%- endif %}
    from {{ src.name }}_quarantined as q
    left join {{ src.name }}_fields as f
        on f.file_id = q.file_id and f.source_row = q.source_row
),
{% endfor %}

unioned as (
    {%- for src in sources %}
    select * from {{ src.name }}_rows
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

final as (
    select
        u.period,
        u.source_kind,
        u.source_file,
        u.sheet,
        u.source_row,
        u.reason,
        h.header as column_name,
        u.detail,
        cast(u.fields as varchar) as fields
    from unioned as u
    left join headers as h
        on h.file_id = u.file_id and h.column_key = u.reason_column
)

select * from final
