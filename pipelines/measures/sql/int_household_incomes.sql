-- int_household_incomes: registry households of one period with the per-capita income the
-- measures use and the groups of the subgroup profile.
-- inputs: households, persons (one period); size bands from config/measures.toml [profile]
with

members as (
    select
        household_key,
        max(case when coalesce(health_disabled, false) or coalesce(health_serious_illness, false)
            then 1 else 0 end) as has_disabled_or_ill
    from persons
    group by household_key
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
        case when m.has_disabled_or_ill = 1 then 'true' else 'false' end as has_disabled_or_ill,
        coalesce(cast(h.relocated as varchar), 'unknown') as relocated
    from households as h
    left join members as m on h.household_key = m.household_key
),

final as (
    select
        household_key,
        county_code,
        township_code,
        village_code,
        income,
        persons,
        household_attribute,
        main_cause,
        case
            {%- for band in size_bands %}
            when size between {{ band.min }} and {{ band.max }} then '{{ band.label }}'
            {%- endfor %}
            else 'unknown'
        end as size_band,
        has_disabled_or_ill,
        relocated
    from incomes
)

select * from final
