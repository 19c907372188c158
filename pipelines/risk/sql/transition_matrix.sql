-- transition_matrix: households and persons by (from_status, to_status), {{ previous }} -> {{ period }}.
-- Households from the transitions table; persons followed by person_key through their household's
-- status in each snapshot ('absent' when not in it), so persons who moved between households
-- (split/merge) are counted once. Rows out of a status sum to its count in {{ previous }},
-- rows into a status to its count in {{ period }}.
-- grain: one row per (from_status, to_status) pair that occurs.

with

household_flows as (
    select
        from_status,
        to_status,
        count(*) as households,
        cast(sum(coalesce(persons_from, 0)) as bigint) as persons_in_households_from,
        cast(sum(coalesce(persons_to, 0)) as bigint) as persons_in_households_to,
        avg(income_change) as mean_income_change
    from transitions
    group by from_status, to_status
),

person_status_current as (
    select p.person_key, coalesce(h.poverty_status, 'not_registered') as status
    from persons as p
    left join households as h on h.household_key = p.household_key
),

person_status_previous as (
    select p.person_key, coalesce(h.poverty_status, 'not_registered') as status
    from persons_prev as p
    left join households_prev as h on h.household_key = p.household_key
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
        '{{ period }}' as period,
        '{{ previous }}' as previous_period,
        coalesce(h.from_status, p.from_status) as from_status,
        coalesce(h.to_status, p.to_status) as to_status,
        case coalesce(h.from_status, p.from_status)
        {%- for code, label in status_labels.items() %}
            when '{{ code }}' then '{{ label | sqlstr }}'
        {%- endfor %}
        end as from_status_label,
        case coalesce(h.to_status, p.to_status)
        {%- for code, label in status_labels.items() %}
            when '{{ code }}' then '{{ label | sqlstr }}'
        {%- endfor %}
        end as to_status_label,
        coalesce(h.households, 0) as households,
        coalesce(p.persons, 0) as persons,
        coalesce(h.persons_in_households_from, 0) as persons_in_households_from,
        coalesce(h.persons_in_households_to, 0) as persons_in_households_to,
        h.mean_income_change
    from household_flows as h
    full outer join person_flows as p
        on p.from_status = h.from_status and p.to_status = h.to_status
)

select * from final
