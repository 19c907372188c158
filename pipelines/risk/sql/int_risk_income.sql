-- int_risk_income: one row per household of the period, its income position: per-capita income
-- against the lines by role and its income band, ratios and shares, previous-quarter and year-ago
-- income, quarters above the monitoring line in the 风险消除 window, member facts and the
-- 两不愁三保障 flags (the stored int_household_deprivations of the period).
-- key: period, household_key
-- materialized: view
--
-- inputs: households, int_household_base (the period), households_history (the period and the quarters the
--         rules look back to), int_household_deprivations (written by validate), param_run,
--         param_quarters, param_line_roles, param_risk, param_bands
-- "below a line" is strict (income < line); ratios and shares are rounded to 6 decimals.
with

run as (
    select * from {{ ref('param_run') }}
),

params as (
    select * from {{ ref('param_risk') }}
),

line_values as (
    select
        year,
        max(case when role = 'national' then value end) as line_national,
        max(case when role = 'guideline' then value end) as line_guideline,
        max(case when role = 'monitoring' then value end) as line_monitoring
    from {{ ref('param_line_roles') }}
    group by year
),

-- ---- income per capita: the first non-null configured column ------------------------------------
households_in as (
    select
        h.*,
        coalesce({{ income_columns | join(', ') }}) as income_per_capita
    from {{ ref('households') }} as h
),

history as (
    select
        hh.household_key,
        q.year,
        q.quarter_index,
        coalesce({% for c in income_columns %}hh.{{ c }}{% if not loop.last %}, {% endif %}{% endfor %}) as income_per_capita,
        hh.net_income
    from {{ ref('households_history') }} as hh
    inner join {{ ref('param_quarters') }} as q on q.period = hh.period
),

previous_quarter as (
    select household_key, income_per_capita as prev_income_per_capita
    from history
    where quarter_index = (select quarter_index - 1 from run)
),

year_ago as (
    select household_key, net_income as year_ago_net_income
    from history
    where quarter_index = (select quarter_index - 4 from run)
),

-- quarters in the 风险消除 window (this one included) with income >= that year's monitoring line
elimination_window as (
    select
        hi.household_key,
        cast(sum(case when hi.income_per_capita >= lv.line_monitoring then 1 else 0 end) as bigint) as quarters_above_monitoring
    from history as hi
    inner join line_values as lv on lv.year = hi.year
    where hi.quarter_index between (select r.quarter_index - (p.consecutive_quarters - 1) from run as r cross join params as p)
                               and (select quarter_index from run)
    group by hi.household_key
),

-- ---- member facts: the household base (persons grouped once per quarter) ----------------------
member_facts as (
    select household_key, members, capable_members, migrant_members, ill_or_disabled_members
    from {{ ref('int_household_base') }}
    where members is not null
),

-- ---- amounts behind the signals ---------------------------------------------------------------
measured as (
    select
        h.*,
        lv.line_national,
        lv.line_guideline,
        lv.line_monitoring,
        coalesce(h.member_count, mf.members, h.household_size) as persons,
        mf.members,
        mf.capable_members,
        mf.migrant_members,
        mf.ill_or_disabled_members,
        pq.prev_income_per_capita,
        coalesce(h.gross_income, coalesce(h.wage_income, 0) + coalesce(h.operating_income, 0)
            + coalesce(h.property_income, 0) + coalesce(h.transfer_income, 0)) as gross_income_used,
        coalesce(h.medical_out_of_pocket, 0) + coalesce(h.education_spending, 0) as rigid_spending_amount,
        coalesce(ya.year_ago_net_income, h.net_income) as last_year_net_income,
        case when ya.year_ago_net_income is not null then 'year_ago_quarter' else 'current' end as last_year_income_source,
        cast(coalesce(ew.quarters_above_monitoring, 0) as bigint) as quarters_above_monitoring,
        d.food_deprived as dep_food,
        d.clothing_deprived as dep_clothing,
        d.education_deprived as dep_education,
        d.medical_deprived as dep_medical,
        d.housing_deprived as dep_housing,
        d.water_deprived as dep_water,
        case when d.household_key is not null then 'shared' end as deprivation_source
    from households_in as h
    left join line_values as lv on lv.year = (select year from run)
    left join member_facts as mf on mf.household_key = h.household_key
    left join previous_quarter as pq on pq.household_key = h.household_key
    left join year_ago as ya on ya.household_key = h.household_key
    left join elimination_window as ew on ew.household_key = h.household_key
    left join {{ ref('int_household_deprivations') }} as d on d.household_key = h.household_key
),

-- ---- position against the lines -----------------------------------------------------------------
-- income band: the first band (param_bands order) whose line the income is strictly below
ratios as (
    select
        *,
        round(income_per_capita / nullif(line_national, 0), 6) as ratio_national,
        round(income_per_capita / nullif(line_guideline, 0), 6) as ratio_guideline,
        round(income_per_capita / nullif(line_monitoring, 0), 6) as ratio_monitoring,
        case
        {%- for role in band_lines %}
            {%- if role %}
            when income_per_capita < line_{{ role }} then {{ loop.index }}
            {%- else %}
            when income_per_capita is not null then {{ loop.index }}
            {%- endif %}
        {%- endfor %}
        end as band_order,
        coalesce(income_per_capita < line_guideline, false) as below_guideline,
        coalesce(income_per_capita < line_monitoring, false) as below_monitoring,
        round(transfer_income / nullif(gross_income_used, 0), 6) as transfer_share,
        round(wage_income / nullif(gross_income_used, 0), 6) as wage_share,
        case when prev_income_per_capita > 0
             then round((prev_income_per_capita - income_per_capita) / prev_income_per_capita, 6)
        end as income_drop_pct
    from measured
),

final as (
    select
        r.*,
        b.code as income_band,
        b.label as income_band_label,
        b.signal as band_signal
    from ratios as r
    left join {{ ref('param_bands') }} as b on b.band_order = r.band_order
)

select * from final
