-- ingest_quality: rows read, loaded and quarantined per source kind for the period, and the number
-- of findings on loaded rows. Sources: `ingest_manifest`, `findings`.
-- key: source_kind
with

params as (
    select * from {{ ref('param_run') }}
),

manifest as (
    select
        m.source_kind,
        count(*) as files,
        sum(m.rows_read) as rows_read,
        sum(m.rows_loaded) as rows_loaded,
        sum(m.rows_quarantined) as rows_quarantined
    from {{ ref('ingest_manifest') }} as m
    cross join params as p
    where m.period = p.period
    group by m.source_kind
),

found as (
    select f.source_kind, count(*) as findings
    from {{ ref('findings') }} as f
    cross join params as p
    where f.period = p.period
    group by f.source_kind
),

final as (
    select
        m.source_kind,
        coalesce(lb.label, m.source_kind) as source_label,
        m.files,
        m.rows_read,
        m.rows_loaded,
        m.rows_quarantined,
        coalesce(f.findings, 0) as findings
    from manifest as m
    left join found as f on f.source_kind = m.source_kind
    left join {{ ref('param_labels') }} as lb on lb.domain = 'source_kind' and lb.code = m.source_kind
)

select * from final
order by source_kind
