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

{#- Where each region of `level` stands: remaining poor households (risk) and persons and
    administrative incidence (measures: the region's row, the city row for the total), households
    below the guideline (risk), open and overdue 两不愁三保障 / 饮水 problems (problems), households
    whose 帮扶责任人 is not in place (assistance_coverage); ranked by incidence, then poor
    households (1 = lags most). Relations are passed in so the model names its inputs. -#}
{% macro ranking(level, params, risk, problems, ledger, coverage, measures, report, names) -%}
{%- set code = level ~ '_code' -%}
poor_statuses as (
    select code from {{ report.poor_statuses }}
),

problem_households as (
    select
        pr.household_key,
        max(case when pr.status <> lg.status_cleared then 1 else 0 end) as open_problem,
        max(case when pr.status <> lg.status_cleared and cast(pr.deadline as date) < p.period_end
                 then 1 else 0 end) as overdue_problem
    from {{ problems }} as pr
    cross join {{ params }} as p
    cross join {{ ledger }} as lg
    where pr.period = p.period
    group by pr.household_key
),

units as (
    select
        r.{{ code }},
        case when r.poverty_status in (select code from poor_statuses) then 1 else 0 end as poor,
        case when r.below_guideline then 1 else 0 end as below,
        coalesce(ph.open_problem, 0) as open_problem,
        coalesce(ph.overdue_problem, 0) as overdue_problem,
        0 as not_covered
    from {{ risk }} as r
    cross join {{ params }} as p
    left join problem_households as ph on ph.household_key = r.household_key
    where r.period = p.period
    union all
    select a.{{ code }}, 0, 0, 0, 0, a.households_needing_assistance - a.households_covered
    from {{ coverage }} as a
    cross join {{ params }} as p
    where a.period = p.period
),

counted as (
    {{ by_region('units', names, report.settings, level=level, aggregates={
        'poor_households': 'sum(s.poor)',
        'below_guideline': 'sum(s.below)',
        'open_problems': 'sum(s.open_problem)',
        'overdue_problems': 'sum(s.overdue_problem)',
        'not_covered': 'sum(s.not_covered)'}) }}
),

admin as (
    select
        m.region_level,
        m.region_code,
        max(case when m.measure = 'poor_persons_administrative' then m.estimate end) as poor_persons,
        max(case when m.measure = 'incidence_administrative' then m.estimate end) as incidence
    from {{ measures }} as m
    cross join {{ params }} as p
    where m.period = p.period
      and m.region_level in ('{{ level }}', 'city')
      and m.measure in ('poor_persons_administrative', 'incidence_administrative')
    group by m.region_level, m.region_code
),

final as (
    select
        c.is_total,
        case when c.is_total = 0 then rank() over (
            partition by c.is_total
            order by a.incidence desc nulls last, c.poor_households desc, c.{{ code }}) end as lag_rank,
        c.{{ code }},
        {%- if level == 'township' %}
        case when c.is_total = 1 then null else coalesce(cn.name, substr(c.{{ code }}, 1, 6)) end as county_name,
        {%- endif %}
        c.{{ level }}_name,
        c.poor_households,
        cast(a.poor_persons as bigint) as poor_persons,
        a.incidence,
        c.below_guideline,
        c.open_problems,
        c.overdue_problems,
        c.not_covered
    from counted as c
    left join admin as a
        on (c.is_total = 1 and a.region_level = 'city')
        or (c.is_total = 0 and a.region_level = '{{ level }}' and a.region_code = c.{{ code }})
    {%- if level == 'township' %}
    left join {{ names }} as cn on cn.level = 'county' and cn.code = substr(c.{{ code }}, 1, 6)
    {%- endif %}
)
{%- endmacro %}
