-- watch_group_counts: households and persons per watch group ("五类人", config/risk.toml) and
-- region for the period. region_level: township | county | city (county_code / township_code
-- null on the rows above their level).
-- key: period, region_level, county_code?, township_code?, watch_group
--
-- inputs: risk, param_run, param_watch_groups
with

run as (
    select * from {{ ref('param_run') }}
),

tagged as (
    {%- for g in watch_groups %}
    select county_code, township_code, {{ loop.index }} as watch_group_order, household_key, persons
    from {{ ref('risk') }}
    where wg_{{ g.code }}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

labelled as (
    select
        t.county_code,
        t.township_code,
        g.code as watch_group,
        g.label as watch_group_label,
        t.watch_group_order,
        t.household_key,
        t.persons
    from tagged as t
    inner join {{ ref('param_watch_groups') }} as g on g.watch_group_order = t.watch_group_order
),

counted as (
    select
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
    from labelled
    group by grouping sets (
        (county_code, township_code, watch_group, watch_group_label, watch_group_order),
        (county_code, watch_group, watch_group_label, watch_group_order),
        (watch_group, watch_group_label, watch_group_order)
    )
),

final as (
    select
        run.period,
        c.*
    from counted as c
    cross join run
)

select * from final
