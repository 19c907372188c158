-- assistance_gaps: 帮扶责任人 gaps at the end of the period, one row per gap:
--   no_pairing       a household some requirement applies to has no active pairing at all
--   wrong_level      it has active pairings, but none of a rank the requirement asks for
--   cadre_overloaded one row per active pairing of a cadre over the maximum for the cadre's rank
--   pairing_lapsed   one row per pairing (cadre, end date) whose end_date is before the period end
-- Active: start_date <= period end (or blank) and end_date >= period end (or blank).
-- key: period, household_key, gap, requirement?, cadre_id?, end_date?
--
-- inputs: risk, pairings (the period), param_run, param_risk, param_requirements,
--         param_requirement_ranks, param_cadre_limits, param_status_groups, param_risk_clauses,
--         param_labels
{% import '_macros.sql' as m %}
with

run as (
    select * from {{ ref('param_run') }}
),

params as (
    select * from {{ ref('param_risk') }}
),

status_groups as (
    select * from {{ ref('param_status_groups') }}
),

clause_codes as (
    select * from {{ ref('param_risk_clauses') }}
),

pairings_in as (
    select
        p.*,
        (p.start_date is null or p.start_date <= run.period_end)
            and (p.end_date is null or p.end_date >= run.period_end) as active,
        p.end_date is not null and p.end_date < run.period_end as lapsed
    from {{ ref('pairings') }} as p
    cross join run
),

active_pairings as (
    select * from pairings_in where active
),

-- which requirement applies to which household (one row per household x requirement)
required_orders as (
    {%- for c in requirements %}
    select household_key, {{ loop.index }} as requirement_order
    from {{ ref('risk') }}
    where {{ m.clause(c) }}
    {% if not loop.last %}union all{% endif %}
    {%- else %}
    select cast(null as varchar) as household_key, cast(null as integer) as requirement_order where false
    {%- endfor %}
),

required as (
    select
        ro.household_key,
        r.code as requirement,
        r.label as requirement_label,
        r.requirement_order
    from required_orders as ro
    inner join {{ ref('param_requirements') }} as r on r.requirement_order = ro.requirement_order
),

required_ranks as (
    select requirement, cadre_rank from {{ ref('param_requirement_ranks') }}
),

-- requirements listing no rank: any active pairing meets them
any_rank_requirements as (
    select code as requirement
    from {{ ref('param_requirements') }}
    where code not in (select requirement from required_ranks)
),

households_with_active as (
    select distinct household_key from active_pairings
),

met as (
    select distinct rq.household_key, rq.requirement
    from required as rq
    inner join active_pairings as ap on ap.household_key = rq.household_key
    left join required_ranks as rr on rr.requirement = rq.requirement and rr.cadre_rank = ap.cadre_rank
    left join any_rank_requirements as ar on ar.requirement = rq.requirement
    where rr.requirement is not null or ar.requirement is not null
),

no_pairing as (
    select
        rq.household_key,
        'no_pairing' as gap,
        min(rq.requirement) as requirement,
        cast(null as varchar) as cadre_id,
        cast(null as varchar) as cadre_rank,
        cast(null as date) as end_date,
        cast(null as bigint) as cadre_households,
        string_agg(rq.requirement_label, '；' order by rq.requirement_order) as detail
    from required as rq
    left join households_with_active as ha on ha.household_key = rq.household_key
    where ha.household_key is null
    group by rq.household_key
),

wrong_level as (
    select
        rq.household_key,
        'wrong_level' as gap,
        rq.requirement,
        cast(null as varchar) as cadre_id,
        cast(null as varchar) as cadre_rank,
        cast(null as date) as end_date,
        cast(null as bigint) as cadre_households,
        rq.requirement_label as detail
    from required as rq
    inner join households_with_active as ha on ha.household_key = rq.household_key
    left join met on met.household_key = rq.household_key and met.requirement = rq.requirement
    where met.household_key is null
),

cadre_load as (
    select
        cadre_id,
        max(cadre_rank) as cadre_rank,
        count(distinct household_key) as cadre_households
    from active_pairings
    group by cadre_id
),

-- the maximum for the cadre's rank ([assistance.max_households_by_rank]), else the general one
cadre_limits as (
    select
        cl.cadre_id,
        cl.cadre_households,
        coalesce(lim.max_households, params.max_households_per_cadre) as max_households
    from cadre_load as cl
    cross join params
    left join {{ ref('param_cadre_limits') }} as lim on lim.cadre_rank = cl.cadre_rank
),

overloaded as (
    select distinct
        ap.household_key,
        'cadre_overloaded' as gap,
        cast(null as varchar) as requirement,
        ap.cadre_id,
        ap.cadre_rank,
        ap.end_date,
        cl.cadre_households,
        '结对' || cast(cl.cadre_households as varchar) || '户，上限' || cast(cl.max_households as varchar) || '户' as detail
    from active_pairings as ap
    inner join cadre_limits as cl on cl.cadre_id = ap.cadre_id
    where cl.cadre_households > cl.max_households
),

-- one row per lapsed (household, cadre, end date): a pairing exported twice is one gap
lapsed as (
    select distinct
        household_key,
        'pairing_lapsed' as gap,
        cast(null as varchar) as requirement,
        cadre_id,
        cadre_rank,
        end_date,
        cast(null as bigint) as cadre_households,
        '帮扶结束时间' || cast(end_date as varchar) as detail
    from pairings_in
    where lapsed
),

gaps as (
    select * from no_pairing
    union all select * from wrong_level
    union all select * from overloaded
    union all select * from lapsed
),

final as (
    select
        -- ids
        run.period,
        g.household_key,
        r.county_code,
        r.township_code,
        r.village_code,
        -- gap
        g.gap,
        gl.label as gap_label,
        g.requirement,
        g.detail,
        -- cadre
        g.cadre_id,
        g.cadre_rank,
        g.end_date,
        g.cadre_households,
        -- household context
        r.poverty_status,
        r.risk_level,
        r.below_guideline
    from gaps as g
    cross join run
    left join {{ ref('risk') }} as r on r.household_key = g.household_key
    left join {{ ref('param_labels') }} as gl on gl.domain = 'assistance_gap' and gl.code = g.gap
)

select * from final
