-- nb_quality: rows ingest quarantined and loaded rows it flagged (findings) by reason, for the
-- notebook's region in the period. A finding belongs to the region of its household; a quarantined
-- row has no trusted location, so it belongs to the county whose export it came from (registry
-- files are named <county code>_…): below the county level `scope` says 'county_file'. At the city
-- level every row counts.
-- key: source_kind, disposition, reason, scope
--
-- inputs: quarantine, findings, households, param_notebook (period, region_code, region_level)
with

nb as (
    select * from {{ ref('param_notebook') }}
),

filed as (
    select
        q.source_kind,
        q.reason,
        regexp_extract(q.source_file, '(?:^|/)([0-9]{6})_[^/]*$', 1) as file_county
    from {{ ref('quarantine') }} as q
    cross join nb
    where q.period = nb.period
),

quarantined as (
    select
        f.source_kind,
        'quarantine' as disposition,
        f.reason,
        case when nb.region_level in ('city', 'county') then 'region' else 'county_file' end as scope,
        count(*) as row_count
    from filed as f
    cross join nb
    where nb.region_level = 'city' or f.file_county = substr(nb.region_code, 1, 6)
    group by all
),

flagged as (
    select
        f.source_kind,
        'finding' as disposition,
        f.reason,
        'region' as scope,
        count(*) as row_count
    from {{ ref('findings') }} as f
    cross join nb
    left join {{ ref('households') }} as h on h.period = f.period and h.household_key = f.household_key
    where f.period = nb.period
      and (nb.region_level = 'city' or starts_with(h.village_code, nb.region_code))
    group by all
),

final as (
    select * from quarantined
    union all
    select * from flagged
)

select * from final
