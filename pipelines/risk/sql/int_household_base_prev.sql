-- int_household_base_prev: the previous snapshot's households as transitions and transition_matrix
-- read them (the from side): status, monitoring category, income per capita, recorded sizes, and
-- members (person rows) only where member_count is blank, the one place they are read
-- (persons_from = coalesce(member_count, members, household_size)). The previous quarter's member
-- facts (able to work, migrants, ill) are not read by any model, so persons_prev is not grouped
-- whole: only the person rows of households without a member_count are counted.
-- key: household_key
--
-- inputs: households_prev, persons_prev
{% import '_macros.sql' as m with context %}
with

unknown_size as (
    select household_key from {{ ref('households_prev') }} where member_count is null
),

member_rows as (
    select household_key, count(*) as members
    from {{ ref('persons_prev') }}
    where household_key in (select household_key from unknown_size)
    group by household_key
),

final as (
    select
        {{ m.household_ids_status('h') }},
        {{ m.income_per_capita('h') }} as income_per_capita,
        -- sizes
        h.member_count,
        h.household_size,
        m.members
    from {{ ref('households_prev') }} as h
    left join member_rows as m on m.household_key = h.household_key
)

select * from final
