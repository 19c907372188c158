-- int_risk_signals: one row per household of the period, its income position (int_risk_income)
-- and the fragility signals: one boolean sig_<code> column per signal of config/risk.toml
-- [[signal]] (never null), and how many are set. pipelines/risk/rules.py checks that the signals
-- listed there are exactly those computed here: the income band's own signal (param_bands.signal)
-- plus one rule each below.
-- key: period, household_key
-- materialized: view
--
-- inputs: int_risk_income, param_risk (thresholds), param_risk_codes (shock_causes), crosscheck_findings
-- shares and drops: inclusive (>=); spending above income: strict (>).
with

params as (
    select * from {{ ref('param_risk') }}
),

shock_causes as (
    select code from {{ ref('param_risk_codes') }} where list_name = 'shock_causes'
),

-- department cross-checks of the quarter (pipelines/crosscheck; empty when none ran): one flag per rule
crosscheck as (
    select
        household_key,
        {%- for r in crosscheck_rules %}
        max(case when rule = '{{ r }}' then 1 else 0 end) = 1 as xc_{{ r }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ ref('crosscheck_findings') }}
    where household_key is not null
    group by household_key
),

-- the evidence behind those flags: each rule with its department and the list's record date
crosscheck_items as (
    select distinct
        household_key,
        rule_label || '(' || department_label || ' ' || coalesce(cast(record_date as varchar), '日期不详') || ')' as item
    from {{ ref('crosscheck_findings') }}
    where household_key is not null
),

crosscheck_evidence as (
    select household_key, string_agg(item, '；' order by item) as crosscheck_evidence
    from crosscheck_items
    group by household_key
),

signals as (
    select
        i.*,
        -- income: the band's signal
        {%- for s in band_signals %}
        coalesce(i.band_signal = '{{ s }}', false) as sig_{{ s }},
        {%- endfor %}
        -- income and spending shocks
        coalesce(i.income_drop_pct >= params.income_drop_min, false) as sig_income_drop,
        coalesce(i.rigid_spending_amount > params.rigid_spending_ratio * i.last_year_net_income, false) as sig_rigid_spending,
        coalesce(i.medical_out_of_pocket > params.large_medical_min, false) as sig_large_medical,
        (
            {%- for c in shock_cause_columns %}
            coalesce(i.{{ c }} in (select code from shock_causes), false) or
            {%- endfor %}
            {%- for c in shock_flag_columns %}
            coalesce(i.{{ c }}, false) or
            {%- endfor %}
            false
        ) as sig_disaster_shock,
        -- members
        coalesce(i.ill_or_disabled_members > 0, false) as sig_illness_disability,
        coalesce(i.members > 0 and i.capable_members = 0, false) as sig_no_labour,
        -- income structure
        coalesce(i.transfer_share >= params.transfer_share_min, false) as sig_high_transfer_share,
        coalesce(i.migrant_members = 1 and i.wage_share >= params.single_migrant_wage_share_min, false) as sig_single_migrant_income,
        coalesce(i.relocated and not coalesce(i.relocation_settled, false), false) as sig_relocation_unsettled,
        -- 两不愁三保障 + 饮水 (null = not determinable: not a gap)
        coalesce(i.dep_food, false) as sig_gap_food,
        coalesce(i.dep_clothing, false) as sig_gap_clothing,
        coalesce(i.dep_education, false) as sig_gap_education,
        coalesce(i.dep_medical, false) as sig_gap_medical,
        coalesce(i.dep_housing, false) as sig_gap_housing,
        coalesce(i.dep_water, false) as sig_gap_water,
        -- department cross-checks: a finding of the rule on the household this quarter, and its evidence
        e.crosscheck_evidence,
        {%- for r in crosscheck_rules %}
        coalesce(x.xc_{{ r }}, false) as sig_xc_{{ r }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ ref('int_risk_income') }} as i
    cross join params
    left join crosscheck as x on x.household_key = i.household_key
    left join crosscheck_evidence as e on e.household_key = i.household_key
),

final as (
    select
        *,
        {% for s in signals %}cast(sig_{{ s }} as integer){% if not loop.last %} + {% endif %}{% endfor %} as n_signals
    from signals
)

select * from final
