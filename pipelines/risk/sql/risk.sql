{% import '_macros.sql' as m %}
-- risk: one row per household for period {{ period }}: income position against the named lines,
-- fragility signals, risk level with reasons (Chinese), monitoring-category proposal, watch
-- groups and the 风险消除 check. Rules come from config/risk.toml via jinja (lists only).
-- inputs: households, persons (this period), households_all (earlier periods), lines, deprivation.

with

params as (
    select
        '{{ period }}' as period,
        {{ year }} as year,
        {{ quarter_index }} as quarter_index
),

-- ---- income per capita, the first non-null configured column --------------------------------
households_in as (
    select
        h.*,
        coalesce({{ income_columns | join(', ') }}) as income_per_capita
    from households as h
),

history as (
    select
        household_key,
        cast(substr(period, 1, 4) as integer) as year,
        cast(substr(period, 1, 4) as integer) * 4 + cast(substr(period, 6, 1) as integer) as quarter_index,
        coalesce({{ income_columns | join(', ') }}) as income_per_capita,
        net_income
    from households_all
),

line_values as (
    select
        year,
        max(case when line = 'national' then value end) as line_national,
        max(case when line = 'guideline' then value end) as line_guideline,
        max(case when line = 'monitoring' then value end) as line_monitoring
    from lines
    group by year
),

previous_quarter as (
    select household_key, income_per_capita as prev_income_per_capita
    from history
    where quarter_index = (select quarter_index - 1 from params)
),

year_ago as (
    select household_key, net_income as year_ago_net_income
    from history
    where quarter_index = (select quarter_index - 4 from params)
),

-- quarters in the elimination window (this one included) with income >= that year's monitoring line
elimination_window as (
    select
        hi.household_key,
        cast(sum(case when hi.income_per_capita >= lv.line_monitoring then 1 else 0 end) as bigint) as quarters_above_monitoring
    from history as hi
    inner join line_values as lv on lv.year = hi.year
    where hi.quarter_index between (select quarter_index - {{ elimination.consecutive_quarters - 1 }} from params)
                               and (select quarter_index from params)
    group by hi.household_key
),

-- ---- member facts ---------------------------------------------------------------------------
member_facts as (
    select
        household_key,
        count(*) as members,
        cast(sum(case when {{ m.in_list('labour_skill', signals_cfg.labour_capable) }} then 1 else 0 end) as bigint) as capable_members,
        cast(sum(case when {{ m.in_list('migrant_status', signals_cfg.migrant_statuses) }} then 1 else 0 end) as bigint) as migrant_members,
        cast(sum(case when {% for c in signals_cfg.illness_disability_columns %}coalesce({{ c }}, false){% if not loop.last %} or {% endif %}{% endfor %} then 1 else 0 end) as bigint) as ill_or_disabled_members
    from persons
    group by household_key
),

-- ---- measures behind the signals --------------------------------------------------------------
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
        d.gap_food as dep_food,
        d.gap_clothing as dep_clothing,
        d.gap_education as dep_education,
        d.gap_medical as dep_medical,
        d.gap_housing as dep_housing,
        d.gap_water as dep_water,
        d.deprivation_source
    from households_in as h
    left join line_values as lv on lv.year = (select year from params)
    left join member_facts as mf on mf.household_key = h.household_key
    left join previous_quarter as pq on pq.household_key = h.household_key
    left join year_ago as ya on ya.household_key = h.household_key
    left join elimination_window as ew on ew.household_key = h.household_key
    left join deprivation as d on d.household_key = h.household_key
),

ratios as (
    select
        *,
        round(income_per_capita / nullif(line_national, 0), 6) as ratio_national,
        round(income_per_capita / nullif(line_guideline, 0), 6) as ratio_guideline,
        round(income_per_capita / nullif(line_monitoring, 0), 6) as ratio_monitoring,
        case
        {%- for b in bands %}
            {%- if b.line %}
            when income_per_capita < line_{{ b.line }} then '{{ b.code }}'
            {%- else %}
            when income_per_capita is not null then '{{ b.code }}'
            {%- endif %}
        {%- endfor %}
        end as income_band,
        coalesce(income_per_capita < line_guideline, false) as below_guideline,
        coalesce(income_per_capita < line_monitoring, false) as below_monitoring,
        round(transfer_income / nullif(gross_income_used, 0), 6) as transfer_share,
        round(wage_income / nullif(gross_income_used, 0), 6) as wage_share,
        case when prev_income_per_capita > 0
             then round((prev_income_per_capita - income_per_capita) / prev_income_per_capita, 6)
        end as income_drop_pct
    from measured
),

