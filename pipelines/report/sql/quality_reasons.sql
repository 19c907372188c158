-- quality_reasons: quarantined rows and findings by reason code (docs/data_contract.md §3).
-- Sources: `quarantine`, `findings`.
-- key: disposition, reason
with

params as (
    select * from {{ ref('param_run') }}
),

quarantined as (
    select 'quarantine' as disposition, q.reason, count(*) as row_count
    from {{ ref('quarantine') }} as q
    cross join params as p
    where q.period = p.period
    group by q.reason
),

found as (
    select 'finding' as disposition, f.reason, count(*) as row_count
    from {{ ref('findings') }} as f
    cross join params as p
    where f.period = p.period
    group by f.reason
),

final as (
    select
        u.disposition,
        coalesce(ld.label, u.disposition) as disposition_label,
        u.reason,
        coalesce(lr.label, u.reason) as reason_label,
        u.row_count,
        coalesce(ld.label, u.disposition) || '·' || coalesce(lr.label, u.reason) as label
    from (select * from quarantined union all select * from found) as u
    left join {{ ref('param_labels') }} as ld on ld.domain = 'disposition' and ld.code = u.disposition
    left join {{ ref('param_labels') }} as lr on lr.domain = 'reason' and lr.code = u.reason
)

select * from final
order by disposition desc, row_count desc, reason
