-- card_households: one row per household of one village or township that gets a 明白卡: every
-- registered household (建档立卡: a 脱贫状态 recorded) and every monitored one. What the card
-- prints about the household: place names, size, status, causes, income by source and per capita
-- against the lines. Run at print time on the stored risk and households tables. No name, 户编号 or
-- risk level goes onto a card from here: names come from data/raw when the card is printed.
-- key: household_key
--
-- inputs: risk, households, regions (the period), param_card (region_level, region_code),
--         param_labels (domain, code, label)
with

card as (
    select * from {{ ref('param_card') }}
),

labels as (
    select domain, code, label from {{ ref('param_labels') }}
),

carded as (
    select r.*
    from {{ ref('risk') }} as r
    cross join card
    where (card.region_level = 'village' and r.village_code = card.region_code
           or card.region_level = 'township' and r.township_code = card.region_code)
      and (r.poverty_status is not null or r.monitored)
),

final as (
    select
        -- ids and where
        r.household_key,
        r.county_code,
        cn.name as county_name,
        r.township_code,
        tn.name as township_name,
        r.village_code,
        vn.name as village_name,
        -- the household
        cast(r.persons as integer) as persons,
        h.household_size,
        ls.label as poverty_status_label,
        r.exit_year,
        lc.label as main_cause_label,
        lm.label as monitoring_category_label,
        ht.label as household_type_label,
        -- income, yuan per year (as recorded in the export)
        h.wage_income,
        h.operating_income,
        h.property_income,
        h.transfer_income,
        h.production_cost,
        h.net_income,
        -- per capita against the lines (the risk stage's figures)
        r.income_per_capita,
        r.line_national,
        r.line_guideline,
        r.line_monitoring,
        r.income_per_capita >= r.line_national as above_national,
        r.income_per_capita >= r.line_guideline as above_guideline,
        r.income_per_capita >= r.line_monitoring as above_monitoring,
        -- signals the suggested measures follow (never printed as such)
        {%- for s in signals %}
        r.sig_{{ s }},
        {%- endfor %}
        r.monitored
    from carded as r
    inner join {{ ref('households') }} as h on h.household_key = r.household_key
    left join {{ ref('regions') }} as cn on cn.level = 'county' and cn.code = r.county_code
    left join {{ ref('regions') }} as tn on tn.level = 'township' and tn.code = r.township_code
    left join {{ ref('regions') }} as vn on vn.level = 'village' and vn.code = r.village_code
    left join labels as ls on ls.domain = 'poverty_status' and ls.code = r.poverty_status
    left join labels as lc on lc.domain = 'cause' and lc.code = r.main_cause
    left join labels as lm on lm.domain = 'monitoring_category' and lm.code = r.monitoring_category
    left join labels as ht on ht.domain = 'household_type' and ht.code = r.household_type
)

select * from final
