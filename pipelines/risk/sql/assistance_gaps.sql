{% import '_macros.sql' as m %}
-- assistance_gaps: 帮扶责任人 gaps at the end of {{ period }} ({{ period_end }}): one row per gap.
--   no_pairing       a household some requirement applies to has no active pairing at all
--   wrong_level      it has active pairings, but none of a rank the requirement asks for
--   cadre_overloaded one row per active pairing of a cadre over the configured maximum
--   pairing_lapsed   one row per pairing whose end_date is before the period end
-- Active: start_date <= period end (or blank) and end_date >= period end (or blank).
-- inputs: risk (this period), pairings (this period).

with

period_end as (
    select cast('{{ period_end }}' as date) as end_date
),

pairings_in as (
    select
        p.*,
        (p.start_date is null or p.start_date <= (select end_date from period_end))
            and (p.end_date is null or p.end_date >= (select end_date from period_end)) as active,
        p.end_date is not null and p.end_date < (select end_date from period_end) as lapsed
    from pairings as p
),

active_pairings as (
    select * from pairings_in where active
),

-- which requirement applies to which household (one row per household x requirement)
required as (
    {%- for r in requirements %}
    select household_key, '{{ r.code }}' as requirement, '{{ r.label | sqlstr }}' as requirement_label,
           {{ loop.index }} as requirement_order
    from risk
    where {{ m.clause(r.applies_to) }}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

required_ranks as (
    {%- for r in requirements %}
    {%- for rank in r.ranks %}
    select '{{ r.code }}' as requirement, '{{ rank }}' as cadre_rank
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
    {%- if not r.ranks %}
    select '{{ r.code }}' as requirement, cast(null as varchar) as cadre_rank
    {%- endif %}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

any_rank_requirements as (
    select distinct requirement from required_ranks where cadre_rank is null
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

cadre_limits as (
    select
        cadre_id,
        cadre_households,
        case cadre_rank
        {%- for rank, limit in max_by_rank.items() %}
            when '{{ rank }}' then {{ limit }}
        {%- endfor %}
            else {{ max_households }}
        end as max_households
    from cadre_load
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

lapsed as (
    select
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
        '{{ period }}' as period,
        g.household_key,
        r.county_code,
        r.township_code,
        r.village_code,
        -- gap
        g.gap,
        case g.gap
        {%- for code, label in gap_labels.items() %}
            when '{{ code }}' then '{{ label | sqlstr }}'
        {%- endfor %}
        end as gap_label,
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
    left join risk as r on r.household_key = g.household_key
)

select * from final
