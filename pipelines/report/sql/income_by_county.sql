-- income_by_county (收入账): registered households, person-weighted mean per-capita net income and
-- the shares of the four income components in gross income, by county with the city total.
-- Per-capita income = per_capita_net_income_derived, else as recorded (as the measures stage).
-- Source: `households` (registry, yuan per person per year).
-- requires: households
with

params as (
    select * from report_params
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
    from households as h
    cross join params as p
    where h.period = p.period
),

counted as (
    select
        0 as is_total,
        county_code,
        count(*) as households,
        sum(persons) as persons,
        sum(income_pc * persons) / nullif(sum(case when income_pc is not null then persons end), 0) as mean_income_pc,
        sum(wage_income) as wage_income,
        sum(operating_income) as operating_income,
        sum(property_income) as property_income,
        sum(transfer_income) as transfer_income,
        sum(gross_income) as gross_income
    from incomes
    group by county_code
    union all
    select
        1, null, count(*), sum(persons),
        sum(income_pc * persons) / nullif(sum(case when income_pc is not null then persons end), 0),
        sum(wage_income), sum(operating_income), sum(property_income), sum(transfer_income), sum(gross_income)
    from incomes
),

final as (
    select
        c.is_total,
        c.county_code,
        case when c.is_total = 1 then '合计' else coalesce(rn.name, c.county_code) end as county_name,
        c.households,
        c.persons,
        c.mean_income_pc,
        c.wage_income / nullif(c.gross_income, 0) as wage_share,
        c.operating_income / nullif(c.gross_income, 0) as operating_share,
        c.property_income / nullif(c.gross_income, 0) as property_share,
        c.transfer_income / nullif(c.gross_income, 0) as transfer_share
    from counted as c
    left join region_names as rn on rn.level = 'county' and rn.code = c.county_code
)

select * from final
order by is_total, county_code
