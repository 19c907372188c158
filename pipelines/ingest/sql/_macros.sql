{#- Shared expressions for the ingest SQL (jinja macros, rendered before execution).
    Cell normalisation mirrors headers.normalise: full-width ASCII -> ASCII (the part of NFKC that
    matters in exports), all spaces removed. Portable: translate, replace, substr, try_cast, case. -#}

{#- clean(x): run once per cell when a raw file is loaded (raw_file.sql); translate with a long
    map is costly, so it only runs on cells holding a full-width character or white space
    (regexp_matches is DuckDB's spelling of Spark's rlike). -#}
{% macro clean(x) -%}
nullif(case when regexp_matches({{ x }}, '[{{ fw_class }}\s]')
    then replace(translate({{ x }}, '{{ fw }}', '{{ hw }}'), ' ', '') else {{ x }} end, '')
{%- endmacro %}

{#- cells are cleaned at load (empty = NULL), so later layers use them as they are -#}
{% macro norm(x) -%}
{{ x }}
{%- endmacro %}

{% macro num(x) -%}
try_cast(replace({{ norm(x) }}, ',', '') as double)
{%- endmacro %}

{% macro digits_only(n) -%}
translate({{ n }}, '0123456789', '') = ''
{%- endmacro %}

{% macro to_date(x) -%}
case
    when {{ norm(x) }} is null then null
    when length({{ norm(x) }}) = 8 and {{ digits_only(norm(x)) }}
        then try_cast(substr({{ norm(x) }}, 1, 4) || '-' || substr({{ norm(x) }}, 5, 2) || '-' || substr({{ norm(x) }}, 7, 2) as date)
    when translate({{ norm(x) }}, '0123456789.', '') = '' and try_cast({{ norm(x) }} as double) between 3000 and 80000
        then date '1899-12-30' + cast(floor(try_cast({{ norm(x) }} as double)) as integer)
    else try_cast(substr(translate({{ norm(x) }}, '/.年月日', '---'), 1, 10) as date)
end
{%- endmacro %}

{#- membership as one string search ('|a|b|c|'): tiny to plan even for long code lists -#}
{% macro in_list(n, list_name) -%}
position('|' || {{ n }} || '|' in '|{{ labels[list_name] | join('|') }}|') > 0
{%- endmacro %}

{#- does cell x parse as a column of this kind? (NULL cells are handled by the caller) -#}
{% macro parses(kind, x) -%}
{%- if kind == 'region_code' -%}
(length({{ norm(x) }}) = 12 and {{ digits_only(norm(x)) }})
{%- elif kind == 'id_number' -%}
(length({{ norm(x) }}) >= 15 and translate(upper({{ norm(x) }}), '0123456789X', '') = '')
{%- elif kind in ('int', 'decimal') -%}
({{ num(x) }} is not null)
{%- elif kind == 'date' -%}
(length({{ x }}) between 4 and 19 and translate({{ x }}, '0123456789-/.:年月日', '') = '')
{%- elif kind == 'yes_no' -%}
({{ in_list(norm(x), 'yes_no') }})
{%- elif kind.startswith('code:') -%}
({{ in_list(norm(x), kind[5:]) }})
{%- else -%}
true
{%- endif -%}
{%- endmacro %}

{#- GB 11643 check character of an 18-character ID (false for anything else) -#}
{% macro gb11643_ok(x) -%}
case
    when length({{ x }}) = 18 and translate(substr({{ x }}, 1, 17), '0123456789', '') = ''
        then substr('10X98765432', 1 + (
            {%- for w in weights %}{{ w }} * try_cast(substr({{ x }}, {{ loop.index }}, 1) as integer){% if not loop.last %} + {% endif %}{% endfor -%}
        ) % 11, 1) = upper(substr({{ x }}, 18, 1))
    else false
end
{%- endmacro %}

{#- how a text-only cell (ID, 户编号, phone) shows it went through a number, or NULL: stored as a
    number by the file format (numeric_at lists the row's positions), scientific notation, or a
    decimal part. Only the shape is described, never the digits (it is personal data). -#}
{% macro number_shape(x, pos) -%}
case
    when {{ x }} is not null and position(',{{ pos }},' in coalesce(numeric_at, '')) > 0
        then 'a number cell, not text (' || cast(length(regexp_replace({{ x }}, '[^0-9]', '', 'g')) as varchar) || ' digits shown)'
    when regexp_full_match({{ x }}, '[0-9]+([.][0-9]*)?[eE][+]?[0-9]+')
        then 'scientific notation (' || cast(length(regexp_replace(split_part(lower({{ x }}), 'e', 1), '[^0-9]', '', 'g')) as varchar) || ' significant digits)'
    when regexp_full_match({{ x }}, '[0-9]+[.][0-9]+')
        then 'a number with a decimal part'
end
{%- endmacro %}

{#- typed kinds that tell a displaced row apart -#}
{% macro is_typed(kind) -%}
{{ kind in ('region_code', 'id_number', 'int', 'decimal', 'date', 'yes_no') or kind.startswith('code:') }}
{%- endmacro %}

{#- first 20 hex characters of HMAC-SHA256(key, prefix || value): pseudonymous keys (pipelines/keys.py).
    RFC 2104 over sha256 with the run's padded keys (K' xor ipad, K' xor opad) as constant blobs;
    the message is the UTF-8 bytes of the text (Spark: sha2(concat(opad, unhex(sha2(concat(ipad,
    encode(m, 'UTF-8')), 256))), 256)). -#}
{% macro pseudonym(prefix, value) -%}
substr(sha256((select key_opad from ingest_params) || unhex(sha256((select key_ipad from ingest_params) || encode('{{ prefix }}' || {{ value }})))), 1, 20)
{%- endmacro %}

{#- quarantine_cell(name, kind, x): the text a quarantined row keeps of cell x of column `name`,
    NULL when its content does not have the column's shape or could be personal data. Codes and
    yes/no: a label of the code list; numbers: parse, at most quarantine.max_digits digits; dates:
    the year only; region codes: 12 digits; free text: a county (county_name) or township
    (township_name) of config/regions, elsewhere a place name with a configured suffix (村委会);
    anything else (and ID numbers) never. -#}
{% macro quarantine_cell(name, kind, x) -%}
{%- if kind == 'region_code' -%}
case when length({{ x }}) = 12 and {{ digits_only(x) }} then {{ x }} end
{%- elif kind in ('int', 'decimal') -%}
case when {{ num(x) }} is not null
    and length({{ x }}) - length(translate({{ x }}, '0123456789', '')) <= {{ quarantine.max_digits }} then {{ x }} end
{%- elif kind == 'date' -%}
case when length({{ x }}) - length(translate({{ x }}, '0123456789', '')) <= 8
    then cast(extract(year from {{ to_date(x) }}) as varchar) end
{%- elif kind == 'yes_no' -%}
case when {{ in_list(x, 'yes_no') }} then {{ x }} end
{%- elif kind.startswith('code:') -%}
case when {{ in_list(x, kind[5:]) }} then {{ x }} end
{%- elif kind.startswith('codes:') -%}
{%- set list_name = kind.split(':')[1] %}
{%- set tokens = "',' || translate(" ~ x ~ ", '、;', ',,') || ','" %}
case when translate({% for label in all_multi_labels[list_name] %}replace({% endfor %}{{ tokens }}{% for label in all_multi_labels[list_name] %}, ',{{ label }},', ','){% endfor %}, ',', '') = '' then {{ x }} end
{%- elif kind == 'text' and name == 'county_name' -%}
case when {{ x }} in (select name from ref_counties) then {{ x }} end
{%- elif kind == 'text' and name == 'township_name' -%}
case when {{ x }} in (select name from ref_townships) then {{ x }} end
{%- elif kind == 'text' -%}
case when false
    {%- for suffix in quarantine.place_suffixes %}
    or ({{ x }} like '%{{ suffix }}' and length({{ x }}) > {{ suffix | length }})
    {%- endfor %} then {{ x }} end
{%- else -%}
cast(null as varchar)
{%- endif -%}
{%- endmacro %}

{#- ---- staging helpers: one typed column per canonical column (stg_*.sql) ---- -#}

{#- list name of a code/yes_no column -#}
{% macro list_of(c) -%}
{{ 'yes_no' if c.kind == 'yes_no' else c.kind.split(':')[1] }}
{%- endmacro %}

{% macro label_joins(cols, r) -%}
{%- for c in cols if c.kind == 'yes_no' or c.kind.startswith('code:') %}
left join code_labels as l_{{ c.name }}
    on l_{{ c.name }}.list_name = '{{ list_of(c) }}' and l_{{ c.name }}.label = {{ norm(r ~ '.' ~ c.name) }}
{%- endfor %}
left join tick_columns as t on t.file_id = {{ r }}.file_id
{%- endmacro %}

{#- per file: yes/no columns holding a √ somewhere (there a blank cell means 否) -#}
{% macro tick_columns(cols, source) -%}
select
    file_id{% for c in cols if c.kind == 'yes_no' %},
    max(case when {{ norm(c.name) }} = '√' then 1 else 0 end) as {{ c.name }}_has_tick
    {%- endfor %}
from {{ source }}
group by file_id
{%- endmacro %}

{# the provenance columns every staged row carries (file, sheet, row, and the raw-layer flags) #}
{% macro provenance(r) -%}
        {{ r }}.period,
        {{ r }}.source_kind,
        {{ r }}.source_file,
        {{ r }}.file_id,
        {{ r }}.file_order,
        {{ r }}.sheet,
        {{ r }}.source_row,
        {{ r }}.is_blank_row,
        {{ r }}.is_shifted,
        {{ r }}.shift_fails,
        {{ r }}.damaged_column,
        {{ r }}.damaged_detail,
{%- endmacro %}

{% macro typed_columns(cols, r) -%}
{%- for c in cols if not c.pii %}
    {%- if c.kind == 'text' %}
    nullif(trim({{ r }}.{{ c.name }}), '') as {{ c.name }},
    {%- elif c.kind == 'region_code' %}
    {{ norm(r ~ '.' ~ c.name) }} as {{ c.name }},
    {%- elif c.kind == 'int' %}
    -- a whole number in range (try_cast: 13900003416 under 人数 is no household size, not a crash)
    case when {{ num(r ~ '.' ~ c.name) }} = floor({{ num(r ~ '.' ~ c.name) }})
        then try_cast({{ num(r ~ '.' ~ c.name) }} as integer) end as {{ c.name }},
    {{ r }}.{{ c.name }} as {{ c.name }}__raw,
    {%- elif c.kind == 'decimal' %}
    {{ num(r ~ '.' ~ c.name) }} as {{ c.name }},
    {{ r }}.{{ c.name }} as {{ c.name }}__raw,
    {%- elif c.kind == 'date' %}
    {{ to_date(r ~ '.' ~ c.name) }} as {{ c.name }},
    {%- elif c.kind.startswith('code:') %}
    l_{{ c.name }}.code as {{ c.name }},
    {{ r }}.{{ c.name }} as {{ c.name }}__raw,
    {%- elif c.kind == 'yes_no' %}
    case
        when l_{{ c.name }}.code = 'true' then true
        when l_{{ c.name }}.code = 'false' then false
        when {{ norm(r ~ '.' ~ c.name) }} is null and t.{{ c.name }}_has_tick = 1 then false
    end as {{ c.name }},
    {{ r }}.{{ c.name }} as {{ c.name }}__raw,
    {%- elif c.kind.startswith('codes:') %}
    {%- set list_name = c.kind.split(':')[1] %}
    {%- set tokens = "',' || translate(" ~ norm(r ~ '.' ~ c.name) ~ ", '、;', ',,') || ','" %}
    {%- for code, code_labels in multi_labels[list_name].items() %}
    ({% for label in code_labels %}position(',{{ label }},' in {{ tokens }}) > 0{% if not loop.last %} or {% endif %}{% endfor %}) as {{ c.name }}_{{ code }},
    {%- endfor %}
    -- what is left after removing every known label: non-empty means an unknown label
    nullif(translate({% for label in all_multi_labels[list_name] %}replace({% endfor %}{{ tokens }}{% for label in all_multi_labels[list_name] %}, ',{{ label }},', ','){% endfor %}, ',', ''), '') as {{ c.name }}__unknown,
    {{ r }}.{{ c.name }} as {{ c.name }}__raw,
    {%- endif %}
{%- endfor %}
{%- endmacro %}

{#- ---- findings helpers ---- -#}

{#- one finding per loaded row: reason, canonical column, detail, raw value (never PII) -#}
{% macro finding(reason, column, detail, raw_value, rows, where, person_key='person_key') -%}
select
    period, source_kind, source_file, file_id, sheet, source_row,
    '{{ reason }}' as reason,
    {{ "'" ~ column ~ "'" if column else 'cast(null as varchar)' }} as column_key,
    {{ detail }} as detail,
    {{ not_a_number_of_a_person('cast(' ~ raw_value ~ ' as varchar)') }} as raw_value,
    household_key,
    {{ person_key }} as person_key
from {{ rows }}
where {{ where }}
{%- endmacro %}

{#- x, or NULL when it holds more than quarantine.max_digits digits: a finding never shows an ID,
    phone, 户编号 or 人编号 that a displaced cell put under another column (found by tests/fuzz) -#}
{% macro not_a_number_of_a_person(x) -%}
case when length({{ x }}) - length(translate({{ x }}, '0123456789', '')) <= {{ quarantine.max_digits }} then {{ x }} end
{%- endmacro %}

{#- unknown_code_label for every code / yes-no / multi-code column of a source -#}
{% macro unknown_label_findings(cols, rows, person_key='person_key') -%}
{%- for c in cols if not c.pii and (c.kind == 'yes_no' or c.kind.startswith('code:') or c.kind.startswith('codes:')) %}
{%- if not loop.first %}
union all
{% endif %}
{%- if c.kind.startswith('codes:') %}
{{ finding('unknown_code_label', c.name, "'label not in code list " ~ c.kind[6:] ~ "' || coalesce(': ' || " ~ not_a_number_of_a_person(c.name ~ '__unknown') ~ ", '')", c.name ~ '__raw', rows, c.name ~ '__unknown is not null', person_key) }}
{%- else %}
{{ finding('unknown_code_label', c.name, "'label not in code list " ~ list_of(c) ~ "'", c.name ~ '__raw', rows, norm(c.name ~ '__raw') ~ ' is not null and ' ~ c.name ~ ' is null', person_key) }}
{%- endif %}
{%- endfor %}
{%- endmacro %}
