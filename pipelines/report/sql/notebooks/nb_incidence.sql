-- nb_incidence: the administrative 贫困发生率 (未脱贫 and 返贫 registered persons ÷ 农村户籍人口) and
-- the poor persons it counts, for each unit of the drill path, in the period and the comparison
-- period (the measures stage computes it at every level: city, county, township, village).
-- key: period, unit_level, unit_code
--
-- inputs: nb_units, measures, param_notebook (period, compare_period)
with

nb as (
    select * from {{ ref('param_notebook') }}
),

wide as (
    select
        m.period,
        m.region_level,
        m.region_code,
        max(m.estimate) filter (where m.measure = 'incidence_administrative') as incidence,
        max(m.estimate) filter (where m.measure = 'poor_persons_administrative') as poor_persons,
        max(m.n_weighted) filter (where m.measure = 'incidence_administrative') as rural_population
    from {{ ref('measures') }} as m
    cross join nb
    where m.data_source = 'registry'
      and m.measure in ('incidence_administrative', 'poor_persons_administrative')
      and (m.period = nb.period or m.period = nb.compare_period)
    group by m.period, m.region_level, m.region_code
),

final as (
    select
        w.period,
        u.unit_order,
        u.role,
        u.unit_level,
        u.unit_code,
        u.unit_name,
        w.incidence,
        w.poor_persons,
        w.rural_population
    from {{ ref('nb_units') }} as u
    inner join wide as w on w.region_level = u.unit_level and w.region_code = u.unit_code
)

select * from final
