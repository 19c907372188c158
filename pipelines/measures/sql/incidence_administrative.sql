-- incidence_administrative: 贫困发生率 (administrative variant, domain.md §6) for every village,
-- township, county and the city: registered persons of households whose 脱贫状态 is in the
-- configured poor list (未脱贫, and 返贫 by default; exited never) / 农村户籍人口 of the unit
-- for the period's year (population table, not the registry).
-- A village in the registry but not in the population table keeps its poor count with a null
-- rate; villages in the population table without poor persons get 0. Every level sums the same
-- person rows, so poor counts reconcile village -> township -> county -> city.
-- key: domain_level, domain_code, measure
-- inputs: households, persons (one period), population, incidence_params(year, city_code,
--         poor_group), param_status_groups (group_name, code: config/policy.toml)
-- outputs: measure incidence_administrative (estimate = rate, n_unweighted = poor persons,
--          n_weighted = rural population) and poor_persons_administrative (estimate = count)
with

params as (
    select year, city_code, poor_group from {{ ref('incidence_params') }}
),

poor_households as (
    select h.household_key
    from {{ ref('households') }} as h
    where h.poverty_status in (
        select g.code
        from {{ ref('param_status_groups') }} as g
        cross join params
        where g.group_name = params.poor_group
    )
),

poor_by_village as (
    select p.county_code, p.township_code, p.village_code, count(*) as poor_persons
    from {{ ref('persons') }} as p
    inner join poor_households as h on p.household_key = h.household_key
    group by p.county_code, p.township_code, p.village_code
),

population_by_village as (
    select pop.county_code, pop.township_code, pop.village_code, sum(pop.rural_population) as rural_population
    from {{ ref('population') }} as pop
    cross join params
    where pop.year = params.year
    group by pop.county_code, pop.township_code, pop.village_code
),

villages as (
    select
        coalesce(pv.county_code, pp.county_code) as county_code,
        coalesce(pv.township_code, pp.township_code) as township_code,
        coalesce(pv.village_code, pp.village_code) as village_code,
        coalesce(pv.poor_persons, 0) as poor_persons,
        pp.rural_population
    from poor_by_village as pv
    full outer join population_by_village as pp on pv.village_code = pp.village_code
),

-- a denominator is complete only when every village under the unit has one
levels as (
    select 'village' as domain_level, village_code as domain_code,
           sum(poor_persons) as poor_persons, sum(rural_population) as rural_population,
           count(*) - count(rural_population) as villages_without_population
    from villages group by village_code
    union all
    select 'township', township_code, sum(poor_persons), sum(rural_population),
           count(*) - count(rural_population)
    from villages group by township_code
    union all
    select 'county', county_code, sum(poor_persons), sum(rural_population),
           count(*) - count(rural_population)
    from villages group by county_code
    union all
    select 'city', max(params.city_code), sum(poor_persons), sum(rural_population),
           count(*) - count(rural_population)
    from villages cross join params
),

final as (
    select domain_level, domain_code, 'incidence_administrative' as measure,
           case when villages_without_population = 0
                then cast(poor_persons as double) / nullif(rural_population, 0) end as estimate,
           poor_persons as n_unweighted, cast(rural_population as double) as n_weighted
    from levels
    union all
    select domain_level, domain_code, 'poor_persons_administrative' as measure,
           cast(poor_persons as double) as estimate,
           poor_persons as n_unweighted, cast(rural_population as double) as n_weighted
    from levels
)

select * from final
