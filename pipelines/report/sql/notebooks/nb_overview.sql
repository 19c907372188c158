-- nb_overview: each unit of the drill path (nb_units) in the period (and the comparison period):
-- registered households and persons, still-poor households and persons, households below the
-- provincial guideline, at high risk, monitored, and with any 两不愁三保障 / 饮水 gap; and the
-- administrative 贫困发生率 of the measures stage for the unit.
-- key: period, unit_level, unit_code
--
-- Units above the region show their own totals (the context of the drill path); no household of
-- another unit is listed.
--
-- inputs: nb_units, risk, measures, param_poor_statuses (code), param_notebook
with

nb as (
    select * from {{ ref('param_notebook') }}
),

poor as (
    select code from {{ ref('param_poor_statuses') }}
),

periods as (
    select period from nb
    union
    select compare_period from nb where compare_period is not null
),

flagged as (
    select
        h.*,
        h.poverty_status in (select code from poor) as is_poor,
        (h.sig_gap_food or h.sig_gap_clothing or h.sig_gap_education or h.sig_gap_medical
            or h.sig_gap_housing or h.sig_gap_water) as has_gap
    from {{ ref('risk') }} as h
    where h.period in (select period from periods)
),

counted as (
    select
        p.period,
        u.unit_level,
        u.unit_code,
        count(h.household_key) as households,
        coalesce(sum(h.persons), 0) as persons,
        count(*) filter (where h.is_poor) as poor_households,
        coalesce(sum(h.persons) filter (where h.is_poor), 0) as poor_persons,
        count(*) filter (where h.below_guideline) as below_guideline_households,
        count(*) filter (where h.risk_level = 'high') as high_risk_households,
        count(*) filter (where h.monitored) as monitored_households,
        count(*) filter (where h.has_gap) as gap_households
    from {{ ref('nb_units') }} as u
    cross join periods as p
    left join flagged as h on h.period = p.period and starts_with(h.village_code, u.unit_code)
    group by p.period, u.unit_level, u.unit_code
),

incidence as (
    select period, region_level, region_code, estimate
    from {{ ref('measures') }}
    where measure = 'incidence_administrative' and data_source = 'registry'
),

final as (
    select
        c.period,
        u.unit_order,
        u.role,
        c.unit_level,
        c.unit_code,
        u.unit_name,
        cast(c.households as bigint) as households,
        cast(c.persons as bigint) as persons,
        cast(c.poor_households as bigint) as poor_households,
        cast(c.poor_persons as bigint) as poor_persons,
        cast(c.below_guideline_households as bigint) as below_guideline_households,
        cast(c.high_risk_households as bigint) as high_risk_households,
        cast(c.monitored_households as bigint) as monitored_households,
        cast(c.gap_households as bigint) as gap_households,
        i.estimate as incidence_administrative
    from counted as c
    inner join {{ ref('nb_units') }} as u on u.unit_level = c.unit_level and u.unit_code = c.unit_code
    left join incidence as i
        on i.period = c.period and i.region_level = c.unit_level and i.region_code = c.unit_code
)

select * from final
