-- assistance_by_county: households needing a 帮扶责任人, covered, and each kind of gap, by county
-- with the city total. Coverage = covered / needing. Source: `assistance_coverage` (risk stage).
-- requires: assistance_coverage
with

params as (
    select * from report_params
),

counted as (
    select
        0 as is_total,
        a.county_code,
        sum(a.households_needing_assistance) as needing,
        sum(a.households_covered) as covered,
        sum(a.households_no_pairing) as no_pairing,
        sum(a.households_wrong_level) as wrong_level,
        sum(a.households_with_overloaded_cadre) as overloaded,
        sum(a.lapsed_pairings) as lapsed_pairings
    from assistance_coverage as a
    cross join params as p
    where a.period = p.period
    group by a.county_code
),

totals as (
    select 1, null, sum(needing), sum(covered), sum(no_pairing), sum(wrong_level), sum(overloaded),
           sum(lapsed_pairings)
    from counted
),

final as (
    select
        u.is_total,
        u.county_code,
        case when u.is_total = 1 then '合计' else coalesce(rn.name, u.county_code) end as county_name,
        u.needing,
        u.covered,
        u.needing - u.covered as not_covered,
        case when u.needing > 0 then u.covered * 1.0 / u.needing end as coverage,
        u.no_pairing,
        u.wrong_level,
        u.overloaded,
        u.lapsed_pairings
    from (select * from counted union all select * from totals) as u
    left join region_names as rn on rn.level = 'county' and rn.code = u.county_code
)

select * from final
order by is_total, county_code
