-- transition_matrix: households and persons by (from_status, to_status), previous snapshot -> period.
-- Households from the transitions table; persons followed by person_key through their household's
-- status in each snapshot ('absent' when not in it), so persons who moved between households
-- (split/merge) are counted once. Rows out of a status sum to its count in the previous snapshot,
-- rows into a status to its count in the period. One row per (from_status, to_status) that occurs.
-- key: period, from_status, to_status
--
-- inputs: transitions, households, households_prev, persons, persons_prev, param_transition,
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
        avg(income_change) as mean_income_change
    from {{ ref('transitions') }}
    group by from_status, to_status
),

person_status_current as (
    select p.person_key, coalesce(h.poverty_status, 'not_registered') as status
    from {{ ref('persons') }} as p
    left join {{ ref('households') }} as h on h.household_key = p.household_key
),

person_status_previous as (
    select p.person_key, coalesce(h.poverty_status, 'not_registered') as status
    from {{ ref('persons_prev') }} as p
    left join {{ ref('households_prev') }} as h on h.household_key = p.household_key
),

person_flows as (
    select
        coalesce(pp.status, 'absent') as from_status,
        coalesce(pc.status, 'absent') as to_status,
        count(*) as persons
    from person_status_current as pc
    full outer join person_status_previous as pp on pp.person_key = pc.person_key
    group by coalesce(pp.status, 'absent'), coalesce(pc.status, 'absent')
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
