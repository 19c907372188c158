-- quality_reasons: quarantined rows and findings by reason code (docs/data_contract.md §3).
-- Sources: `quarantine`, `findings`.
-- key: disposition, reason
with

params as (
    select * from {{ ref('param_run') }}
),

quarantined as (
    select '隔离(未入库)' as disposition, q.reason, count(*) as row_count
    from {{ ref('quarantine') }} as q
    cross join params as p
    where q.period = p.period
    group by q.reason
),

found as (
    select '入库并标记问题' as disposition, f.reason, count(*) as row_count
    from {{ ref('findings') }} as f
    cross join params as p
    where f.period = p.period
    group by f.reason
),

final as (
    select u.disposition, u.reason, u.row_count, u.disposition || '·' || u.reason as label
    from (select * from quarantined union all select * from found) as u
)

select * from final
order by disposition desc, row_count desc, reason
