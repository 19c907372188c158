-- One raw file (or sheet) -> rows of raw_<source>: cells renamed to canonical columns, still text.
-- Input: src_file(c0 … c<n-1> cleaned text, source_row, file_id), cleaned by raw_cells.sql.
-- Rendered per header layout: column positions (and so the neighbours used by the
-- column-shift test) are per layout.
{% import '_macros.sql' as m with context %}
with

cells as (
    select * from src_file
),

checked as (
    select
        file_id,
        source_row,
        -- canonical columns (text as written)
        {%- for c in mapped %}
        c{{ c.pos }} as {{ c.name }},
        {%- endfor %}
        -- blank row: every cell of the row empty
        ({% for i in range(ncols) %}{{ m.norm('c' ~ i) }} is null{% if not loop.last %} and {% endif %}{% endfor %}) as is_blank_row,
        -- column shift: typed cells that fail in place …
        (0{% for c in typed %} + case when {{ m.norm('c' ~ c.pos) }} is not null and not {{ m.parses(c.kind, 'c' ~ c.pos) }} then 1 else 0 end{% endfor %}) as shift_fails,
        -- … and parse when read one cell to the right / left
        (0{% for c in typed if c.pos + 1 < ncols %} + case when {{ m.norm('c' ~ c.pos) }} is not null and not {{ m.parses(c.kind, 'c' ~ c.pos) }} and {{ m.norm('c' ~ (c.pos + 1)) }} is not null and {{ m.parses(c.kind, 'c' ~ (c.pos + 1)) }} then 1 else 0 end{% endfor %}) as shift_fixed_right,
        (0{% for c in typed if c.pos > 0 %} + case when {{ m.norm('c' ~ c.pos) }} is not null and not {{ m.parses(c.kind, 'c' ~ c.pos) }} and {{ m.norm('c' ~ (c.pos - 1)) }} is not null and {{ m.parses(c.kind, 'c' ~ (c.pos - 1)) }} then 1 else 0 end{% endfor %}) as shift_fixed_left
    from cells
),

final as (
    select
        *,
        (shift_fails >= 2 and greatest(shift_fixed_right, shift_fixed_left) >= 2
            and 2 * greatest(shift_fixed_right, shift_fixed_left) >= shift_fails) as is_shifted
    from checked
)

select * from final
