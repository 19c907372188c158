{% import '_macros.sql' as m %}
-- watch_group_counts: households and persons per watch group ("五类人", config/risk.toml) and
-- region, for period {{ period }}. region_level: township | county | city.
-- grain: one row per (region_level, county_code, township_code, watch_group).

with

tagged as (
    {%- for g in watch_groups %}
    select county_code, township_code, '{{ g.code }}' as watch_group, '{{ g.label | sqlstr }}' as watch_group_label,
           {{ loop.index }} as watch_group_order, household_key, persons
    from risk
    where wg_{{ g.code }}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

final as (
    select
        '{{ period }}' as period,
        case
            when grouping(county_code) = 1 then 'city'
            when grouping(township_code) = 1 then 'county'
            else 'township'
        end as region_level,
        county_code,
        township_code,
        watch_group,
        watch_group_label,
        watch_group_order,
        count(*) as households,
        cast(sum(coalesce(persons, 0)) as bigint) as persons
    from tagged
    group by grouping sets (
        (county_code, township_code, watch_group, watch_group_label, watch_group_order),
        (county_code, watch_group, watch_group_label, watch_group_order),
        (watch_group, watch_group_label, watch_group_order)
    )
)

select * from final
