-- assistance_coverage: 帮扶责任人 coverage per township at the end of the period: households
-- some requirement applies to, how many have every requirement met, and gaps by type.
-- One row per (county_code, township_code) with at least one household in risk.
-- key: period, county_code, township_code
--
-- inputs: risk, assistance_gaps, param_run, param_status_groups, param_risk_clauses
{% import '_macros.sql' as m %}
with

run as (
    select * from {{ ref('param_run') }}
),

status_groups as (
    select * from {{ ref('param_status_groups') }}
),

clause_codes as (
    select * from {{ ref('param_risk_clauses') }}
),

households_in as (
    select
        household_key,
        county_code,
        township_code,
        {%- for c in requirements %}
        {{ m.clause(c) }}{% if not loop.last %} or {% endif %}
        {%- else %}
        false
        {%- endfor %} as needs_assistance
    from {{ ref('risk') }}
),

household_gaps as (
    select
        household_key,
        max(case when gap = 'no_pairing' then 1 else 0 end) as no_pairing,
        max(case when gap = 'wrong_level' then 1 else 0 end) as wrong_level,
        max(case when gap = 'cadre_overloaded' then 1 else 0 end) as cadre_overloaded,
        cast(sum(case when gap = 'pairing_lapsed' then 1 else 0 end) as bigint) as lapsed_pairings
    from {{ ref('assistance_gaps') }}
    group by household_key
),

overloaded_cadres as (
    select h.county_code, h.township_code, count(distinct g.cadre_id) as overloaded_cadres
    from {{ ref('assistance_gaps') }} as g
    inner join households_in as h on h.household_key = g.household_key
    where g.gap = 'cadre_overloaded'
    group by h.county_code, h.township_code
),

per_township as (
    select
        h.county_code,
        h.township_code,
        cast(count(*) as bigint) as households,
        cast(sum(case when h.needs_assistance then 1 else 0 end) as bigint) as households_needing_assistance,
        cast(sum(case when h.needs_assistance and coalesce(g.no_pairing, 0) = 0 and coalesce(g.wrong_level, 0) = 0
                 then 1 else 0 end) as bigint) as households_covered,
        cast(sum(coalesce(g.no_pairing, 0)) as bigint) as households_no_pairing,
        cast(sum(coalesce(g.wrong_level, 0)) as bigint) as households_wrong_level,
        cast(sum(coalesce(g.cadre_overloaded, 0)) as bigint) as households_with_overloaded_cadre,
        cast(sum(coalesce(g.lapsed_pairings, 0)) as bigint) as lapsed_pairings
    from households_in as h
    left join household_gaps as g on g.household_key = h.household_key
    group by h.county_code, h.township_code
),

final as (
    select
        run.period,
        p.county_code,
        p.township_code,
        p.households,
        p.households_needing_assistance,
        p.households_covered,
        p.households_no_pairing,
        p.households_wrong_level,
        p.households_with_overloaded_cadre,
        coalesce(o.overloaded_cadres, 0) as overloaded_cadres,
        p.lapsed_pairings
    from per_township as p
    cross join run
    left join overloaded_cadres as o
        on o.county_code = p.county_code and o.township_code = p.township_code
)

select * from final
