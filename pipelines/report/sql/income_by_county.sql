-- income_by_county: (收入账) registered households, person-weighted mean per-capita net income and
-- the shares of the four income components in gross income, by county with the city total.
-- Per-capita income = per_capita_net_income_derived, else as recorded (as the measures stage).
-- Source: `households` (registry, yuan per person per year).
-- key: is_total, county_code?
{% import '_macros.sql' as m %}
with

params as (
    select * from {{ ref('param_run') }}
),

incomes as (
    select
        h.county_code,
        coalesce(h.household_size, h.member_count) as persons,
        coalesce(h.per_capita_net_income_derived, h.per_capita_net_income) as income_pc,
        h.wage_income,
        h.operating_income,
        h.property_income,
        h.transfer_income,
        h.gross_income
    from {{ ref('households') }} as h
    cross join params as p
    where h.period = p.period
),

final as (
    {{ m.by_region('incomes', ref('region_names'), ref('param_report'), aggregates={
        'households': 'count(*)',
        'persons': 'sum(s.persons)',
        'mean_income_pc': 'sum(s.income_pc * s.persons) / nullif(sum(case when s.income_pc is not null then s.persons end), 0)',
        'wage_income': 'sum(s.wage_income)',
        'operating_income': 'sum(s.operating_income)',
        'property_income': 'sum(s.property_income)',
        'transfer_income': 'sum(s.transfer_income)',
        'gross_income': 'sum(s.gross_income)'},
      derived={
        'wage_share': 't.wage_income / nullif(t.gross_income, 0)',
        'operating_share': 't.operating_income / nullif(t.gross_income, 0)',
        'property_share': 't.property_income / nullif(t.gross_income, 0)',
        'transfer_share': 't.transfer_income / nullif(t.gross_income, 0)'}) }}
)

select * from final
order by is_total, county_code
