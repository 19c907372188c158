-- raw_file: rows of raw files (or sheets) of one header layout -> rows of raw_<source>: cells
-- renamed to canonical columns, still text. Input: src_file(c0 … c<n-1> cleaned text, source_row,
-- file_id), cleaned by raw_cells.sql. Rendered per header layout by the loader (mapped, typed,
-- text_only, ncols): column positions (and so the neighbours used by the column-shift test) are
-- per layout.
-- Spreadsheet damage: a text-only column (IDs, 户编号, phones; header_aliases text_only) whose cell
-- was stored as a number or is shaped like one has lost digits or leading zeros; so has an
-- 18-digit ID ending in 000 (Excel keeps 15 significant digits) that fails its check digit, or
-- that passes it in a column of a file (sheet) whose text shows damage in another cell (a number
-- cell beside it shows only itself damaged: xlsx keeps each cell's type). A real ID ends in 000
-- about once in 1 100: alone in a clean column it is loaded. An 18-digit ID that a float holds
-- exactly (a reader wrote out the double a spreadsheet kept: 140502198001010016, a multiple of
-- the float's step of 16-128 there) is damaged when most IDs of its column in the file are such
-- multiples ([ingest] float_column_share: the column went through a float). In a clean column
-- only one real ID in 16-128 is one (a typo'd one too): it is loaded, with its findings.
{% import '_macros.sql' as m with context %}
{#- per text-only cell c (a mapped column: name, pos): stored as a number (xlsx type); an ID of 18
    digits ending in 000 (its digits tested last: translate is the costly test and few IDs end in
    000); one a float holds exactly -#}
{% macro number_cell(c) -%}
coalesce(position(',{{ c.pos }},' in coalesce(numeric_at, '')) > 0, false)
{%- endmacro %}
{% macro zero_tail(c) -%}
(length(c{{ c.pos }}) = 18 and c{{ c.pos }} like '%000' and {{ m.digits_only('c' ~ c.pos) }})
{%- endmacro %}
{% macro float_exact(c) -%}
(length(c{{ c.pos }}) = 18 and {{ m.digits_only('c' ~ c.pos) }}
            and try_cast(try_cast(c{{ c.pos }} as double) as decimal(18, 0)) = try_cast(c{{ c.pos }} as decimal(18, 0)))
{%- endmacro %}
with

settings as (
    select * from {{ ref('param_ingest') }}
),

cells as (
    select * from {{ ref('src_file') }}
),

failing as (
    -- per typed cell: filled but does not parse as its column's kind (evaluated once, read by
    -- each of the three shift sums below)
    select
        cells.*{% for c in typed %},
        ({{ m.norm('c' ~ c.pos) }} is not null and not {{ m.parses(c.kind, 'c' ~ c.pos) }}) as fails_{{ c.pos }}
        {%- endfor %}
    from cells
    cross join {{ ref('param_label_lists') }} as ll
),

flagged as (
    select
        failing.*,
        ({% for c in typed %}fails_{{ c.pos }}{% if not loop.last %} or {% endif %}{% else %}false{% endfor %}) as any_fails
    from failing
),

checked as (
    select
        file_id,
        source_row,
        -- canonical columns (text as written)
        {%- for c in mapped %}
        c{{ c.pos }} as {{ c.name }},
        {%- endfor %}
        -- text-only columns: how a cell shows it went through a number
        {%- for c in text_only %}
        {{ m.number_shape('c' ~ c.pos, c.pos) }} as shape_{{ c.name }},
        {{ number_cell(c) }} as number_cell_{{ c.name }},
        {%- if c.kind == 'id_number' %}
        {{ zero_tail(c) }} as zero_tail_{{ c.name }},
        {{ float_exact(c) }} as float_exact_{{ c.name }},
        -- the check digit is read only where it is used: on IDs ending in 000 (rare)
        case when {{ zero_tail(c) }} then {{ m.gb11643_ok('c' ~ c.pos) }} else false end as check_ok_{{ c.name }},
        {%- endif %}
        {%- endfor %}
        -- blank row: every cell of the row empty
        ({% for i in range(ncols) %}{{ m.norm('c' ~ i) }} is null{% if not loop.last %} and {% endif %}{% endfor %}) as is_blank_row,
        -- column shift: typed cells that fail in place …
        (0{% for c in typed %} + case when fails_{{ c.pos }} then 1 else 0 end{% endfor %}) as shift_fails,
        -- … and parse when read one cell to the right / left
        -- (only on rows with a failing cell: every term needs one, so elsewhere both are 0)
        case when not any_fails then 0 else (0{% for c in typed if c.pos + 1 < ncols %} + case when fails_{{ c.pos }} and {{ m.norm('c' ~ (c.pos + 1)) }} is not null and {{ m.parses(c.kind, 'c' ~ (c.pos + 1)) }} then 1 else 0 end{% endfor %}) end as shift_fixed_right,
        case when not any_fails then 0 else (0{% for c in typed if c.pos > 0 %} + case when fails_{{ c.pos }} and {{ m.norm('c' ~ (c.pos - 1)) }} is not null and {{ m.parses(c.kind, 'c' ~ (c.pos - 1)) }} then 1 else 0 end{% endfor %}) end as shift_fixed_left
    from flagged
    cross join {{ ref('param_label_lists') }} as ll
    cross join {{ ref('param_gb11643') }} as gb
),

file_damage as (
    -- per file: does an ID column show spreadsheet damage anywhere? Read from the ID cells alone
    -- (a narrow aggregate joined back, not a window over the wide rows)
    select
        file_id
        {%- for c in text_only if c.kind == 'id_number' %},
        -- a number cell (xlsx type, numeric column) shows only itself damaged: the text cells
        -- beside it were typed as text; damage shown in text (a shape, a bad check digit) is the column's
        max(case when not {{ number_cell(c) }} and ({{ m.number_shape('c' ~ c.pos, c.pos) }} is not null
                or case when {{ zero_tail(c) }} then not {{ m.gb11643_ok('c' ~ c.pos) }} else false end)
            then 1 else 0 end) = 1 as file_damaged_{{ c.name }},
        avg(case when {{ float_exact(c) }} then 1.0 when {{ m.norm('c' ~ c.pos) }} is not null then 0.0 end)
            > (select float_column_share from settings) as float_column_{{ c.name }}
        {%- endfor %}
    from cells
    cross join {{ ref('param_gb11643') }} as gb
    group by file_id
),

damage_in_file as (
    select
        checked.*
        {%- for c in text_only if c.kind == 'id_number' %},
        fd.file_damaged_{{ c.name }},
        fd.float_column_{{ c.name }}
        {%- endfor %}
    from checked
    inner join file_damage as fd on fd.file_id = checked.file_id
),

final as (
    select
        file_id,
        source_row,
        {%- for c in mapped %}
        {{ c.name }},
        {%- endfor %}
        is_blank_row,
        shift_fails,
        shift_fixed_right,
        shift_fixed_left,
        (shift_fails >= 2 and greatest(shift_fixed_right, shift_fixed_left) >= 2
            and 2 * greatest(shift_fixed_right, shift_fixed_left) >= shift_fails) as is_shifted,
        -- the first text-only column whose cell a spreadsheet damaged, and how (no digits)
        {%- if not text_only %}
        cast(null as varchar) as damaged_column,
        cast(null as varchar) as damaged_detail
        {%- else %}
        case
            {%- for c in text_only %}
            when shape_{{ c.name }} is not null then '{{ c.name }}'
            {%- if c.kind == 'id_number' %}
            when zero_tail_{{ c.name }} and (not check_ok_{{ c.name }} or file_damaged_{{ c.name }}) then '{{ c.name }}'
            when float_exact_{{ c.name }} and float_column_{{ c.name }} then '{{ c.name }}'
            {%- endif %}
            {%- endfor %}
        end as damaged_column,
        case
            {%- for c in text_only %}
            when shape_{{ c.name }} is not null then shape_{{ c.name }}
            {%- if c.kind == 'id_number' %}
            when zero_tail_{{ c.name }} and not check_ok_{{ c.name }}
                then '18 digits ending in 000 that fail the check digit (a spreadsheet keeps 15 significant digits)'
            when zero_tail_{{ c.name }} and file_damaged_{{ c.name }}
                then '18 digits ending in 000, in a column the spreadsheet damaged elsewhere in this file'
            when float_exact_{{ c.name }} and float_column_{{ c.name }}
                then '18 digits a float holds exactly, in a column whose IDs mostly are such (it went through a float)'
            {%- endif %}
            {%- endfor %}
        end || '; re-export the column as text' as damaged_detail
        {%- endif %}
    from damage_in_file
)

select * from final
