-- int_household_incomes: registry households of one period with the per-capita income the
-- measures use and the groups of the subgroup profile.
-- The member facts come from the household base validate stores (int_household_deprivations:
-- persons -> households once per quarter), not from another pass over persons.
-- key: household_key
-- inputs: households, int_household_deprivations (one period), size_bands (band_order, min_size,
--         max_size, label: config/measures.toml [profile].size_bands, which do not overlap)
with

members as (
    select household_key, has_disabled_or_ill
    from {{ ref('int_household_deprivations') }}
),

incomes as (
    select
        -- ids
        h.household_key,
        h.county_code,
        h.township_code,
        h.village_code,
        -- numerics: per-capita net income (derived from the configured denominator, else as
        -- recorded), yuan per person per year; persons in the household weight it
        cast(coalesce(h.per_capita_net_income_derived, h.per_capita_net_income) as double) as income,
        cast(coalesce(h.household_size, h.member_count) as double) as persons,
        -- groups
        coalesce(h.household_attribute, 'unknown') as household_attribute,
        coalesce(h.main_cause, 'unknown') as main_cause,
        coalesce(h.household_size, h.member_count) as size,
        case when m.has_disabled_or_ill then 'true' else 'false' end as has_disabled_or_ill,
        coalesce(cast(h.relocated as varchar), 'unknown') as relocated
    from {{ ref('households') }} as h
    left join members as m on h.household_key = m.household_key
),

final as (
    select
        i.household_key,
        i.county_code,
        i.township_code,
        i.village_code,
        i.income,
        i.persons,
        i.household_attribute,
        i.main_cause,
        coalesce(b.label, 'unknown') as size_band,
        i.has_disabled_or_ill,
        i.relocated
    from incomes as i
    left join {{ ref('size_bands') }} as b on i.size between b.min_size and b.max_size
)

select * from final
