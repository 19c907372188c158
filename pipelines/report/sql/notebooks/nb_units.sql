-- nb_units: the drill path of a notebook's region — the city, then each unit above the region,
-- the region itself, then its children one level down (counties of the city, townships of a
-- county, villages of a township; a village has none) — with names and display order.
-- key: unit_level, unit_code
--
-- inputs: regions, param_notebook (region_code, region_level, child_level, city_code, city_name)
with

nb as (
    select * from {{ ref('param_notebook') }}
),

levels as (
    select 'city' as unit_level, 4 as code_length, 1 as depth
    union all select 'county', 6, 2
    union all select 'township', 9, 3
    union all select 'village', 12, 4
),

path as (
    -- every unit whose code is a prefix of the region's code (the region included)
    select
        l.unit_level,
        substr(nb.region_code, 1, l.code_length) as unit_code,
        l.depth,
        case when l.code_length = length(nb.region_code) then 'region' else 'path' end as role
    from levels as l
    cross join nb
    where l.code_length <= length(nb.region_code)
),

children as (
    select
        r.level as unit_level,
        r.code as unit_code,
        l.depth,
        'child' as role
    from {{ ref('regions') }} as r
    inner join levels as l on l.unit_level = r.level
    cross join nb
    where r.level = nb.child_level
      and starts_with(r.code, nb.region_code)
),

units as (
    select * from path
    union all
    select * from children
),

final as (
    select
        u.role,
        u.unit_level,
        u.unit_code,
        coalesce(case when u.unit_level = 'city' then nb.city_name end, r.name, u.unit_code) as unit_name,
        cast(row_number() over (order by u.depth, case u.role when 'child' then 1 else 0 end, u.unit_code)
             as integer) as unit_order
    from units as u
    cross join nb
    left join {{ ref('regions') }} as r on r.level = u.unit_level and r.code = u.unit_code
)

select * from final
