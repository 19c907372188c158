{#- jinja macros of the risk models: they emit identifiers only (sig_<code> columns, line_<role>
    columns, clause ids), which pipelines/policy has checked are plain codes. Code lists come from
    the parameter tables: a model using `clause` defines the CTEs `clause_codes`
    (param_risk_clauses) and `status_groups` (param_status_groups). -#}

{% macro any_signal(codes) -%}
{% if codes %}({% for c in codes %}sig_{{ c }}{% if not loop.last %} or {% endif %}{% endfor %}){% else %}false{% endif %}
{%- endmacro %}

{% macro clause_codes(clause_id, key) -%}
(select code from clause_codes where clause_id = '{{ clause_id }}' and clause_key = '{{ key }}')
{%- endmacro %}

{#- one condition of config/risk.toml (a watch group's `when` entry, a requirement's `applies_to`):
    every key given must hold -#}
{% macro clause(c) -%}
({% for key, value in c.conditions -%}
{% if key == 'status_group_in' %}coalesce(poverty_status in (select g.code from status_groups as g where g.group_name in {{ clause_codes(c.id, key) }}), false)
{%- elif key == 'poverty_status_in' %}coalesce(poverty_status in {{ clause_codes(c.id, key) }}, false)
{%- elif key == 'household_type_in' %}coalesce(household_type in {{ clause_codes(c.id, key) }}, false)
{%- elif key == 'category_in' %}(coalesce(monitoring_category in {{ clause_codes(c.id, key) }}, false) or coalesce(proposed_category in {{ clause_codes(c.id, key) }}, false))
{%- elif key == 'signals_any' %}{{ any_signal(value) }}
{%- elif key == 'below_line' %}coalesce(income_per_capita < line_{{ value }}, false)
{%- elif key == 'level_in' %}coalesce(risk_level in {{ clause_codes(c.id, key) }}, false)
{%- elif key == 'monitored' %}{% if value %}monitored{% else %}not monitored{% endif %}
{%- endif %}{% if not loop.last %} and {% endif %}
{%- endfor %})
{%- endmacro %}

{% macro any_clause(clauses) -%}
({% for c in clauses %}{{ clause(c) }}{% if not loop.last %} or {% endif %}{% endfor %})
{%- endmacro %}
