{#- shared jinja macros: render config clauses (risk.toml) as sql booleans. codes are validated
    as [a-z0-9_]+ in python before rendering; labels go through the sqlstr filter. -#}
{% macro in_list(col, values) -%}
{{ col }} in ({% for v in values %}'{{ v }}'{% if not loop.last %}, {% endif %}{% endfor %})
{%- endmacro %}

{% macro any_signal(codes) -%}
{% if codes %}({% for c in codes %}sig_{{ c }}{% if not loop.last %} or {% endif %}{% endfor %}){% else %}false{% endif %}
{%- endmacro %}

{% macro clause(c) -%}
({% for key, value in c.items() -%}
{% if key == 'poverty_status_in' %}coalesce({{ in_list('poverty_status', value) }}, false)
{%- elif key == 'household_type_in' %}coalesce({{ in_list('household_type', value) }}, false)
{%- elif key == 'category_in' %}(coalesce({{ in_list('monitoring_category', value) }}, false) or coalesce({{ in_list('proposed_category', value) }}, false))
{%- elif key == 'signals_any' %}{{ any_signal(value) }}
{%- elif key == 'below_line' %}coalesce(income_per_capita < line_{{ value }}, false)
{%- elif key == 'level_in' %}{{ in_list('risk_level', value) }}
{%- elif key == 'monitored' %}{% if value %}monitored{% else %}not monitored{% endif %}
{%- endif %}{% if not loop.last %} and {% endif %}
{%- endfor %})
{%- endmacro %}

{% macro any_clause(clauses) -%}
({% for c in clauses %}{{ clause(c) }}{% if not loop.last %} or {% endif %}{% endfor %})
{%- endmacro %}
