-- transitions: household flows from the previous snapshot to the period. Households are linked by
-- household_key; a household in only one snapshot is reported (presence appeared | disappeared,
-- presence_detail split | new | merged | gone, judged by where its members' person_key went),
-- never dropped. Status 'not_registered' = blank poverty_status, 'absent' = not in that snapshot.
-- Flows are named from the status groups poor / exited (config/policy.toml).
-- key: period, household_key
--
-- inputs: int_household_base, int_household_base_prev, int_person_moves, risk (this period),
--         param_transition (period, previous_period), param_status_groups
with

compared as (
    select * from {{ ref('param_transition') }}
),

poor_statuses as (
    select code from {{ ref('param_status_groups') }} where group_name = 'poor'
),

exited_statuses as (
    select code from {{ ref('param_status_groups') }} where group_name = 'exited'
),

-- each snapshot's household base (persons grouped once per snapshot)
current_households as (
    select * from {{ ref('int_household_base') }}
),

previous_households as (
    select * from {{ ref('int_household_base_prev') }}
),

-- persons who changed household between the snapshots (int_person_moves: one join of both)
moved as (
    select household_now, household_before
    from {{ ref('int_person_moves') }}
    where in_now and in_before and household_before <> household_now
),

-- members of a new household who were in another household before (split / re-formed)
appeared_from_elsewhere as (
    select distinct household_now as household_key from moved
),

-- members of a vanished household who now live in another household (merged)
disappeared_into_elsewhere as (
    select distinct household_before as household_key from moved
),

joined as (
    select
        coalesce(c.household_key, p.household_key) as household_key,
        coalesce(c.county_code, p.county_code) as county_code,
        coalesce(c.township_code, p.township_code) as township_code,
        coalesce(c.village_code, p.village_code) as village_code,
        case
            when p.household_key is null then 'appeared'
            when c.household_key is null then 'disappeared'
            else 'both'
        end as presence,
        case
            when p.household_key is null and ae.household_key is not null then 'split'
            when p.household_key is null then 'new'
            when c.household_key is null and de.household_key is not null then 'merged'
            when c.household_key is null then 'gone'
        end as presence_detail,
        coalesce(p.status, 'absent') as from_status,
        coalesce(c.status, 'absent') as to_status,
        p.monitoring_category as from_monitoring_category,
        c.monitoring_category as to_monitoring_category,
        coalesce(p.member_count, p.members, p.household_size) as persons_from,
        coalesce(c.member_count, c.members, c.household_size) as persons_to,
        p.income_per_capita as income_from,
        c.income_per_capita as income_to,
        c.main_cause,
        c.return_cause
    from current_households as c
    full outer join previous_households as p on p.household_key = c.household_key
    left join appeared_from_elsewhere as ae on ae.household_key = c.household_key
    left join disappeared_into_elsewhere as de on de.household_key = p.household_key
),

-- each side's status group: poor, exited or neither (null)
with_groups as (
    select
        *,
        case
            when from_status in (select code from poor_statuses) then 'poor'
            when from_status in (select code from exited_statuses) then 'exited'
        end as from_group,
        case
            when to_status in (select code from poor_statuses) then 'poor'
            when to_status in (select code from exited_statuses) then 'exited'
        end as to_group
    from joined
),

flows as (
    select
        *,
        case
            when presence = 'appeared' and presence_detail = 'new' and to_group = 'poor' then 'newly_poor'
            when presence = 'appeared' then 'appeared'
            when presence = 'disappeared' then 'disappeared'
            when from_group = 'poor' and to_group = 'poor' then 'stayed_poor'
            when from_group = 'poor' and to_group = 'exited' then 'exited'
            when from_group = 'exited' and to_group = 'poor' then 'returned_to_poverty'
            when from_status = 'not_registered' and to_group = 'poor' then 'newly_poor'
            when from_group = 'exited' and to_group = 'exited' then 'stayed_exited'
            when from_status = 'not_registered' and to_status = 'not_registered' then 'stayed_not_registered'
            else 'other'
        end as status_flow,
        case
            when from_monitoring_category is null and to_monitoring_category is not null then 'entered_monitoring'
            when from_monitoring_category is not null and to_monitoring_category is null and presence = 'disappeared' then 'left_monitoring_gone'
            when from_monitoring_category is not null and to_monitoring_category is null
                 and to_group = 'poor' then 'left_monitoring_to_poverty'
            when from_monitoring_category is not null and to_monitoring_category is null then 'risk_eliminated'
            when from_monitoring_category <> to_monitoring_category then 'changed_category'
            when from_monitoring_category is not null then 'stayed_monitored'
        end as monitoring_flow,
        income_to - income_from as income_change,
        case when income_from > 0 then round((income_to - income_from) / income_from, 6) end as income_change_pct
    from with_groups
),

final as (
    select
        -- ids
        compared.period,
        compared.previous_period,
        f.household_key,
        f.county_code,
        f.township_code,
        f.village_code,
        -- presence across the two snapshots
        f.presence,
        f.presence_detail,
        -- status flow
        f.from_status,
        f.to_status,
        f.status_flow,
        f.from_monitoring_category,
        f.to_monitoring_category,
        f.monitoring_flow,
        -- persons and income behind the move, yuan per person per year
        f.persons_from,
        f.persons_to,
        f.income_from,
        f.income_to,
        f.income_change,
        f.income_change_pct,
        -- why
        f.main_cause,
        f.return_cause,
        r.risk_level,
        r.reasons_text
    from flows as f
    cross join compared
    left join {{ ref('risk') }} as r on r.household_key = f.household_key
)

select * from final