-- ---- fragility signals (booleans, never null) -------------------------------------------------
signals as (
    select
        *,
        coalesce(income_band = 'below_national', false) as sig_below_national,
        coalesce(income_band = 'below_guideline', false) as sig_below_guideline,
        coalesce(income_band = 'near_threshold', false) as sig_near_threshold,
        coalesce(income_drop_pct >= {{ signals_cfg.income_drop_min }}, false) as sig_income_drop,
        coalesce(rigid_spending_amount > {{ signals_cfg.rigid_spending_ratio }} * last_year_net_income, false) as sig_rigid_spending,
        coalesce(medical_out_of_pocket > {{ signals_cfg.large_medical_min }}, false) as sig_large_medical,
        (
            {%- for c in signals_cfg.shock_cause_columns %}
            coalesce({{ m.in_list(c, signals_cfg.shock_causes) }}, false){% if not loop.last %} or {% endif %}
            {%- endfor %}
            {%- for c in signals_cfg.shock_flag_columns %} or coalesce({{ c }}, false){% endfor %}
        ) as sig_disaster_shock,
        coalesce(ill_or_disabled_members > 0, false) as sig_illness_disability,
        coalesce(members > 0 and capable_members = 0, false) as sig_no_labour,
        coalesce(transfer_share >= {{ signals_cfg.transfer_share_min }}, false) as sig_high_transfer_share,
        coalesce(migrant_members = 1 and wage_share >= {{ signals_cfg.single_migrant_wage_share_min }}, false) as sig_single_migrant_income,
        coalesce(relocated and not coalesce(relocation_settled, false), false) as sig_relocation_unsettled,
        coalesce(dep_food, false) as sig_gap_food,
        coalesce(dep_clothing, false) as sig_gap_clothing,
        coalesce(dep_education, false) as sig_gap_education,
        coalesce(dep_medical, false) as sig_gap_medical,
        coalesce(dep_housing, false) as sig_gap_housing,
        coalesce(dep_water, false) as sig_gap_water
    from ratios
),

-- ---- level and reasons -----------------------------------------------------------------------
leveled as (
    select
        *,
        {% for s in signal_list %}cast(sig_{{ s.code }} as integer){% if not loop.last %} + {% endif %}{% endfor %} as n_signals,
        concat_ws('；'
        {%- for s in signal_list %},
            case when sig_{{ s.code }} then '{{ s.label | sqlstr }}' end
        {%- endfor %}
        ) as reasons_text
    from signals
),

levels as (
    select
        *,
        case
        {%- for lv in levels %}
            when {{ m.any_signal(lv.any_of) }}{% if lv.min_signals > 0 %} or n_signals >= {{ lv.min_signals }}{% endif %} then '{{ lv.code }}'
        {%- endfor %}
            else 'none'
        end as risk_level
    from leveled
),

-- ---- monitoring-category proposal --------------------------------------------------------------
-- exited and (below the range or unstable) -> 脱贫不稳定户; never registered and below the range
-- -> 边缘易致贫户; otherwise a spending spike / income collapse -> 突发严重困难户 (even above the
-- range); a never-registered or 边缘 household that is only unstable -> 边缘易致贫户.
categorised as (
    select
        *,
        monitoring_category is not null as monitored_recorded,
        case
            when coalesce({{ m.in_list('poverty_status', categories.not_proposed_statuses) }}, false) then null
            when coalesce({{ m.in_list('poverty_status', categories.exited_statuses) }}, false)
                 and (below_monitoring or {{ m.any_signal(categories.unstable_signals) }}) then 'unstable_exited'
            when poverty_status is null and below_monitoring then 'marginal'
            when {{ m.any_signal(categories.sudden_signals) }} then 'sudden_hardship'
            when (household_type = 'marginal' or poverty_status is null)
                 and {{ m.any_signal(categories.unstable_signals) }} then 'marginal'
        end as proposed_category
    from levels
),

