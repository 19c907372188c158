-- card_households: one row per household x active pairing (or one row without a cadre) for the
-- 明白卡 of one village: households flagged (risk level not 'none'), monitored, or in a watch
-- group. Run at print time on the stored risk table (a graph of its own, so risk is an input,
-- not rebuilt). No name of a household member is here: the head's name is looked up from
-- data/raw when the card is printed.
-- key: household_key, cadre_id
--
-- inputs: risk, pairings (the period), param_run (period end), param_card (village_code)
with

run as (
    select * from {{ ref('param_run') }}
),

village_households as (
    select r.*
    from {{ ref('risk') }} as r
    where r.village_code = (select village_code from {{ ref('param_card') }})
      and (r.risk_level <> 'none' or r.monitored or r.watch_groups_text <> '')
),

active_pairings as (
    select p.household_key, p.cadre_id, p.cadre_name, p.cadre_phone, p.cadre_unit, p.cadre_rank
    from {{ ref('pairings') }} as p
    cross join run
    where (p.start_date is null or p.start_date <= run.period_end)
      and (p.end_date is null or p.end_date >= run.period_end)
),

final as (
    select
        h.*,
        p.cadre_id,
        p.cadre_name,
        p.cadre_phone,
        p.cadre_unit,
        p.cadre_rank
    from village_households as h
    left join active_pairings as p on p.household_key = h.household_key
)

select * from final
