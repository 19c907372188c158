-- Cells of one header layout, cleaned once: full-width ASCII -> ASCII, white space removed,
-- empty -> NULL (the cell normalisation every later layer relies on).
{% import '_macros.sql' as m with context %}
with

cells as (
    select * from src_union
),

final as (
    select
        file_id,
        source_row,
        numeric_at{% for i in range(ncols) %},
        {{ m.clean('c' ~ i) }} as c{{ i }}
        {%- endfor %}
    from cells
)

select * from final
