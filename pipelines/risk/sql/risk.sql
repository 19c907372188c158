-- risk: one row per household of the period: income position and signals (int_risk_signals),
-- the risk level with its reasons in Chinese, the monitoring-category proposal, the watch groups
-- ("五类人") and the 风险消除 check. Rules from config/risk.toml: levels and groups as parameter
-- tables, the signals each rule names as sig_<code> identifiers.
-- key: period, household_key
--
-- inputs: int_risk_signals, param_risk, param_levels, param_signals, param_watch_groups,
--         param_status_groups, param_risk_clauses, param_labels
{% import '_macros.sql' as m %}
with

params as (
    select * from {{ ref('param_risk') }}
),

status_groups as (
    select * from {{ ref('param_status_groups') }}
),

clause_codes as (
    select * from {{ ref('param_risk_clauses') }}
),

-- one row: each signal's label, each watch group's label, each level's minimum count of signals
signal_labels as (
    select
        {%- for s in signals %}
        max(case when signal_order = {{ loop.index }} then label end) as signal_label_{{ s }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ ref('param_signals') }}
),

watch_group_labels as (
    select
        {%- for g in watch_groups %}
        max(case when watch_group_order = {{ loop.index }} then label end) as group_label_{{ g.code }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ ref('param_watch_groups') }}
),

level_rules as (
    select
        {%- for any_of in levels %}
        max(case when level_order = {{ loop.index }} then min_signals end) as min_signals_{{ loop.index }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ ref('param_levels') }}
),

-- ---- level and reasons: levels tested in order, first match wins; else the last level (none) ----
leveled as (
    select
        s.*,
        concat_ws('；'
        {%- for c in signals %},
            case when s.sig_{{ c }} then sl.signal_label_{{ c }} end
        {%- endfor %}
        ) as reasons_text,
        case
        {%- for any_of in levels %}
            when {{ m.any_signal(any_of) }} or (lr.min_signals_{{ loop.index }} > 0 and s.n_signals >= lr.min_signals_{{ loop.index }}) then {{ loop.index }}
        {%- endfor %}
            else {{ levels | length + 1 }}
        end as level_order
    from {{ ref('int_risk_signals') }} as s
    cross join signal_labels as sl
    cross join level_rules as lr
),

levels as (
    select
        l.*,
        pl.code as risk_level,
        pl.label as risk_level_label
    from leveled as l
    inner join {{ ref('param_levels') }} as pl on pl.level_order = l.level_order
),

-- ---- monitoring-category proposal ----------------------------------------------------------------
-- still poor (status group [categories].not_proposed_group) -> none: on the poor list; exited and
-- (below the range or unstable) -> 脱贫不稳定户; never registered and below the range -> 边缘易致贫户;
-- otherwise a spending spike / income collapse -> 突发严重困难户 (even above the range); a
-- never-registered or 边缘 household that is only unstable -> 边缘易致贫户.
not_proposed_statuses as (
    select g.code from status_groups as g inner join params as p on g.group_name = p.not_proposed_group
),

exited_statuses as (
    select g.code from status_groups as g inner join params as p on g.group_name = p.exited_group
),

categorised as (
    select
        *,
        monitoring_category is not null as monitored_recorded,
        case
            when coalesce(poverty_status in (select code from not_proposed_statuses), false) then null
            when coalesce(poverty_status in (select code from exited_statuses), false)
                 and (below_monitoring or {{ m.any_signal(unstable_signals) }}) then 'unstable_exited'
            when poverty_status is null and below_monitoring then 'marginal'
            when {{ m.any_signal(sudden_signals) }} then 'sudden_hardship'
            when (household_type = 'marginal' or poverty_status is null)
                 and {{ m.any_signal(unstable_signals) }} then 'marginal'
        end as proposed_category
    from levels
),

monitored as (
    select
        *,
        monitoring_category is not null or proposed_category is not null as monitored
    from categorised
),

-- ---- watch groups ("五类人"): a group holds when any of its clauses holds ------------------------
grouped as (
    select
        *
        {%- for g in watch_groups %},
        {{ m.any_clause(g.clauses) }} as wg_{{ g.code }}
        {%- endfor %}
    from monitored
),

-- ---- 风险消除 check, for households in monitoring (recorded category) ----------------------------
elimination as (
    select
        g.*,
        params.consecutive_quarters,
        g.quarters_above_monitoring >= params.consecutive_quarters as income_stably_above,
        {{ m.any_signal(blocking_signals) }} as elimination_blocked,
        {{ m.any_signal(keep_tracking_signals) }} as elimination_keep_tracking
    from grouped as g
    cross join params
),

final as (
    select
        -- ids
        e.period,
        e.household_key,
        e.county_code,
        e.township_code,
        e.village_code,
        -- status
        e.household_type,
        e.poverty_status,
        e.exit_year,
        e.main_cause,
        e.return_cause,
        e.monitoring_category,
        e.persons,
        -- income position, yuan per person per year
        e.income_per_capita,
        e.line_national,
        e.line_guideline,
        e.line_monitoring,
        e.ratio_national,
        e.ratio_guideline,
        e.ratio_monitoring,
        e.income_band,
        e.income_band_label,
        e.below_guideline,
        e.below_monitoring,
        -- measures behind the signals
        e.prev_income_per_capita,
        e.income_drop_pct,
        e.transfer_share,
        e.wage_share,
        e.migrant_members,
        e.capable_members,
        e.ill_or_disabled_members,
        e.rigid_spending_amount,
        e.last_year_net_income,
        e.last_year_income_source,
        e.deprivation_source,
        -- signals
        {%- for s in signals %}
        e.sig_{{ s }},
        {%- endfor %}
        -- level and reasons
        e.n_signals,
        e.risk_level,
        e.risk_level_label,
        case when e.n_signals > 0 then string_split(e.reasons_text, '；') else cast([] as varchar[]) end as reasons,
        e.reasons_text,
        e.crosscheck_evidence,  -- the department findings behind sig_xc_*: rule (department record date)
        -- monitoring category
        e.proposed_category,
        cl.label as proposed_category_label,
        e.monitored,
        -- watch groups
        {%- for g in watch_groups %}
        e.wg_{{ g.code }},
        {%- endfor %}
        concat_ws('、'
        {%- for g in watch_groups %},
            case when e.wg_{{ g.code }} then wl.group_label_{{ g.code }} end
        {%- endfor %}
        ) as watch_groups_text,
        -- 风险消除
        e.quarters_above_monitoring,
        case
            when not e.monitored_recorded then null
            when e.income_stably_above and not e.elimination_blocked and e.elimination_keep_tracking then 'keep_tracking'
            when e.income_stably_above and not e.elimination_blocked then 'eliminate'
            else 'stay_monitored'
        end as elimination_status,
        case when e.monitored_recorded then concat_ws('；',
            case when not e.income_stably_above
                 then '收入未连续' || cast(e.consecutive_quarters as varchar) || '个季度高于监测线' end
            {%- for c in blocking_signals %},
            case when e.sig_{{ c }} then sl.signal_label_{{ c }} end
            {%- endfor %}
            {%- for c in keep_tracking_signals %},
            case when e.sig_{{ c }} then sl.signal_label_{{ c }} || '(保持跟踪)' end
            {%- endfor %}
        ) end as elimination_blockers
    from elimination as e
    cross join signal_labels as sl
    cross join watch_group_labels as wl
    left join {{ ref('param_labels') }} as cl on cl.domain = 'proposed_category' and cl.code = e.proposed_category
)

select * from final
