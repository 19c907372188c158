{#- Macros of the rectification tracker's ingest models (stg_tasks, stg_instructions).

    task_date(x, year): a date as offices write one in a task list, or NULL when the cell is none:
      2020年4月30日 / 2020.4.30 / 2020-04-30 / 2020/4/30 (a trailing 前 and a 00:00:00 time allowed),
      20200430, an Excel serial (3000-80000), 2020年4月 / 2020年4月底 (the month's last day),
      4月底 / 4月 / 4月30日 (no year: `year`, the list's year). Portable: regexp_extract, try_cast.
    task_text(x): cleaned text; a cell Excel stored as a whole number (1.0) loses its `.0`.
    masked(x): the text with every run of digits that could be an ID number, phone or 户编号
      replaced (param_task_masking, under the alias `mk`). -#}

{% macro _ymd(y, m, d) -%}
try_cast({{ y }} || '-' || {{ m }} || '-' || {{ d }} as date)
{%- endmacro %}

{% macro task_date(x, year) -%}
{%- set s = "regexp_replace(regexp_replace(" ~ x ~ ", '[ T]?00:00:00(\\.0+)?$', ''), '(之前|以前|前)$', '')" -%}
case
    when {{ x }} is null then null
    when regexp_matches({{ s }}, '^[0-9]{4}[年./-][0-9]{1,2}[月./-][0-9]{1,2}日?$')
        then {{ _ymd("regexp_extract(" ~ s ~ ", '^([0-9]{4})', 1)",
                     "regexp_extract(" ~ s ~ ", '^[0-9]{4}[年./-]([0-9]{1,2})', 1)",
                     "regexp_extract(" ~ s ~ ", '([0-9]{1,2})日?$', 1)") }}
    when regexp_matches({{ s }}, '^[0-9]{8}$')
        then {{ _ymd("substr(" ~ s ~ ", 1, 4)", "substr(" ~ s ~ ", 5, 2)", "substr(" ~ s ~ ", 7, 2)") }}
    when regexp_matches({{ s }}, '^[0-9]{4,5}(\.[0-9]+)?$') and try_cast({{ s }} as double) between 3000 and 80000
        then date '1899-12-30' + cast(floor(try_cast({{ s }} as double)) as integer)
    when regexp_matches({{ s }}, '^[0-9]{4}[年./-][0-9]{1,2}月?(底|末)?$')
        then last_day({{ _ymd("regexp_extract(" ~ s ~ ", '^([0-9]{4})', 1)",
                              "regexp_extract(" ~ s ~ ", '^[0-9]{4}[年./-]([0-9]{1,2})', 1)", "'01'") }})
    when regexp_matches({{ s }}, '^[0-9]{1,2}月(底|末)?$')
        then last_day({{ _ymd("cast(" ~ year ~ " as varchar)", "regexp_extract(" ~ s ~ ", '^([0-9]{1,2})', 1)", "'01'") }})
    when regexp_matches({{ s }}, '^[0-9]{1,2}月[0-9]{1,2}日?$')
        then {{ _ymd("cast(" ~ year ~ " as varchar)", "regexp_extract(" ~ s ~ ", '^([0-9]{1,2})', 1)",
                     "regexp_extract(" ~ s ~ ", '月([0-9]{1,2})', 1)") }}
end
{%- endmacro %}

{% macro task_text(x) -%}
case when regexp_matches({{ x }}, '^[0-9]+\.0+$') then regexp_extract({{ x }}, '^([0-9]+)', 1) else nullif(trim({{ x }}), '') end
{%- endmacro %}

{% macro masked(x) -%}
regexp_replace({{ x }}, mk.pattern, mk.mask_text, 'g')
{%- endmacro %}
