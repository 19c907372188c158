-- card_households: one row per household x active pairing (or one row without a cadre) for the
-- 明白卡 of village {{ village_code }}, {{ period }}. Households printed: flagged (risk level not
-- 'none'), monitored, or in a watch group. No name of a household member is here: the head's
-- name is looked up from data/raw at print time.
-- inputs: risk, pairings (this period).

with

village_households as (
    select *
    from risk
    where village_code = '{{ village_code }}'
      and (risk_level <> 'none' or monitored or watch_groups_text <> '')
),

active_pairings as (
    select household_key, cadre_id, cadre_name, cadre_phone, cadre_unit, cadre_rank
    from pairings
    where (start_date is null or start_date <= cast('{{ period_end }}' as date))
      and (end_date is null or end_date >= cast('{{ period_end }}' as date))
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
