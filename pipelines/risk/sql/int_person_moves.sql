-- int_person_moves: every person of either snapshot (previous -> period) by person_key, with the
-- household it is in at each (in_now / in_before: whether it is in that snapshot). One join of the two person tables,
-- shared by transitions (split / merged households) and transition_matrix (person flows).
-- A person_key found in two households of one snapshot (a registry error) gives a row per pair,
-- as the joins it replaces counted them.
-- key: person_key, household_now?, household_before?
--
-- inputs: persons, persons_prev
with

final as (
    select
        coalesce(pc.person_key, pp.person_key) as person_key,
        pc.person_key is not null as in_now,
        pp.person_key is not null as in_before,
        pc.household_key as household_now,
        pp.household_key as household_before
    from {{ ref('persons') }} as pc
    full outer join {{ ref('persons_prev') }} as pp on pp.person_key = pc.person_key
)

select * from final
