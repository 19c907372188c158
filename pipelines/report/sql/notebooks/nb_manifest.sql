-- nb_manifest: the raw files behind the period's tables for the notebook's region: every file at
-- the city level, the county's registry export (files named <county code>_…) below it.
-- key: source_file, sheet
--
-- inputs: ingest_manifest, param_notebook (period, region_code, region_level)
with

nb as (
    select * from {{ ref('param_notebook') }}
),

final as (
    select
        m.source_file,
        m.source_kind,
        m.sheet,
        m.encoding,
        m.rows_read,
        m.rows_loaded,
        m.rows_quarantined,
        m.missing_columns
    from {{ ref('ingest_manifest') }} as m
    cross join nb
    where m.period = nb.period
      and (nb.region_level = 'city'
           or regexp_extract(m.source_file, '(?:^|/)([0-9]{6})_[^/]*$', 1) = substr(nb.region_code, 1, 6))
)

select * from final
