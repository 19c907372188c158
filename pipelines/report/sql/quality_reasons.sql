-- quality_reasons: quarantined rows and findings by reason code (docs/data_contract.md §3).
-- Sources: `quarantine`, `findings`.
-- requires: quarantine, findings
with

params as (
    select * from report_params
),

quarantined as (
    select '隔离(未入库)' as disposition, q.reason, count(*) as row_count
    from quarantine as q
    cross join params as p
    where q.period = p.period
    group by q.reason
),

found as (
    select '入库并标记问题' as disposition, f.reason, count(*) as row_count
    from findings as f
    cross join params as p
    where f.period = p.period
    group by f.reason
),

final as (
    select * from quarantined
    union all
    select * from found
)

select * from final
order by disposition desc, row_count desc, reason
