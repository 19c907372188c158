-- transition_matrix: households and persons by (from_status, to_status), previous snapshot -> period.
-- Households from the transitions table; persons followed by person_key through their household's
-- status in each snapshot ('absent' when not in it), so persons who moved between households
-- (split/merge) are counted once. Rows out of a status sum to its count in the previous snapshot,
-- rows into a status to its count in the period. One row per (from_status, to_status) that occurs.
-- key: period, from_status, to_status
--
-- inputs: transitions, int_person_moves, int_household_base, int_household_base_prev, param_transition,
--         param_status_labels
with

compared as (
    select * from {{ ref('param_transition') }}
),

household_flows as (
    select
        from_status,
        to_status,
        count(*) as households,
        cast(sum(coalesce(persons_from, 0)) as bigint) as persons_in_households_from,
        cast(sum(coalesce(persons_to, 0)) as bigint) as persons_in_households_to,
        -- summed as exact decimals (1e-10 yuan): the same mean whatever order the rows arrive in
        cast(avg(cast(income_change as decimal(38, 10))) as double) as mean_income_change
    from {{ ref('transitions') }}
    group by from_status, to_status
),

-- each person's household status in each snapshot ('absent' when not in it)
person_statuses as (
    select
        case when m.in_before then coalesce(hp.status, 'not_registered') else 'absent' end as from_status,
        case when m.in_now then coalesce(hc.status, 'not_registered') else 'absent' end as to_status
    from {{ ref('int_person_moves') }} as m
    left join {{ ref('int_household_base') }} as hc on hc.household_key = m.household_now
    left join {{ ref('int_household_base_prev') }} as hp on hp.household_key = m.household_before
),

person_flows as (
    select from_status, to_status, count(*) as persons
    from person_statuses
    group by from_status, to_status
),

final as (
    select
        compared.period,
        compared.previous_period,
        coalesce(h.from_status, p.from_status) as from_status,
        coalesce(h.to_status, p.to_status) as to_status,
        fl.label as from_status_label,
        tl.label as to_status_label,
        coalesce(h.households, 0) as households,
        coalesce(p.persons, 0) as persons,
        coalesce(h.persons_in_households_from, 0) as persons_in_households_from,
        coalesce(h.persons_in_households_to, 0) as persons_in_households_to,
        h.mean_income_change
    from household_flows as h
    full outer join person_flows as p
        on p.from_status = h.from_status and p.to_status = h.to_status
    cross join compared
    left join {{ ref('param_status_labels') }} as fl on fl.code = coalesce(h.from_status, p.from_status)
    left join {{ ref('param_status_labels') }} as tl on tl.code = coalesce(h.to_status, p.to_status)
)

select * from final
