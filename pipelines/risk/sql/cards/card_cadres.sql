-- card_cadres: whom a carded household calls: its 帮扶责任人 (pairings active at the period end) and
-- the village's 驻村工作队 (every cadre marked 是否驻村队员 paired with a household of the village).
-- Public-duty contacts (name, unit, phone).
-- key: household_key, role, cadre_id
--
-- inputs: card_households, pairings (the period), param_run (period_end)
with

run as (
    select * from {{ ref('param_run') }}
),

active as (
    select p.*
    from {{ ref('pairings') }} as p
    cross join run
    where (p.start_date is null or p.start_date <= run.period_end)
      and (p.end_date is null or p.end_date >= run.period_end)
),

paired as (
    select
        c.household_key,
        'pair' as role,
        a.cadre_id,
        a.cadre_name,
        a.cadre_unit,
        a.cadre_phone
    from {{ ref('card_households') }} as c
    inner join active as a on a.household_key = c.household_key
),

village_team as (
    -- resident team members of each village: distinct cadres paired there
    select
        c.village_code,
        a.cadre_id,
        min(a.cadre_name) as cadre_name,
        min(a.cadre_unit) as cadre_unit,
        min(a.cadre_phone) as cadre_phone
    from active as a
    inner join {{ ref('risk') }} as c on c.household_key = a.household_key
    where a.resident_team
    group by c.village_code, a.cadre_id
),

team as (
    select
        c.household_key,
        'team' as role,
        t.cadre_id,
        t.cadre_name,
        t.cadre_unit,
        t.cadre_phone
    from {{ ref('card_households') }} as c
    inner join village_team as t on t.village_code = c.village_code
),

final as (
    select * from paired
    union all
    select * from team
)

select * from final
