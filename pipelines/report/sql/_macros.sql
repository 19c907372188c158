{#- jinja macros of the report models. They emit identifiers (column names, the region level) and
    the SQL expressions the model author writes; values (labels, codes) come from the parameter
    tables passed in as relations. -#}

{#- The one "by region with totals" shape every by-region table of the report has: the rows of
    `source` counted per region of `level` (county | township) and per `group` column, plus one
    totals row per group (is_total = 1, region code null) computed from the same rows (GROUPING
    SETS, so a total is never a sum of rounded or suppressed cells), the region's name from `names`
    (region_names) and the totals label from `settings` (param_report.total_label).

      aggregates  {column: aggregate expression over the source rows}
      derived     {column: expression over the aggregated columns (ratios, differences)}
      grid        optional relation of {level}_code values: every one of them gets a row, the
                  aggregates listed in `fill_zero` read 0 where the source has no row
    Output: is_total, {level}_code, {level}_name, group..., aggregates..., derived... (unordered). -#}
{% macro by_region(source, names, settings, aggregates, level='county', group=[], derived={}, grid=none, fill_zero=[]) -%}
{%- set code = level ~ '_code' -%}
select
    t.is_total,
    t.{{ code }},
    case when t.is_total = 1 then st.total_label else coalesce(rn.name, t.{{ code }}) end as {{ level }}_name
    {%- for g in group %},
    t.{{ g }}
    {%- endfor %}
    {%- for name in aggregates %},
    {% if name in fill_zero %}coalesce(t.{{ name }}, 0){% else %}t.{{ name }}{% endif %} as {{ name }}
    {%- endfor %}
    {%- for name, expr in derived.items() %},
    {{ expr }} as {{ name }}
    {%- endfor %}
from (
    select
        case when grouping(s.{{ code }}) = 1 then 1 else 0 end as is_total,
        s.{{ code }}
        {%- for g in group %},
        s.{{ g }}
        {%- endfor %}
        {%- for name, expr in aggregates.items() %},
        {{ expr }} as {{ name }}
        {%- endfor %}
    from {{ source }} as s
    group by grouping sets (({{ ([code] + group) | join(', ') }}), ({{ group | join(', ') }}))
    {%- if grid is not none %}
    union all
    select 0, g.{{ code }}{% for g2 in group %}, null{% endfor %}{% for name in aggregates %}, null{% endfor %}
    from (select distinct {{ code }} from {{ grid }}) as g
    where g.{{ code }} not in (select s2.{{ code }} from {{ source }} as s2 where s2.{{ code }} is not null)
    {%- endif %}
) as t
left join {{ names }} as rn on rn.level = '{{ level }}' and rn.code = t.{{ code }}
cross join {{ settings }} as st
{%- endmacro %}
