{#- Shared expressions for the ingest SQL (jinja macros, rendered before execution).
    Cell normalisation mirrors headers.normalise: full-width ASCII -> ASCII (the part of NFKC that
    matters in exports), all spaces removed. Portable: translate, replace, substr, try_cast, case.

    Values reach these expressions only as columns of parameter tables (pipelines/params.py), under
    the aliases the calling model gives them:
      fw        param_fullwidth      translate() strings (clean)
      ll        param_label_lists    label lists, one column per code list (in_list, parses, codes)
      gb        param_gb11643        weight_1 … weight_17, check_chars (gb11643_ok)
      settings  param_ingest         a CTE: income_identity_tolerance, quarantine_max_digits
      pseudonym_key  ingest_params   a CTE: the run's HMAC padded keys (pseudonym)
      code_labels    param_code_labels  a CTE: (list_name, label, code) (label_joins)
      tick_columns   the CTE tick_columns() builds per file (label_joins, typed_columns)
    Jinja only writes identifiers here: column names and code-list names the policy checked. -#}

{#- clean(x): run once per cell when a raw file is loaded (raw_cells.sql); translate builds its map
    on every call, at a cost that grows with the map, so it only runs on cells holding a full-width
    character (U+FF01-U+FF5E, the translated range of param_fullwidth) or white space, and with
    only the parts of the map (nodes.fullwidth_parts: fw.from_1 … from_4 / to_1 … to_4) whose
    characters the cell holds: the same text as the whole map (the parts are disjoint and map to
    ASCII). The patterns are written here, not read from a table: a constant pattern is compiled
    once, one from a column once per cell (regexp_matches is DuckDB's spelling of Spark's rlike;
    tests check they find every character of the map). -#}
{% macro clean(x) -%}
nullif(case when regexp_matches({{ x }}, '[\x{FF01}-\x{FF5E}\x{3000}\s]')
    then replace(translate({{ x }}, {{ fullwidth_parts(x, 'from') }}, {{ fullwidth_parts(x, 'to') }}), ' ', '') else {{ x }} end, '')
{%- endmacro %}

{#- the parts of param_fullwidth's map (side: from / to) whose characters cell x holds, in map order -#}
{% macro fullwidth_parts(x, side) -%}
concat(case when regexp_matches({{ x }}, '[\x{3000}\t\n\r]') then fw.{{ side }}_1 else '' end,
        case when regexp_matches({{ x }}, '[\x{FF01}-\x{FF0F}]') then fw.{{ side }}_2 else '' end,
        case when regexp_matches({{ x }}, '[\x{FF10}-\x{FF20}]') then fw.{{ side }}_3 else '' end,
        case when regexp_matches({{ x }}, '[\x{FF21}-\x{FF5E}]') then fw.{{ side }}_4 else '' end)
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
    else try_cast(substr(translate({{ norm(x) }}, '/.年月日', '----'), 1, 10) as date)
end
{%- endmacro %}

{#- is n a label of the code list? (the list is a column of the cross-joined param_label_lists row) -#}
{% macro in_list(n, list_name) -%}
list_contains(ll.{{ list_name }}, {{ n }})
{%- endmacro %}

{#- the tokens of a multi-valued cell ("残疾,长期慢性病"; separators , 、 ; after clean) -#}
{% macro tokens(x) -%}
string_split(translate({{ x }}, '、;', ',,'), ',')
{%- endmacro %}

{#- the tokens of a multi-valued cell that are not labels of the list (empty tokens aside) -#}
{% macro unknown_tokens(x, list_name) -%}
list_filter({{ tokens(x) }}, lambda t: t <> '' and not list_contains(ll.{{ list_name }}, t))
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

{#- GB 11643 (domain.md §8): S = sum(d_i * w_i) over the first 17 digits, check = check_chars[S mod 11];
    true when an 18-character ID's last character (x accepted for X) is its check character, false
    for anything else. Weights and check characters come from param_gb11643 (alias gb), built from
    pipelines/idcard.py WEIGHTS / CHECK_CHARS: the one definition, which Python also uses. -#}
{% macro gb11643_ok(x) -%}
case
    when length({{ x }}) = 18 and translate(substr({{ x }}, 1, 17), '0123456789', '') = ''
        then substr(gb.check_chars, 1 + (
            {%- for i in range(1, gb11643_digits + 1) %}gb.weight_{{ i }} * try_cast(substr({{ x }}, {{ i }}, 1) as integer){% if not loop.last %} + {% endif %}{% endfor -%}
        ) % 11, 1) = upper(substr({{ x }}, 18, 1))
    else false
end
{%- endmacro %}

{#- birth date an ID encodes: YYYYMMDD at 7-14 of 18 characters, YYMMDD (19YY) at 7-12 of 15 -#}
{% macro id_birth_date(x) -%}
case
    when length({{ x }}) = 18
        then try_cast(substr({{ x }}, 7, 4) || '-' || substr({{ x }}, 11, 2) || '-' || substr({{ x }}, 13, 2) as date)
    when length({{ x }}) = 15
        then try_cast('19' || substr({{ x }}, 7, 2) || '-' || substr({{ x }}, 9, 2) || '-' || substr({{ x }}, 11, 2) as date)
end
{%- endmacro %}

{#- sex an ID encodes: the sequence's last digit (17th of 18, 15th of 15), odd = male -#}
{% macro id_sex(x) -%}
case
    when length({{ x }}) = 18 and substr({{ x }}, 17, 1) in ('1', '3', '5', '7', '9') then 'male'
    when length({{ x }}) = 18 and substr({{ x }}, 17, 1) in ('0', '2', '4', '6', '8') then 'female'
    when length({{ x }}) = 15 and substr({{ x }}, 15, 1) in ('1', '3', '5', '7', '9') then 'male'
    when length({{ x }}) = 15 and substr({{ x }}, 15, 1) in ('0', '2', '4', '6', '8') then 'female'
end
{%- endmacro %}

{#- how a text-only cell (ID, 户编号, phone) shows it went through a number, or NULL: stored as a
    number by the file format (numeric_at lists the row's positions), scientific notation, or a
    decimal part. Only the shape is described, never the digits (it is personal data). The
    patterns run only on cells holding an e / E or a point (a LIKE is a fraction of a regular
    expression's cost, and every ID, 户编号 and phone cell of a run comes here twice). -#}
{% macro number_shape(x, pos) -%}
case
    when {{ x }} is not null and position(',{{ pos }},' in coalesce(numeric_at, '')) > 0
        then 'a number cell, not text (' || cast(length(regexp_replace({{ x }}, '[^0-9]', '', 'g')) as varchar) || ' digits shown)'
    when ({{ x }} like '%e%' or {{ x }} like '%E%') and regexp_matches({{ x }}, '^[0-9]+([.][0-9]*)?[eE][+]?[0-9]+$')
        then 'scientific notation (' || cast(length(regexp_replace(split_part(lower({{ x }}), 'e', 1), '[^0-9]', '', 'g')) as varchar) || ' significant digits)'
    when {{ x }} like '%.%' and regexp_matches({{ x }}, '^[0-9]+[.][0-9]+$')
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
substr(sha256((select key_opad from pseudonym_key) || unhex(sha256((select key_ipad from pseudonym_key) || encode('{{ prefix }}' || {{ value }})))), 1, 20)
{%- endmacro %}

{#- quarantine_cell(name, kind, x): the text a quarantined row keeps of cell x of column `name`,
    NULL when its content does not have the column's shape or could be personal data. Codes and
    yes/no: a label of the code list; numbers: parse, at most quarantine.max_digits digits; dates:
    the year only; region codes: 12 digits; free text: `is_place` (quarantine.sql: a county
    (county_name) or township (township_name) of config/regions, elsewhere a place name with a
    configured suffix, 村委会); anything else (and ID numbers) never. -#}
{% macro quarantine_cell(name, kind, x) -%}
{%- if kind == 'region_code' -%}
case when length({{ x }}) = 12 and {{ digits_only(x) }} then {{ x }} end
{%- elif kind in ('int', 'decimal') -%}
case when {{ num(x) }} is not null
    and length({{ x }}) - length(translate({{ x }}, '0123456789', '')) <= (select quarantine_max_digits from settings) then {{ x }} end
{%- elif kind == 'date' -%}
case when length({{ x }}) - length(translate({{ x }}, '0123456789', '')) <= 8
    then cast(extract(year from {{ to_date(x) }}) as varchar) end
{%- elif kind == 'yes_no' -%}
case when {{ in_list(x, 'yes_no') }} then {{ x }} end
{%- elif kind.startswith('code:') -%}
case when {{ in_list(x, kind[5:]) }} then {{ x }} end
{%- elif kind.startswith('codes:') -%}
case when array_length({{ unknown_tokens(x, kind.split(':')[1]) }}) = 0 then {{ x }} end
{%- elif kind == 'text' -%}
case when is_place then {{ x }} end
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

{#- per file: yes/no columns holding a √ somewhere (there a blank cell means 否), and whether the
    file is a tick-box file: some yes/no cell holds a tick mark ([ingest] tick_marks: `marks`, the
    relation param_tick_marks the calling model passes, one row with `marks` and the normalised 否
    labels `false_labels`) and none holds a 否 label; there every blank yes/no cell means 否, a
    column blank in every row included -#}
{% macro tick_columns(cols, source, marks) -%}
select
    s.file_id,
    {%- set yn = cols | selectattr('kind', 'equalto', 'yes_no') | list %}
    {%- if yn %}
    max(case when {% for c in yn %}list_contains(tm.marks, s.{{ c.name }}){% if not loop.last %} or {% endif %}{% endfor %} then 1 else 0 end) = 1
        and max(case when {% for c in yn %}list_contains(tm.false_labels, s.{{ c.name }}){% if not loop.last %} or {% endif %}{% endfor %} then 1 else 0 end) = 0
        as tick_file
    {%- else %}
    false as tick_file
    {%- endif %}
    {%- for c in yn %},
    max(case when {{ norm('s.' ~ c.name) }} = '√' then 1 else 0 end) as {{ c.name }}_has_tick
    {%- endfor %}
from {{ source }} as s
cross join {{ marks }} as tm
group by s.file_id
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

{#- typed_columns(cols, r, places): `places` lists expressions (in order) that fill a row's missing
    village_code: the village a configured 户编号 rule gives, the one its names resolve to -#}
{% macro typed_columns(cols, r, places=none) -%}
{%- for c in cols if not c.pii %}
    {%- if c.kind == 'text' %}
    nullif(trim({{ r }}.{{ c.name }}), '') as {{ c.name }},
    {%- elif c.kind == 'region_code' and places and c.name == 'village_code' %}
    coalesce({{ norm(r ~ '.' ~ c.name) }}, {{ places | join(', ') }}) as {{ c.name }},
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
        when {{ norm(r ~ '.' ~ c.name) }} is null and (t.{{ c.name }}_has_tick = 1 or t.tick_file) then false
    end as {{ c.name }},
    {{ r }}.{{ c.name }} as {{ c.name }}__raw,
    {%- elif c.kind.startswith('codes:') %}
    {%- set list_name = c.kind.split(':')[1] %}
    {%- for code in multi_codes[list_name] %}
    array_length(list_filter({{ tokens(norm(r ~ '.' ~ c.name)) }}, lambda t: list_contains(ll.{{ list_name }}__{{ code }}, t))) > 0 as {{ c.name }}_{{ code }},
    {%- endfor %}
    -- the tokens that are no label of the list, run together: non-empty means an unknown label
    nullif(array_to_string({{ unknown_tokens(norm(r ~ '.' ~ c.name), list_name) }}, ''), '') as {{ c.name }}__unknown,
    {{ r }}.{{ c.name }} as {{ c.name }}__raw,
    {%- endif %}
{%- endfor %}
{%- endmacro %}

{#- ---- findings helpers ---- -#}

{#- one finding per loaded row: reason, canonical column, detail, raw value (never PII) -#}
{#- conds: when a list is given, the finding's condition is appended to it (int_registry_findings
    keeps only the rows any condition holds for before its branches run) -#}
{% macro finding(reason, column, detail, raw_value, rows, where, person_key='person_key', conds=none) -%}
{%- if conds is not none %}{% set _ = conds.append(where) %}{% endif -%}
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
case when length({{ x }}) - length(translate({{ x }}, '0123456789', '')) <= (select quarantine_max_digits from settings) then {{ x }} end
{%- endmacro %}

{#- unknown_code_label for every code / yes-no / multi-code column of a source -#}
{% macro unknown_label_findings(cols, rows, person_key='person_key', conds=none) -%}
{%- for c in cols if not c.pii and (c.kind == 'yes_no' or c.kind.startswith('code:') or c.kind.startswith('codes:')) %}
{%- if not loop.first %}
union all
{% endif %}
{%- if c.kind.startswith('codes:') %}
{{ finding('unknown_code_label', c.name, "'label not in code list " ~ c.kind[6:] ~ "' || coalesce(': ' || " ~ not_a_number_of_a_person(c.name ~ '__unknown') ~ ", '')", c.name ~ '__raw', rows, c.name ~ '__unknown is not null', person_key, conds) }}
{%- else %}
{{ finding('unknown_code_label', c.name, "'label not in code list " ~ list_of(c) ~ "'", c.name ~ '__raw', rows, norm(c.name ~ '__raw') ~ ' is not null and ' ~ c.name ~ ' is null', person_key, conds) }}
{%- endif %}
{%- endfor %}
{%- endmacro %}

{#- ---- places by name (int_place_reference, int_place_names) ---- -#}

{#- name_keys(names): select (level, clean_name, name_key) for every distinct (level, clean_name)
    of the CTE `names`: the name without the longest suffix of its level (the calling model's CTE
    name_suffixes: param_name_suffixes) that leaves at least one character -#}
{% macro name_keys(names) -%}
select
    n.level,
    n.clean_name,
    substr(n.clean_name, 1, length(n.clean_name) - coalesce(max(length(s.suffix)), 0)) as name_key
from (select distinct level, clean_name from {{ names }}) as n
left join name_suffixes as s
    on s.level = n.level
    and length(n.clean_name) > length(s.suffix)
    and right(n.clean_name, length(s.suffix)) = s.suffix
group by n.level, n.clean_name
{%- endmacro %}
