-- raw_cells: the cells of one header layout, cleaned once: full-width ASCII -> ASCII, white space
-- removed, empty -> NULL (the cell normalisation every later layer relies on). Rendered per layout
-- (ncols cells c0 … c<n-1>) by the loader, which runs it into the temp table src_file.
{% import '_macros.sql' as m with context %}
with

cells as (
    select * from {{ ref('src_union') }}
),

final as (
    select
        file_id,
        source_row,
        numeric_at{% for i in range(ncols) %},
        {{ m.clean('c' ~ i) }} as c{{ i }}
        {%- endfor %}
    from cells
    cross join {{ ref('param_fullwidth') }} as fw
)

select * from final
