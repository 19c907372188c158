-- transition_sankey: households moving between poverty statuses from the previous quarter to the
-- report period (links of the Sankey diagram). Source: `transition_matrix` (risk stage).
-- key: from_status, to_status
with

params as (
    select * from {{ ref('param_run') }}
),

final as (
    select
        m.previous_period,
        m.from_status,
        m.to_status,
        m.from_status_label,
        m.to_status_label,
        m.households,
        m.persons
    from {{ ref('transition_matrix') }} as m
    cross join params as p
    where m.period = p.period
      and m.households > 0
)

select * from final
order by from_status, to_status
