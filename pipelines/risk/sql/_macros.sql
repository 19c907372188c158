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

{#- a household's ids, status and monitoring category, from households aliased `h` (both household
    bases: household_base below, int_household_base_prev) -#}
{% macro household_ids_status(h) -%}
        -- ids
        {{ h }}.household_key,
        {{ h }}.county_code,
        {{ h }}.township_code,
        {{ h }}.village_code,
        -- status and income, yuan per person per year
        coalesce({{ h }}.poverty_status, 'not_registered') as status,
        {{ h }}.monitoring_category
{%- endmacro %}

{#- income per capita of households aliased `h`: the first non-null configured column (income_columns) -#}
{% macro income_per_capita(h) -%}
coalesce({% for c in income_columns %}{{ h }}.{{ c }}{% if not loop.last %}, {% endif %}{% endfor %})
{%- endmacro %}

{#- the household base of one snapshot (int_household_base): `households`, `persons`, `codes` are
    relation names (ref() of the calling model); needs the stage context (income_columns,
    illness_disability_columns) -#}
{% macro household_base(households, persons, codes) -%}
with

member_facts as (
    select
        household_key,
        count(*) as members,
        cast(sum(case when labour_skill in (select code from {{ codes }} where list_name = 'labour_capable')
                      then 1 else 0 end) as bigint) as capable_members,
        cast(sum(case when migrant_status in (select code from {{ codes }} where list_name = 'migrant_statuses')
                      then 1 else 0 end) as bigint) as migrant_members,
        cast(sum(case when {% for c in illness_disability_columns %}coalesce({{ c }}, false){% if not loop.last %} or {% endif %}{% endfor %}
                      then 1 else 0 end) as bigint) as ill_or_disabled_members
    from {{ persons }}
    group by household_key
),

final as (
    select
        {{ household_ids_status('h') }},
        h.main_cause,
        h.return_cause,
        {{ income_per_capita('h') }} as income_per_capita,
        -- members
        h.member_count,
        h.household_size,
        mf.members,
        mf.capable_members,
        mf.migrant_members,
        mf.ill_or_disabled_members
    from {{ households }} as h
    left join member_facts as mf on mf.household_key = h.household_key
)

select * from final
{%- endmacro %}