monitored as (
    select
        *,
        monitoring_category is not null or proposed_category is not null as monitored
    from categorised
),

-- ---- watch groups ("五类人") -----------------------------------------------------------------
grouped as (
    select
        *
        {%- for g in watch_groups %},
        {{ m.any_clause(g.when) }} as wg_{{ g.code }}
        {%- endfor %}
    from monitored
),

-- ---- 风险消除 check, for households in monitoring (recorded category) -------------------------
elimination as (
    select
        *,
        quarters_above_monitoring >= {{ elimination.consecutive_quarters }} as income_stably_above,
        {{ m.any_signal(elimination.blocking_signals) }} as elimination_blocked,
        {{ m.any_signal(elimination.keep_tracking_signals) }} as elimination_keep_tracking
    from grouped
),

final as (
    select
        -- ids
        period,
        household_key,
        county_code,
        township_code,
        village_code,
        -- status
        household_type,
        poverty_status,
        exit_year,
        main_cause,
        return_cause,
        monitoring_category,
        persons,
        -- income position, yuan per person per year
        income_per_capita,
        line_national,
        line_guideline,
        line_monitoring,
        ratio_national,
        ratio_guideline,
        ratio_monitoring,
        income_band,
        case income_band
        {%- for b in bands %}
            when '{{ b.code }}' then '{{ b.label | sqlstr }}'
        {%- endfor %}
        end as income_band_label,
        below_guideline,
        below_monitoring,
        -- measures behind the signals
        prev_income_per_capita,
        income_drop_pct,
        transfer_share,
        wage_share,
        migrant_members,
        capable_members,
        ill_or_disabled_members,
        rigid_spending_amount,
        last_year_net_income,
        last_year_income_source,
        deprivation_source,
        -- signals
        {%- for s in signal_list %}
        sig_{{ s.code }},
        {%- endfor %}
        -- level and reasons
        n_signals,
        risk_level,
        case risk_level
        {%- for lv in levels %}
            when '{{ lv.code }}' then '{{ lv.label | sqlstr }}'
        {%- endfor %}
            else '无'
        end as risk_level_label,
        case when n_signals > 0 then string_split(reasons_text, '；') else cast([] as varchar[]) end as reasons,
        reasons_text,
        -- monitoring category
        proposed_category,
        case proposed_category
        {%- for code, label in category_labels.items() %}
            when '{{ code }}' then '{{ label | sqlstr }}'
        {%- endfor %}
        end as proposed_category_label,
        monitored,
        -- watch groups
        {%- for g in watch_groups %}
        wg_{{ g.code }},
        {%- endfor %}
        concat_ws('、'
        {%- for g in watch_groups %},
            case when wg_{{ g.code }} then '{{ g.label | sqlstr }}' end
        {%- endfor %}
        ) as watch_groups_text,
        -- 风险消除
        quarters_above_monitoring,
        case
            when not monitored_recorded then null
            when income_stably_above and not elimination_blocked and elimination_keep_tracking then 'keep_tracking'
            when income_stably_above and not elimination_blocked then 'eliminate'
            else 'stay_monitored'
        end as elimination_status,
        case when monitored_recorded then concat_ws('；',
            case when not income_stably_above then '收入未连续{{ elimination.consecutive_quarters }}个季度高于监测线' end
            {%- for c in elimination.blocking_signals %},
            case when sig_{{ c }} then '{{ signal_labels[c] | sqlstr }}' end
            {%- endfor %}
            {%- for c in elimination.keep_tracking_signals %},
            case when sig_{{ c }} then '{{ signal_labels[c] | sqlstr }}(保持跟踪)' end
            {%- endfor %}
        ) end as elimination_blockers
    from elimination
)

select * from final
